"""lightcost: what a neural network costs, computed analytically from a YAML spec."""

from lightcost.api import Config, analyze, build
from lightcost.core.errors import SpecError
from lightcost.cost.engine import LayerCost, ModelCost, Summary
from lightcost.cost.separable import separable_pairs

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
