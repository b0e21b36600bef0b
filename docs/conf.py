"""Sphinx configuration of pinnkit's documentation.

Build (warnings are errors, nothing is fetched from the network)::

    python -m sphinx -W -b html docs docs/_build/html

The API reference is generated from the ``__all__`` lists of :mod:`pinnkit` and its subpackages at every build
(``docs/_ext/apigen.py`` writes ``docs/api/``), so a name added to an ``__all__`` appears without editing the
docs. The tutorials in ``docs/tutorials/`` are plain Python scripts run by sphinx-gallery at build time.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))          # the checkout's pinnkit, not an installed copy
sys.path.insert(0, str(HERE / "_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")

import apigen  # noqa: E402

import pinnkit  # noqa: E402

apigen.write_api(HERE / "api")

project = "pinnkit"
author = "the pinnkit authors"
copyright = "the pinnkit authors, MIT licence"
release = pinnkit.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx_gallery.gen_gallery",
    "docstrings",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "tutorials/*.py", "course/exercises", "course/solutions",
                    "**/sg_execution_times.rst", "tutorials/**"]
root_doc = "index"

# -- docstrings: numpydoc-style sections, read by napoleon ----------------------------------------------------------
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_param = True
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "show-inheritance": True, "member-order": "bysource"}
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
autodoc_inherit_docstrings = True
autoclass_content = "both"
add_module_names = False

# -- HTML -------------------------------------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"pinnkit {release}"

# -- tutorials --------------------------------------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": ["tutorials"],
    "gallery_dirs": ["auto_tutorials"],
    "filename_pattern": r"/\d\d_",             # every numbered tutorial is executed
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "abort_on_example_error": True,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "reset_modules": ("matplotlib",),
    "show_memory": False,
    "image_srcset": [],
    "write_computation_times": True,
    "capture_repr": (),                        # print only what a tutorial prints, not return values
}

warnings.filterwarnings("ignore", message="Matplotlib is currently using agg")
