"""Loads recognition knowledge and rules from `models/` (data, not code), cached per file."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from exerciser import MODELS_DIR
from exerciser.yamlio import YAML_LOADER, safe_load

__all__ = ["YAML_LOADER", "load"]


@cache
def load(relpath: str) -> Any:
    """Parsed YAML of `models/<relpath>`, e.g. load("android/permission_dialogs.yaml")."""
    path = Path(MODELS_DIR) / relpath
    return safe_load(path.read_text(encoding="utf-8"), str(path))
