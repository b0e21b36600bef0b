"""Neural and universal differential equations: neural ODEs, hybrid physics + network models, neural SDEs,
their fitting to trajectories, and sparse-regression equation discovery."""

__all__: list[str] = []
