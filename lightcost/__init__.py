"""lightcost: what a neural network costs, computed analytically from a YAML spec.

The public names load on first use, so ``import lightcost`` (and the start of the
``lightcost`` command, which installs its Ctrl-C handler first) imports nothing.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from lightcost.api import Config, analyze, build
    from lightcost.core.errors import SpecError
    from lightcost.cost.engine import LayerCost, ModelCost, Summary
    from lightcost.cost.separable import separable_pairs

EXPORTS = {
    "Config": "lightcost.api",
    "LayerCost": "lightcost.cost.engine",
    "ModelCost": "lightcost.cost.engine",
    "SpecError": "lightcost.core.errors",
    "Summary": "lightcost.cost.engine",
    "analyze": "lightcost.api",
    "build": "lightcost.api",
    "separable_pairs": "lightcost.cost.separable",
}
__all__ = [
    "Config",
    "LayerCost",
    "ModelCost",
    "SpecError",
    "Summary",
    "analyze",
    "build",
    "separable_pairs",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """A public name, imported from its module the first time it is read."""
    if name not in EXPORTS:
        raise AttributeError(f"module 'lightcost' has no attribute {name!r}")
    value = getattr(__import__(EXPORTS[name], fromlist=[name]), name)
    globals()[name] = value
    return value
