"""`exerciser classify` on files the virtual device renders (`exerciser sim screenshot ... --xml`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from exerciser.cli.main import cli
from exerciser.perceive import KINDS, PERMISSION_GROUPS, ROLES


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def shoot(tmp: Path, name: str, *args: str) -> tuple[Path, Path]:
    png, xml = tmp / f"{name}.png", tmp / f"{name}.xml"
    res = run("sim", "screenshot", *args, "-o", png, "--xml", xml)
    assert res.exit_code == 0, res.output
    return png, xml


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    tmp = tmp_path_factory.mktemp("classify")
    return {
        "consent": shoot(tmp, "consent", "compliant_zh", "--dialog", "privacy", "--locale", "zh-CN"),
        "prompt": shoot(tmp, "prompt", "compliant_en", "--permission", "CAMERA", "--profile", "api30"),
        "blind": shoot(tmp, "blind", "blind_privacy_dialog_zh", "--dialog", "privacy", "--locale", "zh-CN"),
        "me": shoot(tmp, "me", "compliant_zh", "--screen", "me", "--locale", "zh-CN"),
    }


def classify_json(*args) -> dict:
    res = run("classify", *args, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    for k in out["kinds"]:  # the public contract of issue 3
        assert k["kind"] in KINDS and 0 <= k["confidence"] <= 1 and k["source"] in ("hierarchy", "ocr")
        if k["kind"] in ("permission_prompt", "permission_rationale"):
            assert k["permission_group"] is None or k["permission_group"] in PERMISSION_GROUPS
    for t in out["targets"]:
        assert t["role"] in ROLES and len(t["bounds"]) == 4 and all(isinstance(v, int) for v in t["bounds"])
    return out


def node_bounds(xml: Path, text: str) -> list[int]:
    node = etree.parse(str(xml)).xpath(f'//node[@text="{text}"]')[0]
    a, b = node.get("bounds")[1:-1].split("][")
    return [int(v) for v in a.split(",") + b.split(",")]


def test_consent_dialog(shots):
    png, xml = shots["consent"]
    out = classify_json("--xml", xml, "--png", png)
    assert [k["kind"] for k in out["kinds"]] == ["privacy_consent"]
    assert out["kinds"][0]["source"] == "hierarchy" and "permission_group" not in out["kinds"][0]
    targets = {t["role"]: t for t in out["targets"]}
    assert targets["agree"]["bounds"] == node_bounds(xml, "同意")
    assert targets["refuse"]["bounds"] == node_bounds(xml, "不同意")
    assert out["package"] == "com.xiaolu.jizhang" and out["screen"] == [1080, 2340]


def test_permission_prompt(shots):
    _, xml = shots["prompt"]
    out = classify_json("--xml", xml, "--size", "1080x2340")
    (hit,) = out["kinds"]
    assert hit["kind"] == "permission_prompt" and hit["permission_group"] == "camera"
    roles = [t["role"] for t in out["targets"]]
    assert roles == ["allow_foreground", "allow_once", "deny"]
    assert out["package"] == "com.android.permissioncontroller"


def test_blind_dialog_needs_the_screenshot(shots):
    png, xml = shots["blind"]
    out = classify_json("--xml", xml, "--png", png)
    assert [(k["kind"], k["source"]) for k in out["kinds"]] == [("privacy_consent", "ocr")]
    assert out["blind"] is True
    labels = {t["role"]: t["text"] for t in out["targets"]}
    assert labels == {"agree": "同意", "refuse": "不同意并退出 App", "exit": "不同意并退出 App"}
    assert classify_json("--xml", xml)["kinds"] == []  # the dump alone shows nothing
    assert classify_json("--xml", xml, "--png", png, "--no-ocr")["kinds"] == []


def test_human_view(shots):
    _, xml = shots["me"]
    res = run("classify", "--xml", xml)
    assert res.exit_code == 0
    assert "account_page" in res.output and "settings_entry" in res.output and "tap " in res.output
    _, xml = shots["prompt"]
    assert "permission_prompt [camera]" in run("classify", "--xml", xml).output


def test_bad_input_is_one_line_and_status_2(shots, tmp_path):
    png, xml = shots["consent"]
    (tmp_path / "page.html").write_text("<html><body/></html>", encoding="utf-8")
    (tmp_path / "empty.xml").write_bytes(b"")
    (tmp_path / "junk.xml").write_bytes(b"\x89PNG not xml")
    cases = [
        (["--xml", tmp_path / "missing.xml"], "missing.xml"),
        (["--xml", tmp_path], "directory"),
        (["--xml", tmp_path / "page.html"], "not a uiautomator dump"),
        (["--xml", tmp_path / "empty.xml"], "empty"),
        (["--xml", tmp_path / "junk.xml"], "not a uiautomator dump"),
        (["--xml", xml, "--png", xml], "not an image"),
        (["--xml", xml, "--size", "big"], "WIDTHxHEIGHT"),
        (["--xml", xml, "--png", png, "--size", "720x1280"], "does not match"),
    ]
    for args, words in cases:
        res = run("classify", *args)
        lines = res.output.strip().splitlines()
        assert res.exit_code == 2 and len(lines) == 1 and words in lines[0], (args, res.output)
