"""Spec vars: the ``vars`` section, a variant's values and ``--set`` overrides.

A var is a number (at most 1e15 in size), a boolean or text. A variant and
``--set`` may only set vars the spec declares; ``--set`` wins over the variant,
which wins over the spec. An error about a ``--set`` value points at the var.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lightcost.core.errors import Loc, SpecError, describe, did_you_mean, listing, short
from lightcost.spec.expr import Value
from lightcost.spec.located import LMap
from lightcost.spec.names import check_reserved
from lightcost.spec.values import in_range


def variables(
    section: LMap, variant_vars: LMap | None, overrides: Mapping[str, Value]
) -> dict[str, Value]:
    """The vars of ``section`` with the variant's values and then ``overrides`` applied."""
    out: dict[str, Value] = {}
    for key, value in section.items():
        check_reserved(key, f"var '{key}'", section.key_loc(key))
        out[key] = var_value(f"var '{key}'", value, section.loc_of(key))
    chosen = variant_vars if variant_vars is not None else LMap.empty(section.loc)
    for key, value in chosen.items():
        check_reserved(key, f"var '{key}'", chosen.key_loc(key))
        if key not in out:
            raise SpecError(
                f"variant sets '{key}', which is not in the spec's vars{did_you_mean(key, out)}",
                chosen.key_loc(key),
            )
        out[key] = var_value(f"var '{key}'", value, chosen.loc_of(key))
    for key, value in overrides.items():
        check_reserved(key, f"--set {key}: '{key}'", section.loc)
        if key not in out:
            raise SpecError(
                f"--set {key}: the spec has no var {short(key)}"
                f"{did_you_mean(str(key), out)} (vars: {listing(out) or 'none'})",
                section.loc,
            )
        out[key] = var_value(f"--set {key}", value, section.loc_of(key))
    return out


def var_value(what: str, value: Any, where: Loc) -> Value:
    """A spec var's value: a number in range, a boolean or text."""
    if isinstance(value, str) or (isinstance(value, int | float) and in_range(value)):
        return value
    raise SpecError(
        f"{what} must be a number (at most 1e15 in size), a boolean or text, got {describe(value)}",
        where,
    )
