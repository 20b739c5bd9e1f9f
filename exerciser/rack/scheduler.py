"""Spread a suite's apps over several devices: one app per device at a time, in parallel.

    results = run_suite(suite.scenarios, "all", Path("runs/rack"))

Each device has a worker thread that takes the next app, installs it if needed, and runs it with
`run_app`. A device that vanishes mid-app (DeviceLost) leaves the race: what its attempt recorded moves
to `DIR/<app>/attempts/<k>-<serial>/` (its trace closed by a `device_lost` line), the app goes back to
the front of the queue for another device, and `DIR/rack.json`, `DIR/rack.log`,
`DIR/<app>/attempts/attempts.json` and the lines under the live view tell the story. Workers wait while
others are busy, since a lost device can hand work back at any time.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from exerciser.device.contract import Device, DeviceError, DeviceLost
from exerciser.errors import UserError
from exerciser.rack.park import HAND_OVER_S, DeviceSlot, make_park
from exerciser.rack.record import RackRecord, close_lost_trace, keep_partial, write_attempts

DeviceFactory = Callable[[str], Device]
log = logging.getLogger(__name__)


def _runner():
    try:
        from exerciser.run import run_app  # type: ignore[import-not-found]
    except ImportError:
        from exerciser.runner.app_run import run_app
    return run_app


def _app_result(sc: Any, out_dir: Path, error: str, serial: str = ""):
    from exerciser.runner.app_run import AppResult, app_info

    try:
        package = app_info(sc).package
    except Exception:
        package = ""
    return AppResult(sc.id, package, Path(out_dir) / sc.id, error=error, serial=serial)


def _make_reader():
    """One screen reader per worker: OCR engines are not shared between threads."""
    try:
        from exerciser.perceive import Reader  # type: ignore[attr-defined]
    except ImportError:
        return None
    return Reader()


def ensure_installed(device: Device, sc: Any) -> None:
    """Install the scenario's app when the device lacks it: an APK as given, or an app model packed as an
    APK (a device that cannot run models refuses it: the app fails with the device's own answer). A
    package that is simply missing on a phone is the user's to install."""
    from exerciser.runner.app_run import app_info

    package = app_info(sc).package
    if package in device.installed_packages():
        return
    install = getattr(device, "install", None)
    if sc.app.kind == "apk" and callable(install):
        install(sc.app.value)
        return
    if sc.app.kind in ("sample", "model") and callable(install):
        install_model(install, sc.app.model_path, package)
        return
    raise UserError(f"{sc.id}: {package} is not installed on {device.info.serial}")


def install_model(install: Callable[..., None], model_path: Path, package: str) -> None:
    from exerciser.sim.adbfront.install import model_apk

    with tempfile.TemporaryDirectory(prefix="exerciser-apk-") as tmp:
        install(model_apk(model_path, Path(tmp) / f"{package}.apk"))


def accepts_models(device: Device) -> bool:
    """The device runs app behaviour models (a served virtual device), found by installing a small one:
    a phone refuses the package (it carries no dex code) and nothing stays on it."""
    from exerciser import SAMPLES_DIR
    from exerciser.sim import resolve_model

    install = getattr(device, "install", None)
    if not callable(install):
        return False
    path = SAMPLES_DIR / "compliant_en" / "app.yaml"
    package = resolve_model(str(path)).package
    if package in device.installed_packages():
        return True
    try:
        install_model(install, path, package)
    except DeviceError:
        return False
    sh = getattr(device, "sh", None)
    if callable(sh):
        sh(f"pm uninstall {package}")
    return True


def _keep_lost_attempt(
    out_dir: Path, app: str, n: int, serial: str, reason: str, handed_over: bool
) -> tuple[str, int]:
    """Move a lost attempt's evidence aside and end its trace with the loss: (folder, steps recorded)."""
    evidence = keep_partial(out_dir, app, n, serial)
    if not evidence:
        return "", 0
    try:
        return evidence, close_lost_trace(out_dir / evidence, serial, reason, handed_over)[0]
    except (OSError, ValueError) as exc:  # a torn or unreadable trace: the folder itself is kept
        log.warning("%s: cannot note the loss in %s/trace.jsonl: %s", serial, evidence, exc)
        return evidence, 0


def default_factory(adb_port: int | None = None) -> DeviceFactory:
    def make(serial: str) -> Device:
        from exerciser.device.u2driver import U2Device

        return U2Device(serial, adb_port=adb_port)

    return make


class _View:
    """The live table: one row per device, and the suite's progress."""

    def __init__(self, record: RackRecord, total: int) -> None:
        self.record = record
        self.total = total
        self.note: dict[str, str] = {}
        self.since: dict[str, float] = {}
        self.t0 = time.monotonic()

    def __rich__(self):
        from rich.table import Table

        r = self.record
        done = sum(1 for a in r.apps.values() if a.status in ("done", "error", "not_run"))
        title = f"rack: {done}/{self.total} apps  ·  {time.monotonic() - self.t0:,.0f} s"
        t = Table(title=title, expand=False)
        t.add_column("device", no_wrap=True)
        t.add_column("API", justify="right")
        t.add_column("state")
        t.add_column("app", no_wrap=True)
        t.add_column("now / why", overflow="ellipsis", max_width=40, no_wrap=True)
        t.add_column("s", justify="right")
        t.add_column("done", justify="right")
        for s, d in r.devices.items():
            app = next((a.app for a in r.apps.values() if a.status == "running" and a.serial == s), "")
            since = f"{time.monotonic() - self.since[s]:.0f}" if app and s in self.since else ""
            style = {"lost": "red", "unavailable": "red", "busy": "green"}.get(d.state, "")
            state = f"[{style}]{d.state}[/]" if style else d.state
            why = self.note.get(s, "") if app else d.reason
            t.add_row(s, str(d.api_level or ""), state, app, why, since, str(len(d.apps)))
        return t


def _loss_lines(record: RackRecord) -> list[str]:
    """One line per lost attempt, said plainly under the live table."""
    lines = []
    for a in record.apps.values():
        for att in a.attempts:
            if att.outcome != "device_lost":
                continue
            then = next((x for x in a.attempts if x.n > att.n and x.outcome == "completed"), None)
            fate = f"finished on {then.serial}" if then else "not finished"
            lines.append(
                f"[red]lost[/] {att.serial} during {a.app} after {att.steps} steps ({att.message}); "
                f"{a.app} {fate}; its evidence so far: {att.evidence or 'none'}"
            )
    return lines


def run_suite(
    scenarios: list,
    serials: list[str] | str,
    out_dir: Path,
    progress: bool = True,
    *,
    adb_port: int | None = None,
    device_factory: DeviceFactory | None = None,
    runner: Callable | None = None,
    hand_over_s: float = HAND_OVER_S,
) -> list:
    """Run every scenario once on one of the devices; results in scenario order (AppResult)."""
    from exerciser.rack.discover import parse_devices_option, resolve_serials

    out_dir = Path(out_dir)
    if isinstance(serials, str):  # the --devices text: "all" or "SERIAL,SERIAL"
        serials = parse_devices_option(serials)
    serial_list = (
        resolve_serials(serials, adb_port)
        if device_factory is None
        else ([serials] if isinstance(serials, str) else list(serials))
    )
    factory = device_factory or default_factory(adb_port)
    run_app = runner or _runner()
    ids = [sc.id for sc in scenarios]
    if len(set(ids)) != len(ids):
        raise UserError("the suite names the same app id twice")
    record = RackRecord(out_dir, ids, serial_list)
    record.log(f"suite of {len(scenarios)} apps on {len(serial_list)} devices: {', '.join(serial_list)}")
    view = _View(record, len(scenarios))
    queue: deque = deque(scenarios)
    results: dict[str, Any] = {}
    cond = threading.Condition()
    state = {"busy": 0, "alive": len(serial_list)}

    def worker(serial: str) -> None:
        try:
            dev = factory(serial)
            info = dev.info
            record.device_ready(serial, info.model, info.api_level)
        except (DeviceLost, DeviceError, UserError, OSError) as exc:
            record.device_unavailable(serial, str(exc))
            with cond:
                state["alive"] -= 1
                cond.notify_all()
            return
        slot = DeviceSlot()
        helpers: list[threading.Thread] = []
        try:
            drive(serial, dev, slot, helpers, helper=False)
            while helpers:  # drivers started while a job was parked
                helpers.pop().join()
        finally:
            record.device_time(serial, slot.busy_s, time.monotonic() - slot.started)
            close = getattr(dev, "close", None)
            if callable(close):
                close()

    def drive(serial: str, dev: Device, slot: DeviceSlot, helpers: list, helper: bool) -> None:
        """Run apps on `dev` one after another. A helper (started while a job is parked) stops when the
        queue is empty; the device's first driver waits while others are busy (a lost device can hand
        work back at any time)."""
        reader = _make_reader()
        while True:
            with cond:
                while not queue and state["busy"] > 0 and not helper:
                    cond.wait(0.5)
                if not queue:
                    return
            slot.take()
            with cond:
                if not queue:
                    slot.give()
                    continue
                sc = queue.popleft()
                state["busy"] += 1
            try:
                if not run_one(serial, dev, slot, helpers, sc, reader):
                    return  # the device is lost
            finally:
                slot.give()

    def parker(serial: str, dev: Device, slot: DeviceSlot, helpers: list, app: str):
        def on_park(seconds: float, handed: bool) -> None:
            record.parked(app, serial, seconds, handed)
            view.note[serial] = f"{app} parked"
            with cond:
                if not queue or not handed:
                    return
            t = threading.Thread(
                target=drive, args=(serial, dev, slot, helpers, True), name=f"rack:{serial}", daemon=True
            )
            helpers.append(t)
            t.start()

        def on_resume(waited: float, for_device: float) -> None:
            record.resumed(app, serial, waited, for_device)
            view.note[serial] = f"{app} resumed"

        return make_park(dev, slot, on_park, on_resume, hand_over_s)

    def run_one(serial: str, dev: Device, slot: DeviceSlot, helpers: list, sc: Any, reader: Any) -> bool:
        """One app on the device; False when the device was lost."""
        att = record.start(sc.id, serial)
        blips = len(getattr(dev, "reconnects", []))
        view.since[serial] = time.monotonic()
        view.note[serial] = "starting"
        lost = False
        try:
            ensure_installed(dev, sc)
            kwargs = {
                "progress": lambda m, s=serial: view.note.__setitem__(s, m),
                "park": parker(serial, dev, slot, helpers, sc.id),
            }
            if reader is not None:
                kwargs["reader"] = reader
            res = run_app(sc, dev, out_dir, **kwargs)
            results[sc.id] = res
            record.finish(sc.id, att, "completed", getattr(res, "status", ""), getattr(res, "steps", 0))
        except DeviceLost as exc:
            lost = True
            with cond:
                state["alive"] -= 1
                requeue = state["alive"] > 0
            # the evidence moves aside and is labelled before another device may start the app
            evidence, steps = _keep_lost_attempt(out_dir, sc.id, att.n, serial, str(exc), requeue)
            record.lost(sc.id, att, str(exc), evidence, requeue, steps)
            write_attempts(out_dir, sc.id, record.apps[sc.id].attempts)
            with cond:
                if requeue:
                    queue.appendleft(sc)
                else:
                    results[sc.id] = _app_result(sc, out_dir, f"device lost, no device left: {exc}", serial)
                state["busy"] -= 1
                cond.notify_all()
            return False
        except Exception as exc:  # not installed, a tool bug: this app fails, the rack goes on
            results[sc.id] = _app_result(sc, out_dir, f"{type(exc).__name__}: {exc}", serial)
            record.finish(sc.id, att, "error", str(exc))
        finally:
            for r in getattr(dev, "reconnects", [])[blips:]:
                record.log(
                    f"{serial}: offline for {r.offline_s:.1f} s during {r.during} while running"
                    f" {sc.id}; back online, the run went on"
                )
            if not lost:
                with cond:
                    state["busy"] -= 1
                    cond.notify_all()
        return True

    threads = [threading.Thread(target=worker, args=(s,), name=f"rack:{s}", daemon=True) for s in serial_list]
    for t in threads:
        t.start()
    live = None
    if progress:
        from rich.live import Live

        live = Live(view, refresh_per_second=4, transient=False)
        live.start()
    try:
        while any(t.is_alive() for t in threads):
            for t in threads:
                t.join(0.25)
    finally:
        if live is not None:
            live.update(view)
            live.stop()
            for line in _loss_lines(record):
                live.console.print(line, highlight=False, soft_wrap=True)
    for sc in scenarios:
        if sc.id not in results:
            results[sc.id] = _app_result(sc, out_dir, "not run: no device was available")
            record.not_run(sc.id, "no device was available")
    record.close()
    return [results[sc.id] for sc in scenarios]
