"""Architecture budgets: where they are written, how limits are read, whether they hold.

A budget is a set of limits on model-level figures (any name in
:data:`lightcost.cost.figures.FIGURES`) of one spec at one configuration. Budgets are
written in a spec's ``budget:`` section (one entry or a list of entries) or in
a project file, ``budgets.yaml``, whose ``budgets:`` list names the specs::

    budgets:
      - spec: specs/*.yaml      # a path or glob, relative to this file; or a bundled name
        madds: 600M
      - spec: mobilenet_v2
        width: 0.75             # configuration keys: see BUDGET_KEYS
        madds: 220M
        params: 2.7M

Conventions:

* A limit is an upper bound (a lower bound for a figure that is not
  ``lower_is_better``); a figure equal to its limit holds.
* Limits are numbers with an optional suffix (:func:`parse_limit`): an SI
  multiplier of the figure's own unit (``300k``, ``4.3M``, ``1.2G``), or a
  unit of bytes (``2MiB``, ``512kB``) or time (``5ms``), converted to the
  figure's unit.
* Headroom is ``(limit - actual) / limit`` in percent: negative when exceeded.
* Spec paths in a project file, and device profile paths in a budget, are
  relative to the directory of the file they are written in.
* An error inside the spec that a configuration key causes (the spec builds
  without it: a ``set`` value, a variant, a size) is located at that key, with
  the spec's own location in the message.
"""

from __future__ import annotations

import glob
import itertools
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from lightcost.analysis.limits import LIMIT_EXAMPLES, parse_limit, unit_scale
from lightcost.analysis.sizes import BATCH_SCHEMA, RESOLUTION_SCHEMA, batch, resolution
from lightcost.api import Config
from lightcost.core.errors import Loc, SpecError, did_you_mean
from lightcost.cost.engine import PARAM_CONVENTIONS
from lightcost.cost.figures import FIGURES, Figure
from lightcost.cost.latency import find_device
from lightcost.spec.files import find_spec, read_spec, read_text
from lightcost.spec.located import LList, LMap, check_keys, loc_of, parse_yaml

PROJECT_KEY = "budgets"
SPEC_SECTION = "budget"
SPEC_KEY = "spec"
MAX_MATCHES = 1000  # paths one spec glob of a budgets file may match


@dataclass(frozen=True)
class Limit:
    """One limit of a budget: a figure, its bound in the figure's unit, where it is written."""

    figure: str
    value: float
    text: str
    loc: Loc


@dataclass(frozen=True)
class Budget:
    """Limits on one spec at one configuration (``config``: budget keys as written, read)."""

    spec: str
    config: Mapping[str, Any]
    limits: tuple[Limit, ...]
    loc: Loc
    keys: Mapping[str, Loc] = field(default_factory=dict)  # where each config key is written
    failed: SpecError | None = None  # the error reading it (a bad budget: section), if any

    def as_config(self) -> Config:
        """The configuration of the analysis, through :data:`BUDGET_KEYS`."""
        fields = {BUDGET_KEYS[key].field: value for key, value in self.config.items()}
        if "device" in fields:  # a path relative to the budget's file, else a bundled name
            beside = os.path.join(os.path.dirname(self.loc.file), fields["device"])
            fields["device"] = beside if os.path.lexists(beside) else fields["device"]
        return Config(**fields)

    def without(self, key: str) -> Budget:
        """This budget without configuration key ``key``."""
        return replace(self, config={k: v for k, v in self.config.items() if k != key})


@dataclass(frozen=True)
class Result:
    """A limit checked against the figure the spec actually has."""

    budget: Budget
    limit: Limit
    model: str
    actual: int | float

    @property
    def figure(self) -> Figure:
        """The registry entry of the limited figure."""
        return FIGURES[self.limit.figure]

    @property
    def passed(self) -> bool:
        """Whether the figure is within its limit (equal holds)."""
        if self.figure.lower_is_better:
            return self.actual <= self.limit.value
        return self.actual >= self.limit.value

    @property
    def headroom(self) -> float | None:
        """Percent of the limit left (negative when exceeded); None for a zero limit."""
        if self.limit.value == 0:
            return None
        spare = self.limit.value - self.actual
        sign = 1 if self.figure.lower_is_better else -1
        return float(100 * sign * spare / self.limit.value)


