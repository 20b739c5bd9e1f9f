"""manifest.json + `exerciser verify`: every kind of tampering is detected and named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from exerciser.evidence.manifest import generate_keypair, sign_manifest, verify_bundle
from exerciser.evidence.trace import TRACE_NAME


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "exerciser"), *args], capture_output=True, text=True
    )


def _lines(run: Path) -> list[bytes]:
    return (run / TRACE_NAME).read_bytes().splitlines(keepends=True)


def test_untouched_bundle_verifies(sealed_run: Path) -> None:
    r = verify_bundle(sealed_run)
    assert r.ok, [f.line() for f in r.failures]
    m = json.loads((sealed_run / "manifest.json").read_text())
    for name in (
        "trace.jsonl",
        "verdict.json",
        "graph.json",
        "video.mp4",
        "report.html",
        "junit.xml",
        "steps/0001.png",
        "steps/0001.xml",
    ):
        assert name in m["files"], name
    assert m["trace"]["lines"] == 7 and r.steps_checked == 7


def test_edited_trace_line_fails_verify_cli(run_copy: Path) -> None:
    lines = _lines(run_copy)
    rec = json.loads(lines[3])
    rec["kinds"] = []  # pretend the wall never appeared, keep the old prev
    lines[3] = (json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n").encode()
    (run_copy / TRACE_NAME).write_bytes(b"".join(lines))
    p = _cli("verify", str(run_copy))
    assert p.returncode == 1, p.stdout + p.stderr
    assert "FAILED" in p.stdout
    assert "trace.jsonl:5" in p.stdout and "hash chain broken at step 5" in p.stdout
    assert "modified   trace.jsonl" in p.stdout


def test_deleted_line_fails(run_copy: Path) -> None:
    lines = _lines(run_copy)
    (run_copy / TRACE_NAME).write_bytes(b"".join(lines[:2] + lines[3:]))
    r = verify_bundle(run_copy)
    assert not r.ok
    assert any(f.what == "trace" and "chain broken at step 4" in f.detail for f in r.failures)
    assert any("has 6 lines, the manifest sealed 7" in f.detail for f in r.failures)


def test_deleted_last_line_with_recomputed_manifest_still_fails(run_copy: Path) -> None:
    """The tail has no successor to break; the sealed line count and head catch it."""
    lines = _lines(run_copy)
    (run_copy / TRACE_NAME).write_bytes(b"".join(lines[:-1]))
    m = json.loads((run_copy / "manifest.json").read_text())
    from exerciser.evidence.trace import sha256_file

    m["files"][TRACE_NAME]["sha256"] = sha256_file(run_copy / TRACE_NAME)  # a forger fixes the file hash
    m["files"][TRACE_NAME]["size"] = (run_copy / TRACE_NAME).stat().st_size
    (run_copy / "manifest.json").write_text(json.dumps(m))
    r = verify_bundle(run_copy)
    assert not r.ok
    assert any("chain head" in f.detail for f in r.failures)


def test_edited_screenshot_fails_even_with_recomputed_manifest(run_copy: Path) -> None:
    from exerciser.evidence.manifest import write_manifest

    png = run_copy / "steps/0004.png"
    data = bytearray(png.read_bytes())
    data[-20] ^= 0xFF
    png.write_bytes(bytes(data))
    r = verify_bundle(run_copy)
    assert {(f.what, f.path) for f in r.failures} >= {
        ("modified", "steps/0004.png"),
        ("step_file", "steps/0004.png"),
    }
    write_manifest(run_copy)  # reseal: the manifest now agrees, but the trace recorded the capture's hash
    r = verify_bundle(run_copy)
    assert [(f.what, f.path) for f in r.failures] == [("step_file", "steps/0004.png")]
    assert "step 4" in r.failures[0].detail


@pytest.mark.parametrize("victim", ["verdict.json", "steps/0002.xml"])
def test_edited_or_removed_files_fail(run_copy: Path, victim: str) -> None:
    p = run_copy / victim
    p.write_text(p.read_text().replace("violation", "compliant").replace("Button", "View"))
    r = verify_bundle(run_copy)
    assert any(f.what == "modified" and f.path == victim for f in r.failures)
    p.unlink()
    r = verify_bundle(run_copy)
    assert any(f.what == "missing" and f.path == victim for f in r.failures)


def test_added_file_fails(run_copy: Path) -> None:
    (run_copy / "steps/0099.png").write_bytes(b"\x89PNG fake")
    r = verify_bundle(run_copy)
    assert [(f.what, f.path) for f in r.failures] == [("added", "steps/0099.png")]


def test_signature(run_copy: Path, tmp_path: Path) -> None:
    priv, pub = generate_keypair()
    _, other_pub = generate_keypair()
    sign_manifest(run_copy, priv)
    assert verify_bundle(run_copy, pub).signature == "valid"
    r = verify_bundle(run_copy, other_pub)
    assert not r.ok and r.signature == "invalid"
    # a forger who edits the manifest (e.g. to hide an edit) cannot keep the signature valid
    m = (run_copy / "manifest.json").read_text()
    (run_copy / "manifest.json").write_text(m.replace('"lines": 7', '"lines": 6'))
    assert verify_bundle(run_copy, pub).signature == "invalid"
    (tmp_path / "k.pub").write_bytes(pub)
    p = _cli("verify", str(run_copy), "--key", str(tmp_path / "k.pub"))
    assert p.returncode == 1 and "signature does not match" in p.stdout


def test_sign_cli_and_verify_cli_with_key(run_copy: Path, tmp_path: Path) -> None:
    key = tmp_path / "k.pem"
    p = _cli("sign", str(run_copy), "--new-key", str(key))
    assert p.returncode == 0, p.stderr
    p = _cli("verify", str(run_copy), "--key", f"{key}.pub")
    assert p.returncode == 0, p.stdout
    assert "signature valid" in p.stdout


def test_bad_input_exits_2(tmp_path: Path) -> None:
    p = _cli("verify", str(tmp_path / "nope"))
    assert p.returncode == 2 and "no such folder" in p.stderr
    p = _cli("verify", str(tmp_path))
    assert p.returncode == 2 and "not a run folder" in p.stderr
