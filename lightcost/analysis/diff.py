"""Compare the costs of two specs, or two configurations of one, layer by layer.

Layers are matched by name. The comparison lists them in the new model's order,
with each removed layer placed before the first kept layer that followed it in
the old model. Per-layer figures are those :class:`~lightcost.cost.engine.Summary`
sums (:data:`lightcost.cost.engine.SUMMED`); totals are every model-level figure of
:data:`lightcost.cost.figures.FIGURES`. A change is ``new - old``; a relative change
is ``(new - old) / old`` (None when ``old`` is 0).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from lightcost.core.errors import SpecError, short
from lightcost.cost.engine import SUMMED, LayerCost, ModelCost
from lightcost.cost.figures import FIGURES, Figure
from lightcost.spec.files import decode, too_large

GIT_TIMEOUT = 30.0  # seconds each git command of --rev may take


@dataclass(frozen=True)
class LayerDiff:
    """One layer name in either model: ``old`` or ``new`` is None when added or removed."""

    name: str
    old: LayerCost | None
    new: LayerCost | None

    @property
    def status(self) -> str:
        """``added``, ``removed``, ``changed`` (a figure or the output shape) or ``same``."""
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        same = self.old.out_shape == self.new.out_shape and all(
            getattr(self.old, key) == getattr(self.new, key) for key in SUMMED
        )
        return "same" if same else "changed"

    def value(self, side: str, figure: str) -> int | float:
        """A per-layer figure of the ``old`` or ``new`` layer (0 when the layer is absent)."""
        layer = self.old if side == "old" else self.new
        value: int | float = 0 if layer is None else getattr(layer, figure)
        return value

    def change(self, figure: str) -> int | float:
        """``new - old`` of a per-layer figure."""
        return self.value("new", figure) - self.value("old", figure)


@dataclass(frozen=True)
class TotalDiff:
    """A model-level figure in both models."""

    figure: Figure
    old: int | float
    new: int | float

    @property
    def change(self) -> int | float:
        """``new - old``."""
        return self.new - self.old

    @property
    def relative(self) -> float | None:
        """``(new - old) / old``, or None when ``old`` is 0."""
        return None if self.old == 0 else self.change / self.old

    def grew_more_than(self, percent: float) -> bool:
        """Whether the figure got worse by more than ``percent`` % (any growth from 0)."""
        worse = self.change if self.figure.lower_is_better else -self.change
        if worse <= 0:
            return False
        return self.relative is None or 100 * abs(self.relative) > percent


@dataclass(frozen=True)
class CostDiff:
    """The per-layer and total comparison of two costed models."""

    old: ModelCost
    new: ModelCost
    layers: tuple[LayerDiff, ...]
    totals: tuple[TotalDiff, ...]
    hidden: int = 0  # unchanged layers left out of ``layers`` (:meth:`changed_only`)

    def changed_only(self) -> CostDiff:
        """This diff without its unchanged layers (``diff --changed``), counted in ``hidden``."""
        shown = tuple(layer for layer in self.layers if layer.status != "same")
        return replace(self, layers=shown, hidden=self.hidden + len(self.layers) - len(shown))

    def grown(self, percent: float) -> list[TotalDiff]:
        """Totals that got worse by more than ``percent`` %."""
        return [t for t in self.totals if t.grew_more_than(percent)]


def match_layers(old: tuple[LayerCost, ...], new: tuple[LayerCost, ...]) -> list[LayerDiff]:
    """Pair layers by name in the order described in the module docstring."""
    old_index = {layer.name: i for i, layer in enumerate(old)}
    new_names = {layer.name for layer in new}
    removed = [layer for layer in old if layer.name not in new_names]
    out: list[LayerDiff] = []
    pending = 0
    for layer in new:
        position = old_index.get(layer.name)
        if position is None:
            out.append(LayerDiff(layer.name, None, layer))
            continue
        while pending < len(removed) and old_index[removed[pending].name] < position:
            out.append(LayerDiff(removed[pending].name, removed[pending], None))
            pending += 1
        out.append(LayerDiff(layer.name, old[position], layer))
    out += [LayerDiff(layer.name, layer, None) for layer in removed[pending:]]
    return out


def compare(old: ModelCost, new: ModelCost) -> CostDiff:
    """Compare two costed models layer by layer and in total.

    Figures that need a device profile are compared when both sides have one.
    """
    devices = old.device is not None and new.device is not None
    figures = [f for f in FIGURES.values() if devices or not f.device]
    totals = tuple(TotalDiff(f, f.get(old), f.get(new)) for f in figures)
    return CostDiff(old, new, tuple(match_layers(old.layers, new.layers)), totals)


def git_text(path: str, rev: str) -> tuple[str, str]:
    """The text of spec file ``path`` at git revision ``rev``, and the name to report it by.

    In the file's directory, resolves ``rev`` to a commit (``git rev-parse --verify
    --end-of-options REV^{commit}``, git 2.30 or later; a revision starting with ``-`` is
    refused, as git would read it as an option), checks the file's size there (``git
    cat-file -s``, at most the spec limit) and reads its raw bytes (``git cat-file blob
    COMMIT:./FILE``: no filters or conversions). Each git command may take
    :data:`GIT_TIMEOUT` seconds. A missing git, file or revision is a SpecError.
    """
    if not rev or rev.startswith("-") or not rev.isprintable():
        raise SpecError(f"--rev {short(rev)}: a revision may not be empty or start with '-'")
    folder, base = os.path.split(os.path.abspath(path))
    name = f"{path}@{rev}"

    def git(*args: str) -> bytes:
        return _git(folder, args, f"cannot read {path} at revision '{rev}'", rev)

    found = git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    blob = f"{found.decode('ascii').strip()}:./{base}"
    too_large(int(git("cat-file", "-s", blob)), name, "spec")
    return decode(git("cat-file", "blob", blob), name, "spec"), name


def _git(folder: str, args: tuple[str, ...], failure: str, rev: str) -> bytes:
    """The output of ``git -C FOLDER ARGS`` (at most GIT_TIMEOUT seconds); ``failure``
    starts the message of a SpecError when git fails."""
    import subprocess  # lazy: only the --rev path runs git

    try:
        done = subprocess.run(
            ["git", "-C", folder, *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
            timeout=GIT_TIMEOUT,
        )
    except OSError as exc:
        raise SpecError(f"cannot run git for --rev {rev}: {exc.strerror}") from None
    except subprocess.TimeoutExpired:
        raise SpecError(f"{failure}: git took longer than {GIT_TIMEOUT:g} s") from None
    if done.returncode != 0:
        problem = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = problem[0] if problem else "no such commit"
        raise SpecError(f"{failure}: {reason}")
    return done.stdout
