"""lightcost: what a neural network costs, computed analytically from a YAML spec.

:func:`analyze` a spec (a path, a bundled name or an ONNX file) into a
:class:`ModelCost`; :func:`sweep` widths x resolutions; :func:`check` budgets;
:func:`diff` two costs layer by layer; :func:`lint` a cost against the
ShuffleNetV2 guidelines. The package ships ``py.typed``: type checkers see the
real types. The public names load on first use, so ``import lightcost`` (and the
start of the ``lightcost`` command, which installs its Ctrl-C handler first)
imports nothing.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from lightcost.analysis.budgets import check
    from lightcost.analysis.diff import compare as diff
    from lightcost.analysis.lint import lint
    from lightcost.analysis.sweep import sweep
    from lightcost.api import Config, analyze, build
    from lightcost.core.errors import SpecError
    from lightcost.cost.engine import LayerCost, ModelCost, Summary
    from lightcost.cost.separable import separable_pairs

# name -> "module" or "module:attribute" (when the module names it otherwise)
EXPORTS = {
    "Config": "lightcost.api",
    "LayerCost": "lightcost.cost.engine",
    "ModelCost": "lightcost.cost.engine",
    "SpecError": "lightcost.core.errors",
    "Summary": "lightcost.cost.engine",
    "analyze": "lightcost.api",
    "build": "lightcost.api",
    "check": "lightcost.analysis.budgets",
    "diff": "lightcost.analysis.diff:compare",
    "lint": "lightcost.analysis.lint",
    "separable_pairs": "lightcost.cost.separable",
    "sweep": "lightcost.analysis.sweep",
}
__all__ = [
    "Config",
    "LayerCost",
    "ModelCost",
    "SpecError",
    "Summary",
    "analyze",
    "build",
    "check",
    "diff",
    "lint",
    "separable_pairs",
    "sweep",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """A public name, imported from its module the first time it is read."""
    if name not in EXPORTS:
        raise AttributeError(f"module 'lightcost' has no attribute {name!r}")
    module, _, attribute = EXPORTS[name].partition(":")
    value = getattr(__import__(module, fromlist=[name]), attribute or name)
    globals()[name] = value
    return value
