"""Loads recognition knowledge and rules from `models/` (data, not code), cached per file."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from exerciser import MODELS_DIR

# libyaml's loader when present (about 14x faster): models and scenarios load in every process, workers too.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def load(relpath: str) -> Any:
    """Parsed YAML of `models/<relpath>`, e.g. load("android/permission_dialogs.yaml")."""
    path = Path(MODELS_DIR) / relpath
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=YAML_LOADER)
