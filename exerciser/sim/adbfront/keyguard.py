"""What the served device shows while its screen is off or the (swipe) keyguard is up."""

from __future__ import annotations

import io
import time
from functools import lru_cache

from exerciser.device.contract import DeviceInfo, Observation

SYSTEMUI = "com.android.systemui"
KEYGUARD_WINDOW = "NotificationShade"  # the keyguard's window title on Android 11+ (StatusBar before)

_ATTRS = (
    'checkable="false" checked="false" clickable="{clickable}" enabled="true" focusable="false" '
    'focused="false" scrollable="false" long-clickable="false" password="false" selected="false"'
)


def _node(
    index: int,
    cls: str,
    rid: str,
    text: str,
    bounds: tuple[int, int, int, int],
    inner: str = "",
    clickable: bool = False,
) -> str:
    x1, y1, x2, y2 = bounds
    attrs = _ATTRS.format(clickable=str(clickable).lower())
    return (
        f'<node index="{index}" text="{text}" resource-id="{rid}" class="{cls}" package="{SYSTEMUI}" '
        f'content-desc="" {attrs} bounds="[{x1},{y1}][{x2},{y2}]"' + (f">{inner}</node>" if inner else " />")
    )


def keyguard_xml(info: DeviceInfo, clock: str) -> str:
    w, h = info.width, info.height
    k = info.density / 440
    clock_node = _node(
        0,
        "android.widget.TextView",
        f"{SYSTEMUI}:id/clock",
        clock,
        (w // 4, h // 5, 3 * w // 4, h // 5 + round(200 * k)),
    )
    hint = _node(
        1,
        "android.widget.TextView",
        f"{SYSTEMUI}:id/keyguard_indication_text",
        "Swipe up to unlock",
        (w // 6, h - round(400 * k), 5 * w // 6, h - round(330 * k)),
    )
    root = _node(
        0,
        "android.widget.FrameLayout",
        f"{SYSTEMUI}:id/keyguard_root_view",
        "",
        (0, 0, w, h),
        clock_node + hint,
    )
    return (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>"
        f'<hierarchy rotation="0">{root}</hierarchy>'
    )


@lru_cache(maxsize=8)
def _png(width: int, height: int, on: bool, clock: str, density: int = 440) -> bytes:
    from PIL import Image, ImageDraw

    k = density / 440

    img = Image.new("RGB", (width, height), (18, 24, 38) if on else (0, 0, 0))
    if on:
        d = ImageDraw.Draw(img)
        d.text(
            (width // 2, height // 5 + round(100 * k)),
            clock,
            fill=(235, 235, 240),
            anchor="mm",
            font_size=round(160 * k),
        )
        d.text(
            (width // 2, height - round(365 * k)),
            "Swipe up to unlock",
            fill=(200, 200, 210),
            anchor="mm",
            font_size=round(40 * k),
        )
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def keyguard_observation(info: DeviceInfo, time_ms: int, screen_on: bool) -> Observation:
    clock = time.strftime("%H:%M", time.gmtime(time_ms / 1000))
    return Observation(
        xml=keyguard_xml(info, clock),
        png=_png(info.width, info.height, screen_on, clock, info.density),
        package=SYSTEMUI,
        activity="",
        time_ms=time_ms,
    )
