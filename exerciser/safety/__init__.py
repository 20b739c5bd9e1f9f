"""The safety guard: nothing the exerciser sends to a phone may do what cannot be undone.

`GuardedDevice` wraps the device a run uses, so every tap, long-press, key and typed text passes
`SafetyGuard` before it reaches the phone, whoever asks for it (explorer, probe, replay). What the guard
refuses is never performed; the session writes the refusal to the trace instead.
"""

from exerciser.safety.device import ActionRefused, GuardedDevice
from exerciser.safety.guard import Judgement, SafetyGuard

__all__ = ["ActionRefused", "GuardedDevice", "Judgement", "SafetyGuard"]
