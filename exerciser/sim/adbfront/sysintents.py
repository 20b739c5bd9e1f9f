"""Intent actions the served phone's system apps answer from `am start -a ACTION` (no component): the
activity that resolves them, as PackageManager would pick it."""

from __future__ import annotations

from exerciser.sim import datetime_settings as DT
from exerciser.sim.adbfront.phone import Phone


def start_action(phone: Phone, action: str) -> str | None:
    """Start the system activity for `action`; its component ("pkg/.Activity"), None when none resolves."""
    if action == DT.facts()["intent_action"] and hasattr(phone.device, "open_date_settings"):
        phone.call("open_date_settings")
        return f"{phone.settings_package}/{DT.facts()['activity']}"
    return None
