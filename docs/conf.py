"""Sphinx configuration: MyST pages and notebooks, autodoc from the docstrings, strict (-W -n) builds."""

from __future__ import annotations

from importlib.metadata import version as _version

project = "obsidian-inbox"
author = "obsidian-inbox developers"
copyright = "2026, obsidian-inbox developers"
release = _version("obsidian-inbox")
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_nb",  # MyST Markdown pages (it loads myst_parser) and executed notebooks
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "sphinx_copybutton",
]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "jupyter_execute", ".ipynb_checkpoints"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# The tutorial notebook is stored without outputs and run on every build, so the docs
# show what the code does today and a failing cell fails the build.
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_timeout = 120
nb_execution_show_tb = True

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

nitpicky = True
# No intersphinx: CI has no network beyond the package registries, so references to the
# standard library and our dependencies cannot be resolved; they are plain text instead.
nitpick_ignore_regex = [
    (r"py:.*", r"(pathlib|os|threading|datetime|dt|collections|typing|attr|attrs|httpx|re|io)\..*"),
    (
        r"py:.*",
        r"(Path|PathLike|Any|Callable|Iterable|Iterator|Mapping|Sequence|Literal|Protocol|Counter|Event|Attribute)",
    ),
    (r"py:.*", r"(str|int|float|bool|bytes|dict|list|tuple|set|None|NoneType|object|type)"),
]

doctest_global_setup = "from obsidian_inbox import *"

html_theme = "furo"
html_title = "obsidian-inbox"
