"""`exerciser sim …`: look at the virtual device as a person would.

exerciser sim profiles
exerciser sim screenshot MODEL_OR_APPID [--screen S] [--dialog D] [--permission P] -o out.png
exerciser sim walk MODEL_OR_APPID [--script FILE] [--out DIR]
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

import click

from exerciser.errors import UserError

WALK_HELP = """commands:
  tap TEXT|ID|X,Y    tap a node by its text, resource-id (suffix) or content-desc, or a point
  type TEXT          type into the focused field
  back | home        press a key
  start | stop | clear           app_start / am force-stop / pm clear
  wait SECONDS       let the device clock run
  grant PERM | revoke PERM       pm grant / pm revoke (CAMERA or android.permission.CAMERA)
  perms | events | state         permission state / logcat events / persistent state
  shot [NAME]        save a screenshot now
  xml                print the uiautomator dump
  help | quit"""


def _device(model_arg: str, profile: str, locale: str | None, display: str = ""):
    from exerciser.device.contract import DeviceError
    from exerciser.sim import VirtualDevice, resolve_model
    from exerciser.sim.display import DEFAULT, parse_display

    try:
        d = parse_display(display) if display else DEFAULT
    except ValueError as exc:
        raise UserError(f"--display {exc}") from None
    model = resolve_model(model_arg)
    locale = locale or ("zh-CN" if model.language == "zh" else "en-US")
    try:
        dev = VirtualDevice(
            [model], profile=profile, locale=locale, width=d.width, height=d.height, density=d.density
        )
        return dev, model
    except DeviceError as exc:
        raise UserError(str(exc)) from None


def _perm(name: str) -> str:
    return name if "." in name else f"android.permission.{name.upper()}"


def _visible(dev) -> list[str]:
    return _frame_texts(dev.frame())


def _find_node(dev, target: str):
    """The node a walker means: exact text, resource-id (or its suffix), content-desc, then substring."""
    nodes = [n for n in dev.frame().top.root.walk() if n.bounds and n.bounds[2] > n.bounds[0]]
    tests: list[Callable] = [
        lambda n: n.text == target,
        lambda n: n.resource_id == target or n.resource_id.endswith(":id/" + target),
        lambda n: n.content_desc == target,
        lambda n: target.lower() in (n.text or n.content_desc).lower(),
    ]
    for test in tests:
        hits = [n for n in nodes if test(n)]
        if hits:
            clickable = [n for n in hits if n.clickable]
            return (clickable or hits)[0]
    return None


class Walker:
    """Runs walk commands against one virtual device; each step prints the screen and saves a PNG."""

    def __init__(self, dev, package: str, out: Path | None, echo: Callable[[str], None] = click.echo):
        self.dev = dev
        self.package = package
        self.out = out
        self.echo = echo
        self.step = 0
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)

    def describe(self) -> None:
        obs = self.dev.observe()
        self.echo(f"[{self.step:03d}] {obs.package}/{obs.activity}  t={self._clock()}")
        texts = _visible(self.dev)
        self.echo("      " + (" | ".join(texts) if texts else "(no text)"))

    def _clock(self) -> str:
        return self.dev.local_time(self.dev.now_ms()).strftime("%m-%d %H:%M:%S")

    def shot(self, name: str | None = None) -> None:
        if self.out is None:
            return
        path = self.out / f"{name or f'step-{self.step:03d}'}.png"
        path.write_bytes(self.dev.observe().png)

    def run(self, line: str) -> bool:
        """Execute one command. Returns False on quit. Raises UserError on a bad command."""
        from exerciser.device.contract import DeviceError, Key

        try:
            parts = shlex.split(line, comments=True)
        except ValueError as exc:
            raise UserError(f"cannot parse: {exc}") from None
        if not parts:
            return True
        cmd, args = parts[0].lower(), parts[1:]
        arg = " ".join(args)
        dev = self.dev
        try:
            if cmd in ("quit", "exit", "q"):
                return False
            if cmd == "help":
                self.echo(WALK_HELP)
                return True
            if cmd == "tap":
                m = re.fullmatch(r"\s*(\d+)\s*,\s*(\d+)\s*", arg)
                if m:
                    dev.tap(int(m[1]), int(m[2]))
                else:
                    node = _find_node(dev, arg)
                    if node is None:
                        raise UserError(f"nothing called {arg!r} on screen ({' | '.join(_visible(dev))})")
                    x1, y1, x2, y2 = node.bounds
                    dev.tap((x1 + x2) // 2, (y1 + y2) // 2)
            elif cmd == "type":
                dev.type_text(arg)
            elif cmd in ("back", "home"):
                dev.key(Key(cmd))
            elif cmd == "start":
                dev.app_start(self.package)
            elif cmd == "stop":
                dev.app_stop(self.package)
            elif cmd == "clear":
                dev.app_clear(self.package)
            elif cmd == "wait":
                try:
                    dev.wait(float(arg))
                except ValueError:
                    raise UserError(f"wait needs seconds, got {arg!r}") from None
            elif cmd in ("grant", "revoke"):
                if not arg:
                    raise UserError(f"{cmd} needs a permission")
                getattr(dev, cmd)(self.package, _perm(arg))
            elif cmd == "perms":
                for name, st in dev.permissions(self.package).items():
                    flags = "|".join(sorted(st.flags)) or "-"
                    self.echo(f"      {name}: granted={str(st.granted).lower()} flags={flags}")
                return True
            elif cmd == "events":
                self.echo(dev.logcat_text().rstrip("\n"))
                return True
            elif cmd == "state":
                self.echo(f"      {dev.app_state(self.package)}")
                return True
            elif cmd == "xml":
                self.echo(dev.observe().xml)
                return True
            elif cmd == "shot":
                self.shot(arg or None)
                return True
            else:
                raise UserError(f"unknown command {cmd!r} (try help)")
        except DeviceError as exc:
            raise UserError(str(exc)) from None
        self.step += 1
        self.shot()
        self.describe()
        return True


def register(cli: click.Group) -> None:
    @cli.group("sim")
    def sim() -> None:
        """The virtual Android device: profiles, screenshots of app models, walks."""

    @sim.command("profiles")
    def profiles() -> None:
        """List the device profiles."""
        from exerciser.sim import PROFILES

        head = f"{'profile':<9} {'api':>3} {'release':<7} {'rom':<8} {'permission dialog':<40} launcher"
        click.echo(head)
        for name, p in PROFILES.items():
            row = f"{name:<9} {p.api_level:>3} {p.release:<7} {p.rom:<8} {p.controller_package:<40}"
            click.echo(f"{row} {p.launcher_package}")
        click.echo("locales: en-US, zh-CN")

    profile_opt = click.option(
        "--profile", default="api33", show_default=True, help="Device profile (sim profiles)."
    )
    locale_opt = click.option("--locale", default=None, help="en-US or zh-CN.  [default: the app's language]")
    display_opt = click.option(
        "--display", default="", help="Panel WIDTHxHEIGHT@DPI, e.g. 540x1170@240.  [default: 1080x2340@440]"
    )

    @sim.command("screenshot")
    @click.argument("model")
    @click.option("--screen", help="Screen to draw (default: what the app shows after a cold start).")
    @click.option("--dialog", help="App dialog to draw over the screen.")
    @click.option(
        "--permission", help="Draw the system permission dialog for this permission over the screen."
    )
    @profile_opt
    @locale_opt
    @display_opt
    @click.option(
        "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="PNG file to write."
    )
    @click.option(
        "--xml", "xml_out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the dump."
    )
    def screenshot(
        model: str,
        screen: str | None,
        dialog: str | None,
        permission: str | None,
        profile: str,
        locale: str | None,
        display: str,
        output: Path | None,
        xml_out: Path | None,
    ) -> None:
        """Render a screen of MODEL (a sample app id or a path to an app.yaml) to a PNG."""
        from exerciser.device.contract import DeviceError
        from exerciser.sim import uixml

        dev, m = _device(model, profile, locale, display)
        try:
            if screen or dialog or permission:
                frame = dev.frame_for(m.package, screen, dialog, _perm(permission) if permission else None)
            else:
                dev.app_start(m.package)
                frame = dev.frame()
        except DeviceError as exc:
            raise UserError(str(exc)) from None
        output = output or Path(f"{m.app_id or m.package}-{screen or dialog or 'launch'}.png")
        output.write_bytes(dev.render_png(frame))
        if xml_out is not None:
            xml_out.write_text(uixml.dump(frame), encoding="utf-8")
        top = frame.top
        click.echo(f"{output}: {top.package} ({top.kind}) {' | '.join(_frame_texts(frame))}")

    @sim.command("walk")
    @click.argument("model")
    @profile_opt
    @locale_opt
    @display_opt
    @click.option(
        "--script", type=click.File("r", encoding="utf-8"), help="Commands, one per line ('-': stdin)."
    )
    @click.option(
        "--out", type=click.Path(file_okay=False, path_type=Path), help="Folder for a PNG per step."
    )
    @click.option("--no-start", is_flag=True, help="Begin on the launcher instead of starting the app.")
    def walk(
        model: str, profile: str, locale: str | None, display: str, script, out: Path | None, no_start: bool
    ) -> None:
        """Walk through MODEL on the virtual device, interactively or from a script."""
        dev, m = _device(model, profile, locale, display)
        walker = Walker(dev, m.package, out)
        walker.shot()
        if not no_start:
            walker.run("start")
        else:
            walker.describe()
        if script is not None:
            name = getattr(script, "name", "script")
            for lineno, line in enumerate(script, 1):
                try:
                    if not walker.run(line):
                        break
                except UserError as exc:
                    raise UserError(f"{name}:{lineno}: {exc.message}") from None
            return
        click.echo("type help for commands", err=True)
        while True:
            try:
                line = click.prompt("walk", prompt_suffix="> ", default="", show_default=False)
            except (EOFError, click.exceptions.Abort):
                click.echo("", err=True)
                return
            try:
                if not walker.run(line):
                    return
            except UserError as exc:
                click.echo(f"error: {exc.message}", err=True)
            sys.stdout.flush()


def _frame_texts(frame) -> list[str]:
    out: list[str] = []

    def visit(node, blind: bool) -> None:
        blind = blind or node.blind
        label = node.text or node.content_desc
        if label:
            shown = f"[{label}]" if blind else label
            if not out or out[-1] != shown:  # a tab's content-desc repeats its label
                out.append(shown)
        for c in node.children:
            visit(c, blind)

    visit(frame.top.root, False)
    return out