class CheckError(NamedTuple):
    """A budget that could not be checked: its spec, and the error (located when possible)."""

    spec: str
    error: SpecError

    @property
    def loc(self) -> Loc | None:
        """Where the error is: in the spec, the budget or the budgets file."""
        return self.error.loc


@dataclass(frozen=True)
class Report:
    """Every result of one check, every spec it analyzed (with or without budgets), and the
    budgets whose spec or configuration failed (``errors``: each checked apart, so one bad
    spec does not stop the others)."""

    results: tuple[Result, ...]
    specs: tuple[str, ...]
    errors: tuple[CheckError, ...] = ()

    @property
    def passed(self) -> bool:
        """True when every budget holds and none failed."""
        return not self.errors and all(r.passed for r in self.results)

    @property
    def exceeded(self) -> list[Result]:
        """The results over their limit."""
        return [r for r in self.results if not r.passed]


# -- limits ------------------------------------------------------------------------------------


def limit_for(figure: Figure, raw: object, where: Loc) -> Limit:
    """A limit on ``figure``, converted to the figure's unit."""
    quantity = parse_limit(raw, where)
    dimension, factor = unit_scale(figure.unit)
    if quantity.dimension and quantity.dimension != dimension:
        measure = f"in {dimension}" if dimension else "a plain number"
        raise SpecError(
            f"limit {raw!r} is in {quantity.dimension}, but {figure.name} ({figure.label}) "
            f"is {measure}",
            where,
        )
    value = quantity.value / factor if quantity.dimension else quantity.value
    return Limit(figure.name, float(value), str(raw), where)


# -- budget entries ----------------------------------------------------------------------------


def scalar(key: str, value: Any, where: Loc) -> int | float | str:
    """A number or text, as written (the analysis checks the value itself)."""
    if not isinstance(value, int | float | str):
        raise SpecError(f"'{key}' must be a number or text", where)
    return value


def text(key: str, value: Any, where: Loc) -> str:
    """A number or text, as text (a variant named ``2`` is ``"2"``)."""
    return str(scalar(key, value, where))


def device(key: str, value: Any, where: Loc) -> str:
    """A device profile: a bundled name, or a path relative to the file it is written in."""
    name = text(key, value, where)
    try:
        find_device(name, os.path.dirname(where.file))
    except SpecError as exc:
        raise SpecError(exc.message, where) from None
    return name


def spec_vars(key: str, value: Any, where: Loc) -> dict[str, Any]:
    """A mapping of spec vars to numbers or text."""
    if not isinstance(value, LMap) or not all(
        isinstance(v, int | float | str) for v in value.values()
    ):
        raise SpecError(f"'{key}' must map spec vars to numbers or text", where)
    return dict(value)


class BudgetKey(NamedTuple):
    """A configuration key of a budget entry: the field of :class:`Config` it sets."""

    field: str
    read: Callable[[str, Any, Loc], Any]  # (key, value as written, where) -> the field's value
    schema: Mapping[str, Any]  # JSON Schema of the value as written


TEXT_SCHEMA = {"type": ["string", "number"]}
VARS_SCHEMA = {"type": "object", "additionalProperties": {"type": ["number", "string", "boolean"]}}
# key as written -> the Config field it sets; errors and the schema list them in this order.
# ``params`` is a figure, so the convention is written ``convention``; ``overrides`` is ``set``.
BUDGET_KEYS: dict[str, BudgetKey] = {
    "width":      BudgetKey("width", scalar, {"type": "number", "exclusiveMinimum": 0}),
    "resolution": BudgetKey("resolution", resolution, RESOLUTION_SCHEMA),
    "batch":      BudgetKey("batch", batch, BATCH_SCHEMA),
    "convention": BudgetKey("params", scalar, {"enum": list(PARAM_CONVENTIONS)}),
    "set":        BudgetKey("overrides", spec_vars, VARS_SCHEMA),
    "variant":    BudgetKey("variant", text, TEXT_SCHEMA),
    "execution":  BudgetKey("execution", scalar, TEXT_SCHEMA),
    "dtype":      BudgetKey("dtype", scalar, TEXT_SCHEMA),
    "device":     BudgetKey("device", device, TEXT_SCHEMA),
}  # fmt: skip


