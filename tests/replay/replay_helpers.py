"""Helpers of the real-run evidence tests: the `exerciser` CLI, a short scenario of a sample app, and
headless Chromium without network (a plain module, not conftest: see tests/device/adb_helpers.py)."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

EXERCISER = str(Path(sys.executable).parent / "exerciser")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# RideNow: privacy dialog first (compliant), then a refusal wall after a location denial (violation of
# category 5). Consent and 5 only (5 brings the feature map of 7): ~70 steps, a few seconds.
SCENARIO = {
    "app": {"sample": "refusal_wall_en"},
    "locale": "en-US",
    "profile": "api33",
    "features": [
        {
            "name": "Book a ride",
            "permissions": ["location"],
            "entry": ["Where to?"],
            "screens": [".home.HomeActivity", ".booking.BookRideActivity"],
        }
    ],
    "probes": ["consent", "5"],
}
APP = "refusal_wall_en"


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXERCISER, *args], capture_output=True, text=True, timeout=timeout)


def write_scenario(folder: Path, **changes: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{APP}.yaml"
    path.write_text(yaml.safe_dump(SCENARIO | changes, sort_keys=False))
    return path


def verdicts(app_dir: Path) -> dict[str, tuple[str, object]]:
    v = json.loads((app_dir / "verdict.json").read_text())
    return {k: (c["verdict"], c["figure"]) for k, c in v["categories"].items()}


def chromium_flags(profile: Path) -> list[str]:
    assert CHROMIUM is not None
    return [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-extensions",
        "--hide-scrollbars",
        "--proxy-server=127.0.0.1:9",  # any fetch from the network would fail
        f"--user-data-dir={profile}",
    ]


# Loads the report in a frame the size of the window and writes what it rendered into the title.
PROBE = """<!doctype html><body style="margin:0">
<iframe id=f src="URL" style="position:absolute;top:0;left:0;border:0;width:Wpx;height:Hpx"></iframe>
<script>
const f = document.getElementById('f');
f.onload = async () => {
  const d = f.contentDocument;
  const im = [...d.images];
  im.forEach(i => { i.loading = 'eager'; });
  for (let t = 0; t < 100 && im.some(i => !i.complete); t++) await new Promise(r => setTimeout(r, 50));
  const v = d.querySelector('video');
  if (v && v.readyState < 1) {
    await new Promise(r => { v.addEventListener('loadedmetadata', r); setTimeout(r, 4000); });
  }
  const svg = d.querySelector('svg.graph');
  const shots = [...d.querySelectorAll('.shot img')].slice(0, 3).map(i => {
    const r = i.getBoundingClientRect();
    return {src: i.src, x: r.x, y: r.y, w: r.width, h: r.height};
  });
  document.title = 'PROBE ' + JSON.stringify({
    imgs: im.length,
    ok: im.filter(i => i.complete && i.naturalWidth > 0).length,
    circles: svg ? svg.querySelectorAll('circle').length : 0,
    svg_w: svg ? svg.getBBox().width : 0,
    video_src: v ? v.getAttribute('src').slice(0, 22) : '',
    video_w: v ? v.videoWidth : 0,
    video_s: v ? v.duration : 0,
    links: [...d.querySelectorAll('a')].map(a => a.getAttribute('href')).filter(h => h).slice(0, 50),
    shots,
  });
};
</script>"""


def probe_page(page: Path, tmp: Path, size: tuple[int, int] = (1200, 1600)) -> dict:
    """What Chromium rendered of `page` (an HTML file, with an optional #fragment in its URI)."""
    url = page.resolve().as_uri() if isinstance(page, Path) else str(page)
    probe = tmp / "probe.html"
    probe.write_text(PROBE.replace("URL", url).replace("Wpx", f"{size[0]}px").replace("Hpx", f"{size[1]}px"))
    dom = subprocess.run(
        [
            *chromium_flags(tmp / "profile-dom"),
            f"--window-size={size[0]},{size[1]}",
            "--allow-file-access-from-files",
            "--virtual-time-budget=10000",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    m = re.search(r"<title>PROBE (.*?)</title>", dom.stdout, re.S)
    assert m, dom.stdout[-800:] + dom.stderr[-800:]
    return json.loads(html.unescape(m.group(1)))


def screenshot(url: str, out: Path, tmp: Path, size: tuple[int, int] = (1200, 1600)) -> Path:
    subprocess.run(
        [
            *chromium_flags(tmp / "profile-shot"),
            f"--window-size={size[0]},{size[1]}",
            f"--screenshot={out}",
            url,
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return out
