"""lightcost: what a neural network costs, computed analytically from a YAML spec."""

from lightcost.api import analyze, build
from lightcost.cost import LayerCost, ModelCost, Summary, separable_pairs
from lightcost.errors import SpecError

__all__ = [
    "LayerCost",
    "ModelCost",
    "SpecError",
    "Summary",
    "analyze",
    "build",
    "separable_pairs",
]
__version__ = "0.1.0"
