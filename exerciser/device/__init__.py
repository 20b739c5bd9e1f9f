"""Device layer: the contract every backend fulfils, and the real-device driver."""

from exerciser.device.contract import (
    Device,
    DeviceError,
    DeviceEvent,
    DeviceInfo,
    DeviceLost,
    EventKind,
    Key,
    Observation,
    PermissionState,
)

__all__ = [
    "Device",
    "DeviceError",
    "DeviceEvent",
    "DeviceInfo",
    "DeviceLost",
    "EventKind",
    "Key",
    "Observation",
    "PermissionState",
]
