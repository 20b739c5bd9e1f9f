"""What uiautomator2's and adbutils' own device tests look for on the served phone, in process: pinch and
two-finger gestures (UiObject's pointer tracks read by a transformable view), model arithmetic and
toasts of the stand-in demo app, and a logcat that keeps moving with the system's own lines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from exerciser import knowledge
from exerciser.device.u2driver import LOGCAT_FILTER
from exerciser.sim import VirtualDevice, resolve_model
from exerciser.sim.adbfront import u2server as U
from exerciser.sim.adbfront.commands import make_commands
from exerciser.sim.adbfront.phone import Phone
from exerciser.sim.adbfront.shell import Shell
from exerciser.sim.appmodel import parse_app_model
from exerciser.sim.transform import apply_zoom, two_pointer_frames, zoom_changes

APPS = Path(__file__).parent / "client_apps"
DEMO = "com.example.u2testdemo"
IMAGE = {"description": "pinch image", "mask": 4}


def _phone(profile: str = "api33", port: int = 7411, clock_scale: float = 1.0) -> Phone:
    dev = VirtualDevice([resolve_model(str(APPS / "u2testdemo.yaml"))], profile=profile, locale="en-US")
    return Phone(dev, f"127.0.0.1:{port}", port, clock_scale=clock_scale)


@pytest.fixture()
def demo() -> Phone:
    phone = _phone(clock_scale=50)  # gestures take their 5 ms per move in device time: fast here
    phone.device.app_start(DEMO)
    return phone


def _scale(phone: Phone) -> float:
    (text,) = re.findall(r'text="Scale: ([0-9.]+)"', phone.hierarchy())
    return float(text)


def _edit_texts(phone: Phone) -> list[str]:
    return re.findall(r'<node [^>]*text="([^"]*)"[^>]*class="android.widget.EditText"', phone.hierarchy())


def test_pinch_in_out_and_two_finger_gesture_scale_the_transformable_image(demo: Phone):
    U.call(demo, "click", [{"text": "Pinch", "mask": 1}])
    assert _scale(demo) == 1.0
    U.call(demo, "pinchIn", [IMAGE, 80, 50])
    assert _scale(demo) == 0.5  # the fingers end 40 px apart: far below, clamped to the minimum
    U.call(demo, "pinchOut", [IMAGE, 30, 50])
    grown = _scale(demo)
    assert 0.5 < grown < 3.0  # a short spread: more than the slop, less than the clamp
    U.call(demo, "pinchOut", [IMAGE, 100, 50])
    assert _scale(demo) == 3.0
    w, h = demo.info.width, demo.info.height
    pts = [{"x": int(x * w), "y": int(h / 2)} for x in (0.1, 0.9, 0.5, 0.5)]
    U.call(demo, "gesture", [{}, *pts, 20])
    assert _scale(demo) == 0.5
    # a pinch whose integer step is 0 (UiObject divides ints) moves no finger before the last point
    U.call(demo, "pinchOut", [IMAGE, 10, 50])
    assert _scale(demo) == 0.5
    with pytest.raises(U.RpcError, match="Percent must be between 0 and 100"):
        U.call(demo, "pinchIn", [IMAGE, 120, 50])
    with pytest.raises(U.RpcError, match="UiObjectNotFoundException"):
        U.call(demo, "pinchIn", [{"description": "no such view", "mask": 4}, 50, 50])
    # a new PinchActivity starts at 1 again; other screens ignore a second finger
    U.call(demo, "pressKey", ["back"])
    U.call(demo, "click", [{"text": "Pinch", "mask": 1}])
    assert _scale(demo) == 1.0
    U.call(demo, "pressKey", ["back"])
    before = demo.hierarchy()
    U.call(demo, "gesture", [{}, *pts, 20])
    assert demo.hierarchy() == before


def test_transform_detector_counts_moves_past_the_touch_slop_only():
    # fingers 100 px apart spreading to 200 px in 10 moves; slop 22 px
    left = [(500 - 50 - 5 * i, 800) for i in range(12)]
    right = [(500 + 50 + 5 * i, 800) for i in range(12)]
    frames = two_pointer_frames(left, right)
    assert frames[0] == {0: left[0]} and frames[-1] == {} and frames[-2] == {0: left[-1]}
    changes = zoom_changes(frames, touch_slop=22)
    # the first moves stay within the slop (|1 - zoom| * 50 px): their change is dropped
    assert 0 < len(changes) < 10
    last_move = (right[-2][0] - left[-2][0]) / 2
    assert apply_zoom(1.0, changes, 0.1, 10) < last_move / 50  # below the unslopped ratio
    assert apply_zoom(1.0, changes, 0.1, 1.5) == 1.5
    still = two_pointer_frames([(100, 100)] * 5, [(300, 100)] * 5)
    assert zoom_changes(still, 22) == []  # fingers going down and up zoom nothing


def test_addition_screen_adds_fields_as_kotlin_ints_and_toast_is_read_back(demo: Phone):
    U.call(demo, "click", [{"text": "Addition", "mask": 1}])
    assert _edit_texts(demo) == ["", "", ""]  # Compose fields with no hint read empty
    field = {"className": "android.widget.EditText", "mask": 1}

    def add(a: str, b: str) -> str:
        U.call(demo, "setText", [{**field, "instance": 0}, a])
        U.call(demo, "setText", [{**field, "instance": 1}, b])
        U.call(demo, "click", [{"text": "Add", "mask": 1}])
        return _edit_texts(demo)[2]

    assert add("1", "2") == "3"
    assert add("-7", "x") == "-7"  # toIntOrNull() ?: 0
    assert add("2147483647", "1") == "-2147483648"  # Int arithmetic wraps
    assert add("99999999999", "5") == "5"  # beyond Int: null, so 0
    U.call(demo, "pressKey", ["back"])
    U.call(demo, "clearLastToast", [])
    assert U.call(demo, "getLastToast", []) is None
    U.call(demo, "click", [{"text": "Toast", "mask": 1}])
    U.call(demo, "click", [{"text": "Show Toast", "mask": 1}])
    assert U.call(demo, "getLastToast", []) == "Button Clicked!"


def test_model_errors_for_sum_and_zoom():
    base = (APPS / "u2testdemo.yaml").read_text(encoding="utf-8")
    with pytest.raises(Exception, match=r"sum\[1\]: unknown input id 'btn_add'"):
        parse_app_model(base.replace("sum: [num1, num2]", "sum: [num1, btn_add]"), "x/app.yaml")
    with pytest.raises(Exception, match="'sum' needs 'into'"):
        parse_app_model(base.replace(", into: result", ""), "x/app.yaml")
    with pytest.raises(Exception, match="'scale' is not a number state key"):
        parse_app_model(base.replace("scale: 1.0", "scale: big"), "x/app.yaml")


def _epoch_lines(text: str) -> list[tuple[float, str]]:
    return [(float(ln.split()[0]), ln) for ln in text.splitlines() if not ln.startswith("---------")]


def _sh(phone: Phone) -> Shell:
    return Shell(phone.fs, make_commands(phone))


def _run(shell: Shell, line: str) -> str:
    return shell.run(line)[0].decode()


@pytest.mark.parametrize("profile,pss_fields", [("api33", 10), ("api28", 9)])
def test_logcat_keeps_moving_with_the_system_processes_own_lines(profile: str, pss_fields: int):
    phone = _phone(profile, 7412, clock_scale=5000)  # device time runs 5000 times faster
    shell = _sh(phone)
    cleared = phone.now_ms()  # (before the clear: the clock runs on)
    _run(shell, "logcat -c")
    phone.clock.sleep(1200)  # twenty idle minutes: nobody touches the phone
    main = _run(shell, "logcat -d")
    lines = [ln for ln in main.splitlines() if not ln.startswith("---------")]
    assert len(lines) >= 20
    server = _run(shell, "pidof system_server").strip()
    gc = [ln for ln in lines if " I system_server: Background " in ln]
    assert gc and all(re.match(rf"\d\d-\d\d \d\d:\d\d:\d\d\.\d{{3}} +{server} +\d+ I", ln) for ln in gc)
    assert re.search(r"GC freed \d+\(\d+(B|KB|MB)\) AllocSpace objects, \d+\(\d+(B|KB|MB)\) LOS", gc[0])
    ui = _run(shell, "pidof com.android.systemui").strip()
    assert any(f" {ui} " in ln and "ndroid.systemui:" in ln for ln in lines)
    # the same stretch of time reads the same (the clock runs on between reads: compare the overlap)
    first, second = (_epoch_lines(_run(shell, "logcat -d -v epoch")) for _ in range(2))
    lo, hi = second[0][0], first[-1][0]
    assert [ln for t, ln in first if t >= lo] == [ln for t, ln in second if t <= hi]
    stamps = [int(m) for m in re.findall(r"^\s*(\d+)\.\d{3} ", _run(shell, "logcat -d -v epoch"), re.M)]
    assert min(stamps) >= cleared // 1000  # nothing from before the clear
    pss = re.findall(r"am_pss: \[(.*)\]", _run(shell, "logcat -d -b events"))
    assert pss and all(len(p.split(",")) == pss_fields and p.startswith(server) for p in pss)
    # the activity manager's own lines come from the same system_server
    _run(shell, f"am start -n {DEMO}/.MainActivity")
    starts = re.findall(
        r"^\S+ \S+ +(\d+) .*(?:am_proc_start|START u0)", _run(shell, "logcat -d -b all"), re.M
    )
    assert starts and set(starts) == {server}
    # the driver's filter and the simulator's own event log see none of the chatter
    assert "GC freed" not in _run(shell, f"logcat -d -b events -b main {LOGCAT_FILTER}")
    assert "GC freed" not in phone.device.logcat_text()
    # a clock set a day ahead brings only what logd would keep
    _run(shell, "settings put global auto_time 0")
    phone.clock.set_ms(phone.now_ms() + 86_400_000)
    asked = phone.now_ms()  # (the clock runs on while logcat reads)
    later = [
        int(m)
        for m in re.findall(r"^\s*(\d+)\.\d{3} ", _run(shell, "logcat -d -v epoch system_server:I *:S"), re.M)
    ]
    retain_s = knowledge.load("android/logcat_chatter.yaml")["retain_s"]
    assert later and min(later) >= asked // 1000 - retain_s - 1