def parse_entry(entry: Any, where: Loc, spec: str, extra: tuple[str, ...] = ()) -> Budget:
    """One budget entry (figure limits plus configuration keys) for ``spec``.

    ``extra`` names keys the caller reads itself (``spec`` in a project file).
    """
    if not isinstance(entry, LMap):
        raise SpecError(
            f"a budget must be a mapping of figures to limits, {LIMIT_EXAMPLES}",
            loc_of(entry, where),
        )
    allowed = (*extra, *BUDGET_KEYS, *FIGURES)
    config: dict[str, Any] = {}
    limits: list[Limit] = []
    for key, value in entry.items():
        if key in FIGURES:
            limits.append(limit_for(FIGURES[key], value, entry.loc_of(key)))
        elif key in BUDGET_KEYS:
            config[key] = BUDGET_KEYS[key].read(key, value, entry.loc_of(key))
        elif key not in extra:
            raise SpecError(
                f"unknown key '{key}' in a budget{did_you_mean(key, allowed)} "
                f"(figures: {', '.join(FIGURES)}; configuration: {', '.join(BUDGET_KEYS)})",
                entry.key_loc(key),
            )
    if config and not limits:
        raise SpecError(
            f"a budget with a configuration needs a limit ({LIMIT_EXAMPLES})", entry.loc
        )
    return Budget(spec, config, tuple(limits), entry.loc, {k: entry.key_loc(k) for k in config})


def spec_budgets(spec: str) -> list[Budget]:
    """The budgets in a spec's own ``budget:`` section (one entry or a list)."""
    data, file = read_spec(spec)
    section = data.get(SPEC_SECTION) if isinstance(data, LMap) else None
    if section is None:
        return []
    where = data.loc_of(SPEC_SECTION)
    entries = list(enumerate(section)) if isinstance(section, LList) else [(None, section)]
    return [parse_entry(e, where if i is None else section.loc_of(i), file) for i, e in entries]


def project_budgets(path: str) -> list[tuple[list[str], Budget]]:
    """The budgets of a project file, each with the spec files its ``spec`` names.

    Every entry is read and checked, also those naming no spec of this run. The
    budgets' ``spec`` is left empty: :func:`collect` fills it in per spec.
    """
    data = parse_yaml(read_text(path, "budgets file"), path)
    entries = data.get(PROJECT_KEY) if isinstance(data, LMap) else None
    if not isinstance(entries, LList):
        raise SpecError(
            f"a budgets file is a mapping with one key, '{PROJECT_KEY}': a list of entries "
            f"{{{SPEC_KEY}: PATH-OR-GLOB, FIGURE: LIMIT, ...}}",
            loc_of(data, Loc(path, 1, 1)),
        )
    check_keys(data, (PROJECT_KEY,), "a budgets file")
    base = os.path.dirname(path)
    out = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, LMap) or not isinstance(entry.get(SPEC_KEY), str):
            raise SpecError(
                f"a budget entry needs '{SPEC_KEY}': a spec path, glob or bundled name",
                entries.loc_of(index),
            )
        files = matching_specs(entry[SPEC_KEY], base, entry.loc_of(SPEC_KEY))
        budget = parse_entry(entry, entry.loc, "", extra=(SPEC_KEY,))
        out.append((files, budget))
    return out


