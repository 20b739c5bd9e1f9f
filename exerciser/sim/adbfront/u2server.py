"""The on-device uiautomator2 server (what `app_process ... com.wetest.uia2.Main -p 9008` serves), reached
through `tcp:9008` streams: HTTP/1.1, `GET /ping` -> `pong`, `POST /jsonrpc/0` JSON-RPC 2.0.

Methods answer from the served device: the hierarchy and screenshot of the current observation, input
through the same paths as `input` (so the screen lock applies), selector queries over the dumped XML.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import re
import time
from typing import Any

from exerciser.device.contract import DeviceError, Key
from exerciser.sim.adbfront import u2scroll
from exerciser.sim.adbfront.phone import KEYCODES, Phone
from exerciser.sim.adbfront.wire import Stream, StreamClosed
from exerciser.sim.transform import two_pointer_frames

log = logging.getLogger(__name__)

_KEYS = {  # uiautomator2 press() names -> keycode
    "home": 3,
    "back": 4,
    "left": 21,
    "right": 22,
    "up": 19,
    "down": 20,
    "center": 23,
    "menu": 82,
    "search": 84,
    "enter": 66,
    "delete": 67,
    "del": 67,
    "recent": 187,
    "volume_up": 24,
    "volume_down": 25,
    "volume_mute": 164,
    "camera": 27,
    "power": 26,
}


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


def serve_http(stream: Stream, phone: Phone) -> None:
    """HTTP/1.1 with keep-alive on one tcp:9008 stream."""
    while True:
        try:
            head = stream.read_until(b"\r\n\r\n", limit=64 * 1024)
        except StreamClosed:
            return
        lines = head.decode("latin-1").split("\r\n")
        method, path, _version = (lines[0].split(" ", 2) + ["", ""])[:3]
        headers = {}
        for ln in lines[1:]:
            if ":" in ln:
                k, v = ln.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        body = (
            stream.read_exact(int(headers.get("content-length", "0") or 0))
            if headers.get("content-length")
            else b""
        )
        if phone.u2_processes == 0:
            return  # the server process died: the connection drops
        if path == "/ping" and time.monotonic() < phone.u2_ready_at:
            return  # still starting (a slow phone): not listening yet
        stalls = path.startswith("/jsonrpc") and (phone.u2_wedged or phone.rpc_delay_s)
        if stalls and not _stall(stream, phone):
            return
        status, ctype, payload = _route(phone, method, path, body)
        keep = headers.get("connection", "").lower() == "keep-alive"
        reason = {200: "OK", 404: "Not Found", 500: "Internal Server Error"}.get(status, "OK")
        resp = (
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nDate: Thu, 01 Jan 2026 00:00:00 GMT\r\n"
            f"Connection: {'keep-alive' if keep else 'close'}\r\nContent-Length: {len(payload)}\r\n\r\n"
        ).encode() + payload
        stream.write(resp)
        if not keep:
            return


def _stall(stream: Stream, phone: Phone) -> bool:
    """A slow phone answers late; a wedged server never does, until its process is killed (False)."""
    deadline = time.monotonic() + phone.rpc_delay_s
    while phone.u2_wedged or time.monotonic() < deadline:
        if phone.u2_processes == 0 or stream.peer_closed:
            return False
        time.sleep(0.02)
    return True


def _route(phone: Phone, method: str, path: str, body: bytes) -> tuple[int, str, bytes]:
    if method == "GET" and path == "/ping":
        return 200, "text/plain", b"pong"
    if method == "GET" and path == "/version":
        return 200, "text/plain", b"0.4.1"
    if method == "POST" and path.startswith("/jsonrpc/0"):
        try:
            req = json.loads(body or b"{}")
        except json.JSONDecodeError:
            return (
                200,
                "application/json",
                json.dumps(
                    {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}}
                ).encode(),
            )
        rid = req.get("id", 1)
        try:
            result = call(phone, req.get("method", ""), req.get("params") or [])
            out = {"jsonrpc": "2.0", "id": rid, "result": result}
        except RpcError as exc:
            out = {
                "jsonrpc": "2.0",
                "id": rid,
                "error": {"code": exc.code, "message": exc.message, "data": exc.data},
            }
        return 200, "application/json", json.dumps(out, ensure_ascii=False).encode("utf-8")
    return 404, "text/plain", b"Not Found"


def call(phone: Phone, method: str, params: Any) -> Any:
    args = list(params.values()) if isinstance(params, dict) else list(params)
    fn = _METHODS.get(method)
    if fn is None:
        raise RpcError(-32601, f"Method not found: {method}")
    try:
        return fn(phone, *args)
    except RpcError:
        raise
    except (TypeError, ValueError, IndexError) as exc:
        raise RpcError(-32602, f"java.lang.IllegalArgumentException: {exc}") from exc
    except DeviceError as exc:
        raise RpcError(-32001, f"java.lang.IllegalStateException: {exc}") from exc


# --- methods ---------------------------------------------------------------------------------------------


def _dump(phone: Phone, compressed: bool = False, max_depth: int = 50, root_in_active: bool = False) -> str:
    xml = phone.hierarchy()
    phone.clock.latency("dump")  # the tree as it was asked for, delivered at a phone's pace
    return xml


def _screenshot(phone: Phone, scale: float = 1.0, quality: int = 80) -> str:
    data = phone.jpeg(int(quality))
    phone.clock.latency("screenshot")
    if scale and abs(float(scale) - 1.0) > 1e-6:
        from PIL import Image

        img = Image.open(io.BytesIO(data))
        img = img.resize((max(1, int(img.width * scale)), max(1, int(img.height * scale))))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=int(quality))
        data = buf.getvalue()
    return base64.b64encode(data).decode()


def _click(phone: Phone, x: Any, y: Any = None, duration_ms: Any = None) -> bool:
    if isinstance(x, dict):  # click(selector[, timeout])
        node = _find(phone, x)
        if node is None:
            raise _not_found(x)
        cx, cy = _center(node)
        phone.tap(cx, cy)
        return True
    phone.tap(int(x), int(y), int(duration_ms or 0))
    return True


def _long_click(phone: Phone, sel: dict, *rest) -> bool:
    node = _find(phone, sel)
    if node is None:
        raise _not_found(sel)
    cx, cy = _center(node)
    phone.tap(cx, cy, 800)
    return True


def _swipe(phone: Phone, fx, fy, tx, ty, steps: int = 55) -> bool:
    ms = max(1, int(steps)) * 5
    phone.swipe(int(fx), int(fy), int(tx), int(ty), ms)
    _gesture_time(phone, ms)
    return True


def _swipe_points(phone: Phone, points: list, steps: int = 55) -> bool:
    ms = max(1, int(steps)) * 5
    if len(points) >= 4:
        phone.swipe(int(points[0]), int(points[1]), int(points[-2]), int(points[-1]), ms)
    _gesture_time(phone, ms * max(1, len(points) // 2 - 1))
    return True


def _gesture_time(phone: Phone, ms: int) -> None:
    """UiDevice.swipe injects one move per step, 5 ms apart (UiAutomatorBridge): the call returns after
    the gesture has run, as on a phone (in the phone's time)."""
    phone.clock.sleep(ms / 1000)


def _press_key(phone: Phone, name: str) -> bool:
    code = _KEYS.get(str(name).lower())
    if code is None:
        return False
    return phone.press_keycode(code)


def _press_keycode(phone: Phone, code: int, meta: int = 0) -> bool:
    return phone.press_keycode(int(code))


_touch_down: dict[int, tuple[int, int]] = {}


def _inject(phone: Phone, action: int, x, y, meta: int = 0) -> bool:
    key = id(phone)
    if action == 0:
        _touch_down[key] = (int(x), int(y))
    elif action == 1 and key in _touch_down:
        x0, y0 = _touch_down.pop(key)
        if abs(x0 - int(x)) + abs(y0 - int(y)) < 20 * phone.info.density / 440:  # about 7 dp
            phone.tap(x0, y0)
        else:
            phone.swipe(x0, y0, int(x), int(y), 300)
    return True


FINGER_TOUCH_HALF_WIDTH = 20  # androidx.test.uiautomator UiObject: the fingers' gap at the centre


def _two_pointer(phone: Phone, p1: dict, p2: dict, e1: dict, e2: dict, steps: int) -> bool:
    """UiObject.performTwoPointerGesture: steps + 2 points per finger, `step = (end - start) / steps` in
    int arithmetic (Point holds ints), then performMultiPointerGesture's events, 5 ms per move."""
    steps = int(steps) or 1
    tracks = []
    for (sx, sy), (ex, ey) in (
        ((p1["x"], p1["y"]), (e1["x"], e1["y"])),
        ((p2["x"], p2["y"]), (e2["x"], e2["y"])),
    ):
        sx, sy, ex, ey = int(sx), int(sy), int(ex), int(ey)
        dx, dy = int((ex - sx) / steps), int((ey - sy) / steps)  # Java int division truncates
        tracks.append([(sx + dx * i, sy + dy * i) for i in range(steps + 1)] + [(ex, ey)])
    phone.multi_touch(two_pointer_frames(*tracks), steps * 5)
    _gesture_time(phone, steps * 5)
    return True


def _pinch(phone: Phone, sel: dict, percent: int, steps: int, inward: bool) -> bool:
    """UiObject.pinchIn / pinchOut: two fingers on the object's horizontal centre line, between its
    edges (`percent` of its half width out) and 20 px either side of its centre."""
    if not 0 <= int(percent) <= 100:
        raise RpcError(-32001, "java.lang.IllegalArgumentException: Percent must be between 0 and 100")
    node = _find(phone, sel)
    if node is None:
        raise _not_found(sel)
    b = _bounds(node)
    width = b["right"] - b["left"]
    if width <= FINGER_TOUCH_HALF_WIDTH * 2:
        raise RpcError(-32001, "java.lang.IllegalStateException: Object width is too small for operation")
    cx, cy = (b["left"] + b["right"]) // 2, (b["top"] + b["bottom"]) // 2  # Rect.centerX/Y
    out = int((width // 2) * (int(percent) / 100))
    edge = ({"x": cx - out, "y": cy}, {"x": cx + out, "y": cy})
    centre = ({"x": cx - FINGER_TOUCH_HALF_WIDTH, "y": cy}, {"x": cx + FINGER_TOUCH_HALF_WIDTH, "y": cy})
    start, end = (edge, centre) if inward else (centre, edge)
    return _two_pointer(phone, *start, *end, steps)


def _gesture(phone: Phone, sel: dict, s1: dict, s2: dict, e1: dict, e2: dict, steps: int = 100) -> bool:
    """gesture(selector, start1, start2, end1, end2, steps): screen points; UiObject's
    performTwoPointerGesture never looks the object up."""
    return _two_pointer(phone, s1, s2, e1, e2, steps)


def _device_info(phone: Phone) -> dict:
    i = phone.info
    pkg, _ = phone.focus()
    return {
        "currentPackageName": pkg,
        "displayHeight": i.height,
        "displayWidth": i.width,
        "displayRotation": 0,
        "displaySizeDpX": round(i.width * 160 / i.density),
        "displaySizeDpY": round(i.height * 160 / i.density),
        "naturalOrientation": True,
        "productName": phone.props["ro.product.name"],
        "screenOn": phone.state.screen_on,
        "sdkInt": i.api_level,
    }


def _set_clipboard(phone: Phone, label: Any = None, text: Any = None) -> None:
    phone.state.clipboard = "" if text is None else str(text)
    return None


def _get_clipboard(phone: Phone) -> str:
    return phone.state.clipboard


def _paste(phone: Phone) -> bool:
    if phone.state.clipboard:
        phone.type_text(phone.state.clipboard)
    return True


def _wake(phone: Phone) -> None:
    phone.press_keycode(KEYCODES["WAKEUP"])


def _sleep(phone: Phone) -> None:
    phone.press_keycode(KEYCODES["SLEEP"])


def _null(phone: Phone, *args) -> None:
    return None


def _false(phone: Phone, *args) -> bool:
    return False


# --- selectors -------------------------------------------------------------------------------------------

_BOOL = {
    "checkable": "checkable",
    "checked": "checked",
    "clickable": "clickable",
    "longClickable": "long-clickable",
    "scrollable": "scrollable",
    "enabled": "enabled",
    "focusable": "focusable",
    "focused": "focused",
    "selected": "selected",
}


def _nodes(phone: Phone):
    from lxml import etree

    xml = phone.observation().xml
    root = etree.fromstring(xml.encode("utf-8"))
    return [n for n in root.iter("node")]


def _matches(n, sel: dict) -> bool:
    a = n.attrib
    text, desc, cls = a.get("text", ""), a.get("content-desc", ""), a.get("class", "")
    checks = {
        "text": lambda v: text == v,
        "textContains": lambda v: v in text,
        "textMatches": lambda v: re.fullmatch(v, text, re.S) is not None,
        "textStartsWith": lambda v: text.startswith(v),
        "className": lambda v: cls == v,
        "classNameMatches": lambda v: re.fullmatch(v, cls) is not None,
        "description": lambda v: desc == v,
        "descriptionContains": lambda v: v in desc,
        "descriptionMatches": lambda v: re.fullmatch(v, desc, re.S) is not None,
        "descriptionStartsWith": lambda v: desc.startswith(v),
        "packageName": lambda v: a.get("package", "") == v,
        "packageNameMatches": lambda v: re.fullmatch(v, a.get("package", "")) is not None,
        "resourceId": lambda v: a.get("resource-id", "") == v,
        "resourceIdMatches": lambda v: re.fullmatch(v, a.get("resource-id", "")) is not None,
        "index": lambda v: a.get("index", "0") == str(v),
    }
    for k, v in sel.items():
        if k in ("mask", "childOrSibling", "childOrSiblingSelector", "instance"):
            continue
        if k in _BOOL:
            if (a.get(_BOOL[k], "false") == "true") != bool(v):
                return False
        elif k in checks and not checks[k](v):
            return False
    return True


def _find_all(phone: Phone, sel: dict) -> list:
    found = [n for n in _nodes(phone) if _matches(n, sel)]
    for rel, sub in zip(
        sel.get("childOrSibling") or [], sel.get("childOrSiblingSelector") or [], strict=False
    ):
        nxt = []
        for n in found:
            parent = n.getparent()
            scope = n if rel == "child" or parent is None else parent
            pool = scope.iter("node")
            nxt += [m for m in pool if m is not n and _matches(m, sub)]
        found = nxt[sub.get("instance", 0) :][:1] if "instance" in sub else nxt
    return found


def _find(phone: Phone, sel: dict):
    found = _find_all(phone, sel)
    inst = int(sel.get("instance", 0) or 0)
    return found[inst] if inst < len(found) else None


def _bounds(n) -> dict:
    m = re.findall(r"-?\d+", n.attrib.get("bounds", "[0,0][0,0]"))
    x1, y1, x2, y2 = (int(v) for v in m[:4])
    return {"left": x1, "top": y1, "right": x2, "bottom": y2}


def _center(n) -> tuple[int, int]:
    b = _bounds(n)
    return (b["left"] + b["right"]) // 2, (b["top"] + b["bottom"]) // 2


def _info(n) -> dict:
    a = n.attrib
    out = {
        "bounds": _bounds(n),
        "childCount": len(n.findall("node")),
        "className": a.get("class", ""),
        "contentDescription": a.get("content-desc") or None,
        "packageName": a.get("package", ""),
        "resourceName": a.get("resource-id") or None,
        "text": a.get("text", ""),
        "visibleBounds": _bounds(n),
    }
    for k, attr in _BOOL.items():
        out[k] = a.get(attr, "false") == "true"
    return out


def _not_found(sel: dict) -> RpcError:
    return RpcError(
        -32002, "androidx.test.uiautomator.UiObjectNotFoundException: UiSelector" + json.dumps(sel)
    )


def _exist(phone: Phone, sel: dict) -> bool:
    return _find(phone, sel) is not None


def _obj_info(phone: Phone, sel: dict) -> dict:
    node = _find(phone, sel)
    if node is None:
        raise _not_found(sel)
    return _info(node)


def _all_info(phone: Phone, sel: dict) -> list:
    return [_info(n) for n in _find_all(phone, sel)]


def _wait_exists(phone: Phone, sel: dict, timeout_ms: int = 0) -> bool:
    return _poll(phone, lambda: _exist(phone, sel), timeout_ms)


def _wait_gone(phone: Phone, sel: dict, timeout_ms: int = 0) -> bool:
    return _poll(phone, lambda: not _exist(phone, sel), timeout_ms)


_ROTATIONS = {"n": 0, "natural": 0, "l": 1, "left": 1, "u": 2, "upsidedown": 2, "r": 3, "right": 3}


def _set_orientation(phone: Phone, orientation: str) -> None:
    """UiDevice.setOrientation*: UiAutomation.setRotation(ROTATION_FREEZE_n), which sets the user
    rotation with auto-rotate off. The activities in front (app models, the launcher) are portrait-only,
    so the display itself stays at rotation 0, as a phone keeps a portrait-locked app upright."""
    rotation = _ROTATIONS.get(str(orientation).lower())
    if rotation is None:
        raise RpcError(-32001, f"java.lang.IllegalArgumentException: Invalid orientation: {orientation}")
    system = phone.state.settings.setdefault("system", {})
    system.update({"user_rotation": str(rotation), "accelerometer_rotation": "0"})


def _freeze_rotation(phone: Phone, freeze: bool = True) -> None:
    phone.state.settings.setdefault("system", {})["accelerometer_rotation"] = "0" if freeze else "1"


def _poll(phone: Phone, cond, timeout_ms: int) -> bool:
    """UiObject.waitForExists / waitUntilGone: look again until the timeout, in the phone's own time (the
    screen can change under the call: another client's input, a watcher, the app's own timers)."""
    end = phone.now_ms() + max(0, int(timeout_ms or 0))
    while True:
        if cond():
            return True
        if phone.now_ms() >= end:
            return False
        phone.clock.sleep(0.05)


_toast_cleared: dict[int, int] = {}  # id(phone) -> device ms of the last clearLastToast


def _last_toast(phone: Phone, *args) -> str | None:
    """The newest Toast the device showed since the last clearLastToast (None: none)."""
    since = _toast_cleared.get(id(phone), -1)
    shown = [t for t in getattr(phone.device, "toasts", []) if t[0] > since]
    return shown[-1][2] if shown else None


def _clear_toast(phone: Phone, *args) -> None:
    _toast_cleared[id(phone)] = phone.now_ms()


def _clear_focused(phone: Phone) -> bool:
    if hasattr(phone.device, "clear_text"):
        phone.call("clear_text")
        return True
    return False


def _clear_field(phone: Phone, sel: dict) -> bool:
    node = _find(phone, sel)
    if node is None:
        raise _not_found(sel)
    phone.tap(*_center(node))
    return _clear_focused(phone)


def _count(phone: Phone, sel: dict) -> int:
    return len(_find_all(phone, sel))


def _get_text(phone: Phone, sel: dict) -> str:
    node = _find(phone, sel)
    if node is None:
        raise _not_found(sel)
    return node.attrib.get("text", "")


def _set_text(phone: Phone, sel: dict, text: str) -> bool:
    node = _find(phone, sel)
    if node is None:
        raise _not_found(sel)
    phone.tap(*_center(node))
    _clear_focused(phone)  # UiObject.setText replaces the field's text
    phone.type_text(text)
    return True


_METHODS = {
    "dumpWindowHierarchy": _dump,
    "takeScreenshot": _screenshot,
    "click": _click,
    "longClick": _long_click,
    "swipe": _swipe,
    "swipePoints": _swipe_points,
    "drag": lambda p, sx, sy, ex, ey, steps=100: _swipe(p, sx, sy, ex, ey, steps),
    "pressKey": _press_key,
    "pressKeyCode": _press_keycode,
    "injectInputEvent": _inject,
    "pinchIn": lambda p, sel, percent=100, steps=50: _pinch(p, sel, percent, steps, inward=True),
    "pinchOut": lambda p, sel, percent=100, steps=50: _pinch(p, sel, percent, steps, inward=False),
    "gesture": _gesture,
    "deviceInfo": _device_info,
    "setClipboard": _set_clipboard,
    "getClipboard": _get_clipboard,
    "pasteClipboard": _paste,
    "clearInputText": lambda p, *a: _clear_focused(p),
    "wakeUp": _wake,
    "sleep": _sleep,
    "setOrientation": _set_orientation,
    "freezeRotation": _freeze_rotation,
    "getLastToast": _last_toast,
    "clearLastToast": _clear_toast,
    "makeToast": _null,
    "getLastTraversedText": _null,
    "clearLastTraversedText": _null,
    "openNotification": lambda p: p.open_shade("notifications"),
    "openQuickSettings": lambda p: p.open_shade("quick_settings"),
    "exist": _exist,
    "objInfo": _obj_info,
    "objInfoOfAllInstances": _all_info,
    "waitForExists": _wait_exists,
    "waitUntilGone": _wait_gone,
    "count": _count,
    "getText": _get_text,
    "setText": _set_text,
    "clearTextField": _clear_field,
    **u2scroll.METHODS,
}

__all__ = ["serve_http", "call", "RpcError", "Key"]
