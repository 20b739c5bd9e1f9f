"""A hand-made run folder (trace + PNG + XML + verdict + graph) for evidence tests that need no explorer.

Screens are painted with PIL at 1080x2340 and dumped as minimal `uiautomator dump` XML; the trace is
written with the real TraceWriter, exactly as a probe would.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import networkx as nx
from PIL import Image, ImageDraw, ImageFont

from exerciser.evidence.trace import StepRecord, TraceWriter, sha256_hex

W, H = 1080, 2340
FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"

# (state id, kinds, title, buttons) per screen
SCREENS = {
    "splash": ([], "Splash", []),
    "privacy": (["privacy_consent"], "用户协议与隐私政策", ["不同意", "同意"]),
    "home": ([], "Home", ["Scan", "Me"]),
    "prompt": (["permission_prompt"], "Allow Demo to take pictures?", ["Allow", "Don't allow"]),
    "wall": (["blocking_wall"], "Camera needed", ["Exit", "Settings"]),
    "launcher": (["launcher"], "Launcher", ["Demo"]),
}
SCRIPT = [  # (probe, action, screen reached)
    ("setup", {"type": "app_start", "package": "com.example.demo"}, "privacy"),
    (
        "consent",
        {
            "type": "tap",
            "role": "agree",
            "selector": {
                "resource_id": "com.example.demo:id/btn_agree",
                "text": "同意",
                "cls": "android.widget.Button",
                "index_path": "0/1/1",
            },
            "point": [810, 1500],
        },
        "home",
    ),
    (
        "7",
        {
            "type": "tap",
            "selector": {
                "resource_id": "com.example.demo:id/btn_scan",
                "text": "Scan",
                "cls": "android.widget.Button",
                "index_path": "0/0",
            },
            "point": [540, 400],
        },
        "prompt",
    ),
    (
        "5",
        {
            "type": "tap",
            "role": "deny",
            "selector": {
                "resource_id": "com.android.permissioncontroller:id/permission_deny_button",
                "text": "Don't allow",
                "cls": "android.widget.Button",
                "index_path": "0/2",
            },
            "point": [540, 1900],
        },
        "wall",
    ),
    ("5", {"type": "wait", "seconds": 3}, "wall"),
    ("6", {"type": "key", "key": "home"}, "launcher"),
    ("6", {"type": "app_start", "package": "com.example.demo"}, "prompt"),
]


def paint(screen: str, step: int) -> bytes:
    kinds, title, buttons = SCREENS[screen]
    img = Image.new("RGB", (W, H), (245, 245, 245))
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, 56)
    d.rectangle((0, 0, W, 63), fill=(30, 30, 30))
    d.text((40, 5), f"12:{step:02d}", font=ImageFont.truetype(FONT, 40), fill=(255, 255, 255))
    d.rectangle((0, 63, W, 250), fill=(33, 150, 243))
    d.text((40, 110), title, font=font, fill=(255, 255, 255))
    for i, b in enumerate(buttons):
        y = 1400 + i * 250
        d.rounded_rectangle((140, y, 940, y + 180), 30, fill=(63, 81, 181))
        d.text((200, y + 50), b, font=font, fill=(255, 255, 255))
    import io

    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def dump(screen: str) -> str:
    _, title, buttons = SCREENS[screen]
    nodes = "".join(
        f'<node index="{i}" text="{b}" resource-id="com.example.demo:id/b{i}" class="android.widget.Button" '
        f'clickable="true" bounds="[140,{1400 + i * 250}][940,{1580 + i * 250}]" />'
        for i, b in enumerate(buttons)
    )
    return (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><hierarchy rotation=\"0\">"
        f'<node index="0" text="{title}" class="android.widget.FrameLayout" bounds="[0,0][{W},{H}]">'
        f"{nodes}</node></hierarchy>"
    )


def make_run(run_dir: Path, repeat: int = 1, slow: float = 0.0) -> Path:
    """Write a synthetic app folder; `repeat` multiplies the script, `slow` sleeps after each step."""
    run_dir = Path(run_dir)
    (run_dir / "steps").mkdir(parents=True, exist_ok=True)
    t_dev = 1_700_000_000_000
    prev_state: str | None = None
    g = nx.MultiDiGraph()
    n = 0
    with TraceWriter(run_dir / "trace.jsonl") as tw:
        for _ in range(repeat):
            for probe, action, screen in SCRIPT:
                n += 1
                png, xml = paint(screen, n % 60), dump(screen)
                (run_dir / f"steps/{n:04d}.png").write_bytes(png)
                (run_dir / f"steps/{n:04d}.xml").write_text(xml)
                t_dev += 1500
                state = f"s-{screen}"
                g.add_node(state, kinds=",".join(SCREENS[screen][0]), label=screen)
                if prev_state:
                    g.add_edge(prev_state, state, action=action["type"])
                tw.append(
                    StepRecord(
                        n=n,
                        probe=probe,
                        action=action,
                        device_time_ms=t_dev,
                        wall_time=time.time(),
                        state_before=prev_state,
                        state_after=state,
                        package="com.example.demo",
                        activity=f"com.example.demo.{screen.title()}Activity",
                        kinds=list(SCREENS[screen][0]),
                        screenshot=f"steps/{n:04d}.png",
                        screenshot_sha256=sha256_hex(png),
                        xml=f"steps/{n:04d}.xml",
                        xml_sha256=sha256_hex(xml.encode()),
                        note=f"reached {screen}",
                    )
                )
                prev_state = state
                if slow:
                    time.sleep(slow)
    verdict = {
        "app": run_dir.name,
        "categories": {
            "consent": {
                "verdict": "compliant",
                "figure": 0,
                "reason": "Policy shown first.",
                "evidence_steps": [1, 2],
                "severity": None,
            },
            "5": {
                "verdict": "violation",
                "figure": 1,
                "reason": "Refusing the camera walls the app off.",
                "evidence_steps": [4, 5],
                "severity": "high",
            },
            "6": {
                "verdict": "inconclusive",
                "figure": None,
                "reason": "Only one relaunch observed.",
                "evidence_steps": [7],
                "severity": None,
            },
            "7": {
                "verdict": "compliant",
                "figure": 0,
                "reason": "Camera asked on the scan screen.",
                "evidence_steps": [3],
                "severity": None,
            },
            "8": {
                "verdict": "violation",
                "figure": None,
                "reason": "No deletion entry found.",
                "evidence_steps": [],
                "severity": "medium",
            },
        },
    }
    (run_dir / "verdict.json").write_text(json.dumps(verdict, ensure_ascii=False, indent=1))
    (run_dir / "graph.json").write_text(json.dumps(nx.node_link_data(g, edges="links")))
    return run_dir
