"""`exerciser sim profiles|screenshot|walk` through the real command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image
from sim_helpers import FIXTURES

from exerciser.cli.main import cli, main

APP = str(FIXTURES / "testapp.yaml")


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_profiles():
    res = run("sim", "profiles")
    assert res.exit_code == 0
    for name in ("api23", "api28", "api29", "api30", "api33", "api34", "miui14"):
        assert name in res.output
    assert "com.lbe.security.miui" in res.output


def test_screenshot_launch_and_screen(tmp_path: Path):
    out, xml = tmp_path / "launch.png", tmp_path / "launch.xml"
    res = run("sim", "screenshot", APP, "-o", str(out), "--xml", str(xml))
    assert res.exit_code == 0, res.output
    assert Image.open(out).size == (1080, 2340)
    assert 'resource-id="com.example.simtest:id/btn_agree"' in xml.read_text(encoding="utf-8")

    out2, xml2 = tmp_path / "perm.png", tmp_path / "perm.xml"
    res = run(
        "sim",
        "screenshot",
        APP,
        "--screen",
        "more",
        "--permission",
        "CAMERA",
        "--profile",
        "api28",
        "--locale",
        "zh-CN",
        "-o",
        str(out2),
        "--xml",
        str(xml2),
    )
    assert res.exit_code == 0, res.output
    dump = xml2.read_text(encoding="utf-8")
    assert 'text="拒绝"' in dump and 'package="com.android.packageinstaller"' in dump

    # A Chinese sample is drawn in zh-CN unless told otherwise.
    res = run("sim", "screenshot", "startup_bundle_zh", "--permission", "CAMERA", "-o", str(out2))
    assert res.exit_code == 0 and "不允许" in res.output and "com.android.permissioncontroller" in res.output

    res = run(
        "sim", "screenshot", APP, "--screen", "policy", "-o", str(tmp_path / "p.png"), "--xml", str(xml2)
    )
    assert "[We collect your location" in res.output  # painted only
    assert "We collect" not in xml2.read_text(encoding="utf-8")


def test_walk_script(tmp_path: Path):
    script = tmp_path / "walk.txt"
    script.write_text(
        "# accept, then deny the camera\ntap Agree\ntap Camera\ntap permission_deny_button\nperms\n"
    )
    res = run(
        "sim", "walk", APP, "--profile", "api30", "--script", str(script), "--out", str(tmp_path / "shots")
    )
    assert res.exit_code == 0, res.output
    assert "GrantPermissionsActivity" in res.output and "Only this time" in res.output
    assert "android.permission.CAMERA: granted=false flags=USER_SET" in res.output
    assert len(list((tmp_path / "shots").glob("step-*.png"))) == 5


def main_exit(args: list[str], monkeypatch, capsys) -> tuple[int, str]:
    """Run the console-script entry point in-process: exit status and stderr."""
    monkeypatch.setattr(sys, "argv", ["exerciser", *args])
    with pytest.raises(SystemExit) as info:
        main()
    return info.value.code, capsys.readouterr().err


def test_errors_exit_2(tmp_path: Path, monkeypatch, capsys):
    bad = tmp_path / "app.yaml"
    bad.write_text(Path(APP).read_text().replace("type: button, text: Camera", "type: buton, text: Camera"))
    script = tmp_path / "s.txt"
    script.write_text("tap Nowhere\n")
    monkeypatch.chdir(tmp_path)
    cases = [
        (["sim", "screenshot", APP, "--screen", "nope"], "no screen 'nope'"),
        (["sim", "screenshot", "no_such_app"], "unknown sample app 'no_such_app'"),
        (["sim", "screenshot", APP, "--profile", "api99"], "unknown profile 'api99'"),
        (["sim", "screenshot", APP, "--permission", "READ_SMS"], "READ_SMS is not a runtime permission"),
        (["sim", "walk", APP, "--script", str(script)], "s.txt:1: nothing called 'Nowhere'"),
    ]
    for args, words in cases:
        code, err = main_exit(args, monkeypatch, capsys)
        assert code == 2, (args, err)
        assert len(err.strip().splitlines()) == 1 and words in err, (args, err)
    assert not list(tmp_path.glob("*.png")), "nothing written on bad input"
    # The real console script, once: a broken model names file, line and field on one stderr line.
    proc = subprocess.run(
        [sys.executable, "-c", "from exerciser.cli.main import main; main()", "sim", "screenshot", str(bad)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "app.yaml:" in proc.stderr and "screens.home.widgets[0].type: 'buton' is not one of" in proc.stderr
