"""Geometries used across the geometry tests, with their exact measures where known."""

from __future__ import annotations

import math

import pinnkit.geometry as G

NONCONVEX = [[0.0, 0.0], [2.0, 0.0], [2.0, 1.0], [1.0, 0.4], [0.0, 1.0]]


def primitives() -> dict[str, tuple[G.Geometry, float]]:
    """name -> (geometry, exact length / area / volume)."""
    return {
        "interval": (G.Interval(-1.0, 2.0), 3.0),
        "rectangle": (G.Rectangle([0.0, -1.0], [2.0, 0.5]), 3.0),
        "disk": (G.Disk([0.3, -0.2], 0.7), math.pi * 0.49),
        "ellipse": (G.Ellipse([1.0, 0.5], 2.0, 0.5, angle=0.6), math.pi * 1.0),
        "triangle": (G.Triangle([0.0, 0.0], [1.0, 0.2], [0.3, 1.5]), 0.5 * abs(1.0 * 1.5 - 0.2 * 0.3)),
        "polygon": (G.Polygon(NONCONVEX), 2.0 - 0.5 * 2.0 * 0.6),
        "cuboid": (G.Cuboid([0.0, 0.0, 0.0], [1.0, 2.0, 0.5]), 1.0),
        "sphere": (G.Sphere([0.0, 1.0, 0.0], 0.5), 4.0 / 3.0 * math.pi * 0.125),
        "hypercube4": (G.Hypercube([0.0] * 4, [1.0, 2.0, 1.0, 0.5]), 1.0),
        "hypersphere5": (G.Hypersphere([0.0] * 5, 1.2), 8.0 * math.pi**2 / 15.0 * 1.2**5),
        "time": (G.TimeDomain(0.0, 2.5), 2.5),
    }


def composites() -> dict[str, G.Geometry]:
    """CSG and space-time domains, including nesting and seams."""
    square = G.Rectangle([0.0, 0.0], [1.0, 1.0])
    return {
        "square-disk": square - G.Disk([0.5, 0.5], 0.25),
        "polygon-disk": G.Polygon(NONCONVEX) - G.Disk([0.5, 0.3], 0.15),
        "union-overlap": G.Disk([0.0, 0.0], 1.0) | G.Rectangle([0.5, -0.5], [2.0, 0.5]),
        "union-seam": square | G.Rectangle([1.0, 0.0], [2.0, 1.0]),
        "intersection": G.Disk([0.0, 0.0], 1.0) & G.Ellipse([0.5, 0.0], 1.0, 0.5),
        "nested": (square | G.Disk([1.0, 0.5], 0.5)) - (G.Disk([0.3, 0.3], 0.1) | G.Triangle(
            [0.6, 0.6], [0.9, 0.6], [0.75, 0.9])),
        "cube-sphere": G.Cuboid([0.0, 0.0, 0.0], [1.0, 1.0, 1.0]) - G.Sphere([1.0, 1.0, 1.0], 0.5),
        "interval-union": G.Interval(0.0, 1.0) | G.Interval(2.0, 3.0),
        "x-t": G.Interval(-1.0, 1.0) * G.TimeDomain(0.0, 1.0),
        "polygon-t": G.Polygon(NONCONVEX) * G.TimeDomain(0.0, 0.5),
        "csg-t": (square - G.Disk([0.5, 0.5], 0.25)) * G.TimeDomain(1.0, 2.0),
    }


def everything() -> dict[str, G.Geometry]:
    return {**{k: g for k, (g, _) in primitives().items()}, **composites()}
