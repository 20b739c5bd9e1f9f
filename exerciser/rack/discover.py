"""What the adb server has attached: serial, state, model, API level (`exerciser devices`)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from exerciser.errors import UserError


@dataclass(frozen=True)
class RackDevice:
    serial: str
    state: str  # device | offline | unauthorized | ...
    model: str = ""
    api_level: int | None = None
    release: str = ""

    def to_json(self) -> dict:
        return asdict(self)


def _client(adb_port: int | None):
    from exerciser.device.u2driver import adb_client

    try:
        return adb_client(adb_port)
    except Exception as exc:  # no adb binary, server cannot start
        raise UserError(f"adb server not reachable: {exc}") from None


def list_devices(adb_port: int | None = None) -> list[RackDevice]:
    """Every device the adb server knows, with its facts read over adb (online ones)."""
    client = _client(adb_port)
    try:
        infos = client.list(extended=True)
    except Exception as exc:
        raise UserError(f"adb server not reachable: {exc}") from None

    def facts(info) -> RackDevice:
        if info.state != "device":
            return RackDevice(info.serial, info.state, info.tags.get("model", "").replace("_", " "))
        try:
            out = client.device(info.serial).shell(
                "getprop ro.product.model; getprop ro.build.version.sdk; getprop ro.build.version.release",
                timeout=10,
            )
            model, sdk, release = (out.splitlines() + ["", "", ""])[:3]
            return RackDevice(
                info.serial,
                "device",
                model.strip(),
                int(sdk) if sdk.strip().isdigit() else None,
                release.strip(),
            )
        except Exception:
            return RackDevice(info.serial, "offline", info.tags.get("model", "").replace("_", " "))

    with ThreadPoolExecutor(max_workers=8) as pool:
        return sorted(pool.map(facts, infos), key=lambda d: d.serial)


def resolve_serials(serials: list[str] | str, adb_port: int | None = None) -> list[str]:
    """ "all" -> every online device; a list is checked against what is attached (one clear error)."""
    devices = list_devices(adb_port)
    online = [d.serial for d in devices if d.state == "device"]
    if serials == "all" or serials == ["all"]:
        if not online:
            raise UserError("no device attached (adb devices lists none online)")
        return online
    wanted = [s for s in serials if s]
    missing = [s for s in wanted if s not in online]
    if missing:
        known = ", ".join(f"{d.serial} ({d.state})" for d in devices) or "none"
        raise UserError(f"device not attached: {', '.join(missing)} (attached: {known})")
    return list(dict.fromkeys(wanted))


def parse_devices_option(value: str) -> list[str] | str:
    """`--devices all` or `--devices SERIAL,SERIAL` -> "all" or the serial list (for `exerciser run`)."""
    value = (value or "").strip()
    if value in ("", "all"):
        return "all"
    serials = [s.strip() for s in value.split(",") if s.strip()]
    if not serials:
        raise UserError(f"--devices: expected 'all' or SERIAL[,SERIAL...], got {value!r}")
    return serials
