"""The virtual Android device: app models, profiles, runtime, system UI, renderer and adb front."""

from exerciser.sim.appmodel import AppModel, AppModelError, load_app_model, load_sample, resolve_model
from exerciser.sim.profiles import PROFILES, Profile
from exerciser.sim.runtime import VirtualDevice

__all__ = [
    "PROFILES",
    "AppModel",
    "AppModelError",
    "Profile",
    "VirtualDevice",
    "load_app_model",
    "load_sample",
    "resolve_model",
]
