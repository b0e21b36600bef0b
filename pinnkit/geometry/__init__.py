"""Domains and the collocation points they produce.

Primitives: :class:`Interval`, :class:`Rectangle`, :class:`Disk`, :class:`Ellipse`, :class:`Triangle`,
:class:`Polygon`, :class:`Cuboid`, :class:`Sphere`, :class:`Hypercube`, :class:`Hypersphere`,
:class:`TimeDomain`. Combine them with ``|`` (union), ``&`` (intersection), ``-`` (difference) and
``* TimeDomain(t0, t1)`` (space-time). Conventions are documented in :mod:`pinnkit.geometry.geometry`.
"""

from .boundary import Boundary
from .csg import CSG, Difference, Intersection, Union
from .ellipse import Ellipse
from .geometry import Geometry
from .hypercube import Cuboid, Hypercube, Interval, Rectangle
from .hypersphere import Disk, Hypersphere, Sphere
from .patch import BoundaryPatch
from .polygon import Polygon, Triangle
from .primitive import Primitive
from .space_time import SpaceTimeDomain
from .time_domain import TimeDomain
from .unit_samples import METHODS

__all__ = [
    "CSG", "METHODS", "Boundary", "BoundaryPatch", "Cuboid", "Difference", "Disk", "Ellipse", "Geometry", "Hypercube",
    "Hypersphere", "Intersection", "Interval", "Polygon", "Primitive", "Rectangle", "SpaceTimeDomain",
    "Sphere", "TimeDomain", "Triangle", "Union",
]
