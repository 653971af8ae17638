"""The batch and resolution keys of a budget entry, as written in YAML (:mod:`.budgets`)."""

from __future__ import annotations

from typing import Any

from lightcost.core.errors import Loc, SpecError
from lightcost.cost.engine import MAX_BATCH
from lightcost.ops import MAX_SIZE
from lightcost.spec.located import LList
from lightcost.spec.sections import Resolution, parse_resolution
from lightcost.spec.values import whole_in

RESOLUTION_SCHEMA = {
    "oneOf": [
        {"type": "integer", "minimum": 1},
        {"type": "string", "pattern": "^[0-9]+([xX][0-9]+)?$"},
        {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 2, "maxItems": 2},
    ]
}
BATCH_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_BATCH}


def resolution(key: str, value: Any, where: Loc) -> Resolution:
    """One number (height = width), ``HxW`` text or a list ``[height, width]``."""
    if isinstance(value, LList) and len(value) == 2:
        if not all(whole_in(v, 1, MAX_SIZE) for v in value):
            raise SpecError(
                f"'{key}': each side must be a whole number from 1 to {MAX_SIZE}", where
            )
        return (value[0], value[1])
    if isinstance(value, str):
        try:
            return parse_resolution(value)
        except ValueError as exc:
            raise SpecError(f"'{key}': {exc}", where) from None
    if isinstance(value, int) and not isinstance(value, bool):
        return value  # its range is checked by the analysis
    raise SpecError(f"'{key}' must be a number, HxW (e.g. 160x128) or [height, width]", where)


def batch(key: str, value: Any, where: Loc) -> int:
    """A whole number of inputs per batch, 1 to MAX_BATCH."""
    if not whole_in(value, 1, MAX_BATCH):
        raise SpecError(f"'{key}' must be a whole number from 1 to {MAX_BATCH}", where)
    return int(value)
