"""Device racks: what is attached, and a suite spread over several devices in parallel."""

from exerciser.rack.discover import RackDevice, list_devices, parse_devices_option, resolve_serials
from exerciser.rack.scheduler import ensure_installed, run_suite

__all__ = [
    "RackDevice",
    "ensure_installed",
    "list_devices",
    "parse_devices_option",
    "resolve_serials",
    "run_suite",
]
