"""Where the data directories (grammars/, rules/) live.

In a checkout they are top-level folders beside ``triage/``; in an installed
wheel they are shipped as the packages ``triage._grammars`` / ``triage._rules``.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

_MARKERS = {"grammars": "*.lark", "rules": "*.yaml"}


def data_dir(name: str) -> Path:
    """The folder holding the shipped ``grammars`` or ``rules``."""
    marker = _MARKERS.get(name, "*")
    checkout = Path(__file__).resolve().parent.parent / name
    spec = importlib.util.find_spec(f"triage._{name}")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            packaged = Path(location)
            if any(packaged.glob(marker)):
                return packaged
    return checkout
