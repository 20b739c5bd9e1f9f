"""The notification shade of the served device: SystemUI's NotificationShade window pulled down over
the screen (notifications, or quick settings expanded), in front until it is collapsed.

Opened by a swipe down from the status bar, UiDevice.openNotification / openQuickSettings (u2 RPC),
`cmd statusbar expand-notifications|expand-settings`; closed by back, home, a swipe up, a tap below
the panel, `cmd statusbar collapse`. The dump is SystemUI's (package com.android.systemui, window
NotificationShade, as on Android 11+), the picture the panel drawn over the dimmed screen.
"""

from __future__ import annotations

import io
import time
from functools import lru_cache

from exerciser.device.contract import DeviceInfo, Observation
from exerciser.sim.adbfront.keyguard import SYSTEMUI, _node

# Quick settings tiles of a stock image (SystemUI's default `sysui_qs_tiles`), first row shown when
# only notifications are pulled down.
TILES = ("Internet", "Bluetooth", "Flashlight", "Do Not Disturb", "Auto-rotate", "Battery Saver")


def panel_height(info: DeviceInfo, kind: str) -> int:
    return info.height // 3 if kind == "notifications" else info.height * 2 // 3


def _px(info: DeviceInfo):
    """Sizes written for 440 dpi in this display's pixels (SystemUI lays out in dp too)."""
    k = info.density / 440
    return lambda v: round(v * k)


def shade_xml(info: DeviceInfo, kind: str, clock: str) -> str:
    w = info.width
    p = _px(info)
    ph = panel_height(info, kind)
    tiles = TILES if kind == "quick_settings" else TILES[:4]
    cols = 2 if kind == "quick_settings" else 4
    tile_w = w // cols
    tile_h = p(160)
    top = p(200)
    kids = [
        _node(0, "android.widget.TextView", f"{SYSTEMUI}:id/clock", clock, (p(40), p(40), p(300), p(140)))
    ]
    for k, name in enumerate(tiles):
        x1 = (k % cols) * tile_w
        y1 = top + (k // cols) * tile_h
        kids.append(
            _node(
                k + 1,
                "android.widget.Switch" if kind == "quick_settings" else "android.widget.ImageView",
                "",
                name if kind == "quick_settings" else "",
                (x1, y1, x1 + tile_w, y1 + tile_h),
                clickable=True,
            )
        )
    empty_y = ph - p(140)
    kids.append(
        _node(
            len(kids),
            "android.widget.TextView",
            f"{SYSTEMUI}:id/no_notifications",
            "No notifications",
            (w // 4, empty_y, 3 * w // 4, empty_y + p(80)),
        )
    )
    panel = _node(
        0, "android.widget.FrameLayout", f"{SYSTEMUI}:id/notification_panel", "", (0, 0, w, ph), "".join(kids)
    )
    root = _node(0, "android.widget.FrameLayout", "", "", (0, 0, w, info.height), panel)
    head = "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>"
    return f'{head}<hierarchy rotation="0">{root}</hierarchy>'


@lru_cache(maxsize=8)
def _png(under: bytes, width: int, height: int, kind: str, clock: str, density: int = 440) -> bytes:
    from PIL import Image, ImageDraw

    k = density / 440

    def p(v: float) -> int:
        return round(v * k)

    img = Image.open(io.BytesIO(under)).convert("RGB")
    dim = Image.new("RGB", img.size, (0, 0, 0))
    img = Image.blend(img, dim, 0.55)
    d = ImageDraw.Draw(img)
    info_h = height // 3 if kind == "notifications" else height * 2 // 3
    d.rounded_rectangle((0, -p(40), width, info_h), radius=p(40), fill=(32, 36, 44))
    d.text((p(40), p(90)), clock, fill=(235, 235, 240), anchor="lm", font_size=p(56))
    tiles = TILES if kind == "quick_settings" else TILES[:4]
    cols = 2 if kind == "quick_settings" else 4
    tile_w = width // cols
    for n, name in enumerate(tiles):
        x1 = (n % cols) * tile_w + p(16)
        y1 = p(200) + (n // cols) * p(160) + p(16)
        d.rounded_rectangle((x1, y1, x1 + tile_w - p(32), y1 + p(128)), radius=p(64), fill=(60, 66, 80))
        if kind == "quick_settings":
            d.text((x1 + p(40), y1 + p(64)), name, fill=(230, 230, 235), anchor="lm", font_size=p(40))
    d.text(
        (width // 2, info_h - p(100)), "No notifications", fill=(200, 200, 210), anchor="mm", font_size=p(40)
    )
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def shade_observation(info: DeviceInfo, under: Observation, kind: str) -> Observation:
    clock = time.strftime("%H:%M", time.gmtime(under.time_ms / 1000))
    return Observation(
        xml=shade_xml(info, kind, clock),
        png=_png(under.png, info.width, info.height, kind, clock, info.density),
        package=SYSTEMUI,
        activity="",
        time_ms=under.time_ms,
    )
