"""Which queue a job needs, and which queues a device serves.

A queue names what the device must be: `exerciser.<kind>.api<API>.<rom>.<locale>`, the API level and ROM
of the scenario's profile and its locale. Kind `model`: a sample app or app model, which only the
virtual device runs (in-process, or served over adb, where the model is installed as an APK). Kind
`apk`: an installed package or an APK file, which needs an adb device (a phone, or a served virtual
device). A worker consumes exactly the queues its devices match, so a job only reaches a device that can
run it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from exerciser.device.contract import DeviceInfo
from exerciser.errors import UserError
from exerciser.scenario import Scenario

PREFIX = "exerciser"


@dataclass(frozen=True)
class Need:
    kind: str  # "model" | "apk"
    api_level: int
    rom: str
    locale: str

    @property
    def queue(self) -> str:
        return f"{PREFIX}.{self.kind}.api{self.api_level}.{self.rom}.{self.locale}"

    def to_json(self) -> dict:
        return asdict(self) | {"queue": self.queue}


def need_of(sc: Scenario) -> Need:
    """The device a scenario needs: its profile's API level and ROM, its locale, and whether the app is a
    model (virtual device) or an APK / package (adb device)."""
    from exerciser.sim.profiles import PROFILES

    kind = "model" if sc.app.model_path is not None else "apk"
    if kind == "model":
        from exerciser.runner.parallel import check_virtual

        check_virtual(sc)  # profile, locale and model the virtual device can run
    prof = PROFILES.get(sc.profile)
    if prof is None:
        raise UserError(
            f"{sc.source or sc.id}: profile: unknown profile '{sc.profile}' (known: {', '.join(PROFILES)})"
        )
    return Need(kind, prof.api_level, prof.rom, sc.locale)


def virtual_queues() -> list[str]:
    """An in-process virtual device takes the profile and locale of each job: every model queue."""
    from exerciser.sim.profiles import LOCALES, PROFILES

    return sorted(
        {Need("model", p.api_level, p.rom, loc).queue for p in PROFILES.values() for loc in LOCALES}
    )


def device_queues(info: DeviceInfo, models: bool) -> list[str]:
    """An adb device serves the queues of its own API level, ROM and locale; one that runs app models
    (a served virtual device, found by installing one) also takes them, a phone only APKs and packages."""
    kinds = ("model", "apk") if models else ("apk",)
    return [Need(k, info.api_level, info.rom, info.locale).queue for k in kinds]
