"""Density of the virtual device: a phone has a panel size and a density, layouts are in dp (1 dp = dpi/160
px), and every way a client reads the display (`wm`, getprop, dumpsys, uiautomator2's device info, the
screenshot itself) agrees, overrides included."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner
from PIL import Image
from sim_helpers import FIXTURES, PKG, sim_model

from exerciser.cli.main import cli
from exerciser.sim import VirtualDevice
from exerciser.sim import scroll as SC
from exerciser.sim.adbfront.commands import make_commands
from exerciser.sim.adbfront.phone import Phone
from exerciser.sim.adbfront.shell import Shell
from exerciser.sim.adbfront.u2server import _device_info
from exerciser.sim.display import PRESETS, parse_display


def _bounds(xml: str) -> dict[str, tuple[int, int, int, int]]:
    """Bounds of every node that has a resource-id or text, by that key."""
    out: dict[str, tuple[int, int, int, int]] = {}
    for n in ET.fromstring(xml).iter("node"):
        key = n.get("resource-id") or n.get("text")
        if key and key not in out:
            x1, y1, x2, y2 = map(int, re.findall(r"-?\d+", n.get("bounds", "")))
            out[key] = (x1, y1, x2, y2)
    return out


def _started(width: int, height: int, density: int) -> VirtualDevice:
    dev = VirtualDevice([sim_model()], width=width, height=height, density=density)
    dev.app_start(PKG)
    return dev


@pytest.fixture(scope="module")
def screens() -> dict[str, tuple[str, bytes, tuple[int, int]]]:
    """The privacy dialog of the test app at the reference display, at half its pixels and the same dp,
    and at each preset."""
    shots = {}
    for d in (parse_display("1080x2340@440"), parse_display("540x1170@220"), *PRESETS):
        dev = _started(d.width, d.height, d.density)
        obs, frame = dev.observe(), dev.frame()
        shots[str(d)] = (obs.xml, obs.png, (frame.status_bar_height, frame.nav_bar_height))
    return shots


def test_the_same_screen_in_dp_lays_out_the_same_at_half_the_pixels(screens) -> None:
    big, small = _bounds(screens["1080x2340@440"][0]), _bounds(screens["540x1170@220"][0])
    assert big.keys() == small.keys() and len(big) > 5
    for key, b in big.items():
        half = tuple(v / 2 for v in b)
        assert all(abs(s - h) <= 1 for s, h in zip(small[key], half, strict=True)), (key, b, small[key])


@pytest.mark.parametrize("display", [str(d) for d in PRESETS])
def test_touch_targets_bars_and_screenshot_follow_the_density(screens, display) -> None:
    d = parse_display(display)
    xml, png, (status_bar, nav_bar) = screens[display]
    assert Image.open(io.BytesIO(png)).size == (d.width, d.height)
    b = _bounds(xml)
    agree = b[f"{PKG}:id/btn_agree"]
    dp = d.density / 160
    assert abs((agree[3] - agree[1]) - 48 * dp) <= 2  # a 48 dp touch target
    assert (status_bar, nav_bar) == (round(63 * d.density / 440), round(126 * d.density / 440))
    img = Image.open(io.BytesIO(png)).convert("L")
    # the nav bar's home button is drawn in the nav bar's band, scaled with it
    band = img.crop((0, d.height - nav_bar, d.width, d.height))
    assert band.getextrema()[1] - band.getextrema()[0] > 60
    # every node stays on the screen at every density
    assert all(v[0] >= 0 and v[2] <= d.width and v[3] <= d.height for v in b.values())


def test_wider_dp_screens_wrap_less(screens) -> None:
    """360 dp (540@240) is narrower than 411 dp (1440@560): the same message takes more lines."""
    narrow, wide = _bounds(screens["540x1170@240"][0]), _bounds(screens["1440x3200@560"][0])
    key = next(k for k in narrow if k.endswith(":id/message"))
    n, w = narrow[key], wide[key]
    assert (n[3] - n[1]) / (240 / 160) > (w[3] - w[1]) / (560 / 160)


def test_touch_slop_and_fling_are_in_dp() -> None:
    # 15 px is beyond 8 dp at 240 dpi (12 px), inside it at 440 dpi (22 px)
    assert SC.is_tap(0, 15) and not SC.is_tap(0, 15, dp=240 / 160)
    assert SC.gesture_delta(15, 1000) == 0 and SC.gesture_delta(15, 1000, dp=240 / 160) == 3
    # the same swipe in dp flings the same distance in dp
    near = SC.fling_distance(1000 * 2.75) / 2.75
    assert abs(SC.fling_distance(1000 * 1.5, dp=1.5) / 1.5 - near) < 1


@pytest.fixture()
def served():
    dev = VirtualDevice([sim_model()], width=1080, height=2340, density=440)
    phone = Phone(dev, "127.0.0.1:7401", 7401)
    return Shell(phone.fs, make_commands(phone)), phone, dev


def sh(shell: Shell, line: str) -> tuple[str, str, int]:
    out, err, status = shell.run(line)
    return out.decode(), err.decode(), status


def test_wm_overrides_change_what_every_reader_reports(served) -> None:
    shell, phone, dev = served
    assert sh(shell, "wm size; wm density")[0] == "Physical size: 1080x2340\nPhysical density: 440\n"
    assert sh(shell, "wm size 720x1600") == ("", "", 0)
    assert sh(shell, "wm density 320") == ("", "", 0)
    assert sh(shell, "wm size")[0] == "Physical size: 1080x2340\nOverride size: 720x1600\n"
    assert sh(shell, "wm density")[0] == "Physical density: 440\nOverride density: 320\n"
    assert sh(shell, "getprop ro.sf.lcd_density")[0] == "440\n"  # a read-only property: the panel's
    windows = sh(shell, "dumpsys window displays")[0]
    assert "init=1080x2340 440dpi base=720x1600 320dpi cur=720x1600" in windows
    display = sh(shell, "dumpsys display")[0]
    assert "1080 x 2340, modeId 1" in display and "real 720 x 1600, rotation 0, density 320" in display
    info = _device_info(phone)
    assert (info["displayWidth"], info["displayHeight"], info["displaySizeDpX"]) == (720, 1600, 360)
    dev.app_start(PKG)
    obs = dev.observe()
    assert Image.open(io.BytesIO(obs.png)).size == (720, 1600)
    agree = _bounds(obs.xml)[f"{PKG}:id/btn_agree"]
    assert abs((agree[3] - agree[1]) - 48 * 2) <= 2  # laid out again at 320 dpi
    assert sh(shell, "wm size reset; wm density reset; wm size; wm density")[0] == (
        "Physical size: 1080x2340\nPhysical density: 440\n"
    )
    assert Image.open(io.BytesIO(dev.observe().png)).size == (1080, 2340)


def test_wm_refuses_what_aosp_refuses(served) -> None:
    shell, _, dev = served
    assert sh(shell, "wm density 50") == ("", "Error: density must be >= 72\n", 255)
    assert sh(shell, "wm size 1080") == ("", "Error: bad size 1080\n", 255)
    assert sh(shell, "wm size 360dpx800dp")[2] == 0  # dp at the current density: 990x2200 px
    assert (dev.info.width, dev.info.height) == (990, 2200)


def test_cli_display_option(tmp_path) -> None:
    out = tmp_path / "small.png"
    app = str(FIXTURES / "testapp.yaml")
    res = CliRunner().invoke(cli, ["sim", "screenshot", app, "--display", "540x1170@240", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert Image.open(out).size == (540, 1170)
    for bad in ("540x1170@50", "big", "100x100@440"):
        res = CliRunner().invoke(cli, ["sim", "screenshot", app, "--display", bad, "-o", str(out)])
        assert res.exit_code == 2 and "--display" in res.output, res.output
    # a scenario's display is checked before anything runs or is written
    scenario = tmp_path / "s.yaml"
    scenario.write_text("app: {sample: compliant_en}\ndisplay: 540x1170@40\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["run", str(scenario), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2 and "display: '540x1170@40': density must be >= 72" in res.output, res.output
    assert not (tmp_path / "out").exists()
    res = CliRunner().invoke(cli, ["run", str(scenario), "--display", "540x1170@240", "--devices", "all"])
    assert res.exit_code == 2 and "--display is for the virtual device" in res.output, res.output


def test_system_ui_overlays_follow_the_density() -> None:
    """The keyguard and the notification shade are SystemUI's, laid out in dp too."""
    from exerciser.sim.adbfront.keyguard import keyguard_xml
    from exerciser.sim.adbfront.shade import shade_xml

    big = VirtualDevice([], width=1080, height=2340, density=440).info
    small = VirtualDevice([], width=540, height=1170, density=220).info
    for make in (lambda i: keyguard_xml(i, "9:41"), lambda i: shade_xml(i, "quick_settings", "9:41")):
        b, s = _bounds(make(big)), _bounds(make(small))
        assert b.keys() == s.keys() and len(b) >= 2
        for key, rect in b.items():
            assert all(abs(v / 2 - w) <= 1 for v, w in zip(rect, s[key], strict=True)), (key, rect, s[key])


def test_sim_serve_builds_its_phones_on_the_display() -> None:
    from exerciser.cli.serve_cmd import build_devices
    from exerciser.errors import UserError

    (dev,) = build_devices((), "api33", "en-US", 1, 7401, "720x1600@320")
    assert (dev.info.width, dev.info.height, dev.info.density) == (720, 1600, 320)
    assert dev.physical_display == (720, 1600, 320)
    with pytest.raises(UserError, match="--display '720x1600@9999'"):
        build_devices((), "api33", "en-US", 1, 7401, "720x1600@9999")
