"""`exerciser classify`: read one screen (uiautomator dump, optional screenshot) and print what is on it.

exerciser classify --xml window_dump.xml [--png screen.png] [--package PKG] [--activity ACT] [--json]

The JSON is the public form of a screen reading (`ScreenReading.to_json`): `kinds` (kind, confidence,
source, permission_group for permission kinds, evidence), `targets` (role, bounds, point, text, selector
fields) and the labelled `elements`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

from exerciser.errors import UserError

FILE = click.Path(path_type=Path)  # read errors are reported by _read_bytes, in one line


def _read_bytes(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def _observation(xml_path: Path, png_path: Path | None, package: str | None, activity: str):
    from exerciser.device.contract import Observation
    from exerciser.perceive import hierarchy, vision

    data = _read_bytes(xml_path, "dump")
    if not data.strip():
        raise UserError(f"{xml_path}: empty file, not a uiautomator dump")
    try:
        tree = hierarchy.parse(data)
    except hierarchy.HierarchyError as exc:
        raise UserError(f"{xml_path}: {exc}") from None
    png = b""
    if png_path is not None:
        png = _read_bytes(png_path, "screenshot")
        try:
            vision.decode(png)
        except ValueError:
            raise UserError(f"{png_path}: not an image (PNG or JPEG screenshot expected)") from None
    try:
        xml = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{xml_path}: not UTF-8 text") from None
    # Without --package the top window's package stands for the foreground app (what `dumpsys` would say).
    return Observation(xml=xml, png=png, package=package or tree.package, activity=activity, time_ms=0)


def _info(size: str | None, png: bytes):
    """A DeviceInfo carrying only the screen size (--size, else the screenshot's), or None."""
    from exerciser.device.contract import DeviceInfo
    from exerciser.perceive import hierarchy, vision

    if size is None:
        if not png:
            return None
        h, w = vision.decode(png).shape[:2]
    else:
        m = re.fullmatch(r"\s*(\d+)\s*[x×]\s*(\d+)\s*", size)
        if not m or not int(m.group(1)) or not int(m.group(2)):
            raise UserError(f"--size {size!r}: expected WIDTHxHEIGHT in pixels, e.g. 1080x2340")
        w, h = int(m.group(1)), int(m.group(2))
        got = hierarchy.png_size(png) if png else None
        if got is not None and got != (w, h):
            raise UserError(f"--size {w}x{h} does not match the screenshot ({got[0]}x{got[1]})")
    return DeviceInfo(serial="classify", api_level=0, release="", rom="", locale="", width=w, height=h)


def _human(reading) -> str:
    w, h = reading.screen
    src = "hierarchy + OCR" if reading.blind else "hierarchy"
    lines = [f"{reading.package or '(no package)'}  {w}x{h}  read from {src}"]
    if reading.blind:
        lines[0] += f" ({reading.ocr_ms:.0f} ms OCR)"
    if not reading.kinds:
        lines.append("kinds: none (an ordinary app screen)")
    else:
        lines.append("kinds:")
        for k in reading.kinds:
            group = f" [{k.permission_group}]" if k.permission_group else ""
            detail = "".join(f" {a}={b}" for a, b in k.detail.items() if a in ("obstacle", "nag", "repeat"))
            lines.append(f"  {k.kind}{group}  {k.confidence:.2f} {k.source}{detail}")
            if k.evidence:
                lines.append(f"      because {'; '.join(k.evidence[:5])}")
    if reading.targets:
        lines.append("targets:")
        for t in reading.targets:
            x, y = t.point
            lines.append(f"  {t.role:24s} {t.text!r:28s} tap {x},{y}  bounds {list(t.bounds)}")
    return "\n".join(lines)


@click.command("classify")
@click.option(
    "--xml", "xml_path", type=FILE, metavar="FILE", required=True, help="uiautomator dump of the screen."
)
@click.option(
    "--png",
    "png_path",
    type=FILE,
    metavar="FILE",
    help="Screenshot of the same screen (blind screens need it).",
)
@click.option("--package", help="Foreground package (default: the package of the dump's top window).")
@click.option("--activity", default="", help="Foreground activity, if known.")
@click.option(
    "--size",
    metavar="WxH",
    help="Screen size in pixels (default: the screenshot's; without one, the extent of the dump).",
)
@click.option("--ocr/--no-ocr", default=True, help="Read blind parts of the screen with OCR.  [default: on]")
@click.option("--json", "as_json", is_flag=True, help="Print the reading as JSON.")
def classify(
    xml_path: Path,
    png_path: Path | None,
    package: str | None,
    activity: str,
    size: str | None,
    ocr: bool,
    as_json: bool,
) -> None:
    """Say what one screen is (consent dialog, permission prompt, account page...) and where to tap."""
    from exerciser.perceive import Reader

    obs = _observation(xml_path, png_path, package, activity)
    reader = Reader(ocr=ocr)
    reading = reader.read(obs, _info(size, obs.png))
    if reader.ocr_error:
        click.echo(f"warning: OCR unavailable: {reader.ocr_error}", err=True)
    if as_json:
        click.echo(json.dumps(reading.to_json(), ensure_ascii=False, indent=1))
    else:
        click.echo(_human(reading))


def register(cli: click.Group) -> None:
    cli.add_command(classify)
