"""pinnkit: physics-informed neural networks and operator learning in PyTorch."""

from . import geometry

__version__ = "0.1.0"

__all__ = ["geometry", "__version__"]