def matching_specs(pattern: str, base: str, where: Loc) -> list[str]:
    """Spec files named by a path or glob relative to ``base``, or a bundled spec name;
    a glob matching more than :data:`MAX_MATCHES` paths is an error."""
    matches = glob.iglob(os.path.join(base, pattern), recursive=True)
    found = sorted(itertools.islice(matches, MAX_MATCHES + 1))
    if len(found) > MAX_MATCHES:
        raise SpecError(f"'{pattern}' matches more than {MAX_MATCHES} paths", where)
    files = [os.path.normpath(f) for f in found if os.path.isfile(f)]
    if files:
        return files
    if glob.has_magic(pattern):
        raise SpecError(f"'{pattern}' matches no file", where)
    try:
        return [find_spec(pattern, base)]
    except SpecError as exc:
        raise SpecError(exc.message, where) from None


def collect(specs: Sequence[str], project: str | None) -> list[Budget]:
    """Every budget that applies to ``specs`` (default: every spec the project file names).

    A spec's own budgets come first, then the project file's. A spec without any
    limit gets an empty budget, so it is still analyzed (and so validated).
    """
    entries = project_budgets(project) if project else []
    targets = [find_spec(s) for s in specs] or [f for files, _ in entries for f in files]
    budgets: list[Budget] = []
    seen: set[str] = set()
    for file in targets:
        key = os.path.realpath(file)
        if key in seen:
            continue
        seen.add(key)
        named = [
            replace(budget, spec=file)
            for files, budget in entries
            if key in {os.path.realpath(f) for f in files}
        ]
        try:
            own = spec_budgets(file)
        except SpecError as exc:  # reported by evaluate(); the project's budgets still run
            own = [Budget(file, {}, (), exc.loc or Loc(file, 1, 1), failed=exc)]
        limited = [b for b in own + named if b.limits or b.failed]
        budgets += limited or [Budget(file, {}, (), Loc(file, 1, 1))]
    return budgets


# -- evaluation --------------------------------------------------------------------------------


def measure(budget: Budget) -> list[Result]:
    """Analyze a budget's spec at its configuration and read every limited figure.

    An error that does not point into a file (a configuration value the analysis
    rejects, a figure this configuration cannot give) is located at the budget;
    one inside the spec that a configuration key causes, at that key (:func:`culprit`).
    """
    if budget.failed is not None:
        raise budget.failed
    try:
        cost = budget.as_config().analyze(budget.spec)
        return [
            Result(budget, limit, cost.graph.name, FIGURES[limit.figure].get(cost))
            for limit in budget.limits
        ]
    except SpecError as exc:
        if exc.loc is None:
            raise SpecError(f"{exc.message} (budget for {budget.spec})", budget.loc) from None
        key = culprit(budget, exc.loc)
        if key is None:
            raise
        raise SpecError(f"with this {key}, {exc}", budget.keys.get(key, budget.loc)) from None
    except ValueError as exc:
        raise SpecError(f"{exc} (budget for {budget.spec})", budget.loc) from None


def culprit(budget: Budget, where: Loc) -> str | None:
    """The configuration key without which the budget's spec builds, when its error at
    ``where`` is in the spec (None: the spec fails anyway, or the error is elsewhere).

    Runs only on an error, at most one build per configuration key.
    """
    if where.file != budget.spec:
        return None
    for key in budget.config:
        try:
            budget.without(key).as_config().build(budget.spec)
        except SpecError:
            continue
        return key
    return None


def evaluate(budgets: Sequence[Budget]) -> Report:
    """Check every limit of every budget; a budget whose analysis fails is an error of the
    report (the same error of several budgets once), and the other budgets are still checked."""
    results: list[Result] = []
    errors: dict[str, CheckError] = {}
    for budget in budgets:
        try:
            results += measure(budget)
        except SpecError as exc:
            errors.setdefault(str(exc), CheckError(budget.spec, exc))
    specs = tuple(dict.fromkeys(b.spec for b in budgets))
    return Report(tuple(results), specs, tuple(errors.values()))


def check(specs: Sequence[str], project: str | None) -> Report:
    """Collect and evaluate: what ``lightcost check`` reports.

    An error that stops the collection (a bad budgets file) is a report of that one error.
    """
    try:
        budgets = collect(specs, project)
    except SpecError as exc:
        return Report((), (), (CheckError(project or ", ".join(specs), exc),))
    return evaluate(budgets)
