"""`exerciser sim serve`: virtual devices reachable over the adb protocol (`adb connect 127.0.0.1:PORT`)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading

import click

from exerciser.errors import UserError


def build_devices(apps: tuple[str, ...], profile: str, locale: str, count: int, port: int, display: str = ""):
    from exerciser.device.contract import DeviceError
    from exerciser.sim import AppModelError, VirtualDevice, resolve_model
    from exerciser.sim.display import DEFAULT, parse_display

    try:
        d = parse_display(display) if display else DEFAULT
    except ValueError as exc:
        raise UserError(f"--display {exc}") from None

    try:
        models = [resolve_model(a) for a in apps]
    except AppModelError as exc:
        raise UserError(str(exc)) from None
    except (FileNotFoundError, IsADirectoryError) as exc:
        raise UserError(f"--app: cannot read {exc.filename}") from None
    devices = []
    for i in range(count):
        try:
            # each device gets its own copy of the models' runtime state; models are immutable data
            devices.append(
                VirtualDevice(
                    models,
                    profile=profile,
                    locale=locale,
                    serial=f"127.0.0.1:{port + i}",
                    seed=i,
                    width=d.width,
                    height=d.height,
                    density=d.density,
                )
            )
        except DeviceError as exc:
            raise UserError(str(exc)) from None
    return devices


@click.command("serve")
@click.option(
    "--port",
    default=7401,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="TCP port of the first device (loopback).",
)
@click.option("--app", "apps", multiple=True, help="Sample app id or path to an app.yaml; repeatable.")
@click.option(
    "--profile", default="api33", show_default=True, help="Device profile (exerciser sim profiles)."
)
@click.option("--locale", default="en-US", show_default=True, help="en-US or zh-CN.")
@click.option(
    "--display",
    default="1080x2340@440",
    show_default=True,
    help="Panel WIDTHxHEIGHT@DPI, e.g. 540x1170@240 or 720x1600@320 (1 dp = DPI/160 px).",
)
@click.option(
    "--count",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Devices on consecutive ports: a virtual rack.",
)
@click.option(
    "--connect",
    "connect",
    is_flag=True,
    help="Also run `adb connect` for each device (adb from ADBUTILS_ADB_PATH or PATH).",
)
@click.option(
    "--clock-scale",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.001),
    help="Device seconds per wall second (1: real time; more runs the whole phone faster, for tests).",
)
@click.option(
    "--phone-speed",
    default="off",
    show_default=True,
    help="Per-call latencies: 'phone' (dump 1 s, screenshot 0.3 s, tap 0.05 s, app start 1.5 s), 'off', "
    "or e.g. 'dump=0.8,tap=0.1' (device seconds).",
)
@click.option(
    "--clock-methods",
    default="none",
    show_default=True,
    help="How the clock may be set: 'none' (a managed phone: the admin locks Date & time), 'settings-ui' "
    "(a production phone: only the Settings app's Date & time page), 'alarm' (the shell may `cmd alarm "
    "set-time`), 'root' (a rooted phone: `su`), or a list such as 'alarm,root'.",
)
@click.option(
    "--dump",
    "dump_form",
    type=click.Choice(["aosp", "u2"]),
    default="aosp",
    show_default=True,
    help="What dumpWindowHierarchy answers: the top window as `uiautomator dump` writes it, or every "
    "window as uiautomator2's own dumper does (visible-to-user, drawing-order, hint, display-id).",
)
def serve(
    apps: tuple[str, ...],
    port: int,
    profile: str,
    locale: str,
    display: str,
    count: int,
    connect: bool,
    clock_scale: float,
    phone_speed: str,
    clock_methods: str,
    dump_form: str,
) -> None:
    """Serve virtual devices as adb devices until interrupted (Ctrl-C or SIGTERM). Their clocks run with
    wall time, as a phone's do."""
    from exerciser.sim.adbfront import AdbFront
    from exerciser.sim.adbfront.clock import PhoneSpeed
    from exerciser.sim.adbfront.phone import CLOCK_METHODS

    if port + count - 1 > 65535:
        raise UserError(f"--port {port} --count {count}: the last device's port would pass 65535")
    try:
        speed = PhoneSpeed.parse(phone_speed)
    except ValueError as exc:
        raise UserError(f"--phone-speed: {exc}") from None
    methods = frozenset(m.strip() for m in clock_methods.split(",") if m.strip() not in ("", "none"))
    if methods - CLOCK_METHODS:
        bad = ", ".join(sorted(methods - CLOCK_METHODS))
        raise UserError(f"--clock-methods: unknown {bad} (known: none, {', '.join(sorted(CLOCK_METHODS))})")
    devices = build_devices(apps, profile, locale, count, port, display)
    fronts = []
    phone = {"clock_scale": clock_scale, "speed": speed, "clock_methods": methods}
    try:
        for i, dev in enumerate(devices):
            front = AdbFront(dev, port + i, **phone)
            front.phone.dump_form = dump_form
            fronts.append(front.start())
    except OSError as exc:
        for f in fronts:
            f.stop()
        raise UserError(f"cannot listen on 127.0.0.1:{port + len(fronts)}: {exc.strerror}") from None
    for f in fronts:
        click.echo(
            f"serving {f.serial}  profile={profile} locale={locale} display={display} "
            f"apps={','.join(apps) or '-'} "
            f"clock={clock_scale:g}x set-by={','.join(sorted(methods)) or 'none'} speed={phone_speed}",
            err=True,
        )
    if connect:
        adb = os.environ.get("ADBUTILS_ADB_PATH", "adb")
        for f in fronts:
            r = subprocess.run([adb, "connect", f.serial], capture_output=True, text=True, timeout=20)
            click.echo((r.stdout or r.stderr).strip(), err=True)
    else:
        click.echo("connect with: " + "; ".join(f"adb connect {f.serial}" for f in fronts), err=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for f in fronts:
            f.close()


def register(cli: click.Group) -> None:
    group = cli.commands.get("sim")
    if group is None:  # sim_cmd not loaded: give `serve` its own `sim` group

        @cli.group("sim")
        def group() -> None:
            """The virtual Android device."""

    group.add_command(serve)
