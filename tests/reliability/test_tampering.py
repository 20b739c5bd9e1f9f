"""Every tampering attempt on a sealed bundle is detected by `exerciser verify` (exit 1, the finding
named), and `exerciser report` never seals over it."""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_helpers import invoke

from exerciser.evidence.manifest import (
    MANIFEST_NAME,
    SIGNATURE_NAME,
    generate_keypair,
    sign_manifest,
    verify_bundle,
    write_manifest,
)
from exerciser.evidence.trace import TRACE_NAME


@pytest.fixture
def bundle(sealed_bundle: Path, tmp_path: Path) -> Path:
    dst = tmp_path / sealed_bundle.name
    shutil.copytree(sealed_bundle, dst, symlinks=True)
    return dst


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("keys")
    out = {}
    for who in ("owner", "forger"):
        priv, pub = generate_keypair()
        (d / who).write_bytes(priv)
        (d / f"{who}.pub").write_bytes(pub)
        out[who], out[f"{who}.pub"] = d / who, d / f"{who}.pub"
    return out


def _deciding(b: Path) -> list[Path]:
    return sorted((b / "deciding").iterdir())


def _flip(p: Path) -> None:
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0x01
    p.write_bytes(bytes(data))


def _edit_verdict(b: Path) -> None:
    p = b / "verdict.json"
    v = json.loads(p.read_text())
    for c in v["categories"].values():
        c["verdict"] = "compliant"
    p.write_text(json.dumps(v))


def _swap_deciding(b: Path) -> None:
    a, other = _deciding(b)[0], next(p for p in sorted((b / "steps").glob("*.png")))
    a.unlink()
    shutil.copyfile(other, a)


def _edit_attempt_trace(b: Path) -> None:
    p = b / "attempts/1" / TRACE_NAME
    lines = p.read_bytes().splitlines(keepends=True)
    rec = json.loads(lines[2])
    rec["kinds"] = ["tampered"]
    lines[2] = (json.dumps(rec, sort_keys=True) + "\n").encode()
    p.write_bytes(b"".join(lines))


def _reseal(f: Callable[[Path], None]) -> Callable[[Path], None]:
    """The forger also makes the manifest again (no key: the manifest alone cannot tell)."""

    def both(b: Path) -> None:
        f(b)
        write_manifest(b)

    return both


# (case, tampering, the finding verify must report: (what, path prefix))
TAMPERING = [
    ("verdict edited", _edit_verdict, ("modified", "verdict.json")),
    ("verdict removed", lambda b: (b / "verdict.json").unlink(), ("missing", "verdict.json")),
    ("file added", lambda b: (b / "notes.txt").write_text("x"), ("added", "notes.txt")),
    (
        "manifest tmp added",
        lambda b: (b / "manifest.json.tmp").write_text("{}"),
        ("added", "manifest.json.tmp"),
    ),
    (
        "manifest tmpN added",
        lambda b: (b / "manifest.json.tmp9").write_text("{}"),
        ("added", "manifest.json.tmp9"),
    ),
    ("step png edited", lambda b: _flip(b / "steps/0002.png"), ("step_file", "steps/0002.png")),
    ("step xml edited", lambda b: _flip(b / "steps/0002.xml"), ("step_file", "steps/0002.xml")),
    (
        "step png edited, resealed",
        _reseal(lambda b: _flip(b / "steps/0003.png")),
        ("step_file", "steps/0003.png"),
    ),
    ("deciding swapped", _swap_deciding, ("copy", "deciding/")),
    ("deciding swapped, resealed", _reseal(_swap_deciding), ("copy", "deciding/")),
    (
        "deciding unbound added, resealed",
        _reseal(lambda b: shutil.copyfile(b / "steps/0001.png", b / "deciding/extra.png")),
        ("copy", "deciding/extra.png"),
    ),
    ("attempt trace edited", _edit_attempt_trace, ("modified", "attempts/1/trace.jsonl")),
    ("attempt trace edited, resealed", _reseal(_edit_attempt_trace), ("trace", "attempts/1/trace.jsonl")),
    (
        "attempt step edited, resealed",
        _reseal(lambda b: _flip(b / "attempts/1/steps/0002.png")),
        ("step_file", "attempts/1/steps/0002.png"),
    ),
    ("attempt file added", lambda b: (b / "attempts/1/x.txt").write_text("x"), ("added", "attempts/1/x.txt")),
    ("trace line removed, resealed", _reseal(lambda b: _drop_line(b, 3)), ("trace", "trace.jsonl")),
    ("trace truncated", lambda b: _drop_line(b, -1), ("trace", "trace.jsonl")),
    (
        "video truncated",
        lambda b: (b / "video.mp4").write_bytes((b / "video.mp4").read_bytes()[:1000]),
        ("modified", "video.mp4"),
    ),
    ("step made a symlink", lambda b: _symlink(b, "steps/0004.png"), ("modified", "steps/0004.png")),
    ("manifest removed", lambda b: (b / MANIFEST_NAME).unlink(), None),
    ("manifest garbage", lambda b: (b / MANIFEST_NAME).write_text("{not json"), ("manifest", MANIFEST_NAME)),
]


def _drop_line(b: Path, i: int) -> None:
    p = b / TRACE_NAME
    lines = p.read_bytes().splitlines(keepends=True)
    del lines[i]
    p.write_bytes(b"".join(lines))


def _symlink(b: Path, rel: str) -> None:
    p = b / rel
    keep = b.parent / "elsewhere.png"
    shutil.copyfile(p, keep)
    p.unlink()
    p.symlink_to(keep)


@pytest.mark.parametrize("case,tamper,finding", TAMPERING, ids=[c for c, _, _ in TAMPERING])
def test_tampering_is_detected(case: str, tamper, finding, bundle: Path) -> None:
    assert verify_bundle(bundle).ok
    tamper(bundle)
    r = verify_bundle(bundle)
    assert not r.ok
    if finding is not None:
        what, path = finding
        assert any(f.what == what and f.path.startswith(path) for f in r.failures), [
            f.line() for f in r.failures
        ]
    res = invoke("verify", bundle, "--allow-unsigned")
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output


@pytest.mark.parametrize("case,tamper,finding", TAMPERING, ids=[c for c, _, _ in TAMPERING])
def test_report_never_seals_over_tampering(case: str, tamper, finding, bundle: Path) -> None:
    if finding is not None and finding[1] in ("video.mp4",):
        pytest.skip("a derived file: report makes it again, by design")
    tamper(bundle)
    before = (bundle / MANIFEST_NAME).read_bytes() if (bundle / MANIFEST_NAME).exists() else None
    res = invoke("report", bundle, "--no-video")
    assert res.exit_code == 1, res.output
    assert "refusing to" in res.output
    after = (bundle / MANIFEST_NAME).read_bytes() if (bundle / MANIFEST_NAME).exists() else None
    assert after == before  # nothing resealed
    assert invoke("verify", bundle, "--allow-unsigned").exit_code == 1


def _signed(bundle: Path, keys: dict[str, Path]) -> Path:
    sign_manifest(bundle, keys["owner"].read_bytes())
    return bundle


def _sig(b: Path) -> dict:
    return json.loads((b / SIGNATURE_NAME).read_text())


SIGNATURES = [
    ("removed", lambda b, k: (b / SIGNATURE_NAME).unlink(), "missing"),
    ("replaced by a forger's", lambda b, k: sign_manifest(b, k["forger"].read_bytes()), "foreign"),
    (
        "verdict edited and resealed and re-signed by a forger",
        lambda b, k: (_edit_verdict(b), write_manifest(b, k["forger"].read_bytes())),
        "foreign",
    ),
    (
        "signature bytes flipped",
        lambda b, k: (b / SIGNATURE_NAME).write_text(
            json.dumps(_sig(b) | {"signature": base64.b64encode(bytes(64)).decode()})
        ),
        "does not match",
    ),
    ("garbage", lambda b, k: (b / SIGNATURE_NAME).write_text("garbage"), "corrupt"),
    (
        "key field broken",
        lambda b, k: (b / SIGNATURE_NAME).write_text(json.dumps(_sig(b) | {"public_key": "!!"})),
        "corrupt",
    ),
    (
        "wrong algorithm",
        lambda b, k: (b / SIGNATURE_NAME).write_text(json.dumps(_sig(b) | {"algorithm": "none"})),
        "corrupt",
    ),
    (
        "manifest edited under it",
        lambda b, k: (b / MANIFEST_NAME).write_bytes(
            (b / MANIFEST_NAME).read_bytes().replace(b'"lines": ', b'"lines":  ')
        ),
        "does not match",
    ),
    ("manifest removed under it", lambda b, k: (b / MANIFEST_NAME).unlink(), "without the manifest"),
]


@pytest.mark.parametrize("case,tamper,word", SIGNATURES, ids=[c for c, _, _ in SIGNATURES])
def test_signature_tampering_is_named_and_fails(case: str, tamper, word: str, bundle: Path, keys) -> None:
    b = _signed(bundle, keys)
    ok = invoke("verify", b, "--key", keys["owner.pub"])
    assert ok.exit_code == 0 and "signature valid" in ok.output, ok.output
    tamper(b, keys)
    with_key = invoke("verify", b, "--key", keys["owner.pub"])
    assert with_key.exit_code == 1 and word in with_key.output, with_key.output
    without_key = invoke("verify", b)  # no key given: never a pass on a signature nobody vouched for
    assert without_key.exit_code == 1, without_key.output


def test_unsigned_bundle_needs_allow_unsigned(bundle: Path) -> None:
    res = invoke("verify", bundle)
    assert res.exit_code == 1 and res.output.startswith("UNSIGNED"), res.output
    res = invoke("verify", bundle, "--allow-unsigned")
    assert res.exit_code == 0 and res.output.startswith("VERIFIED"), res.output
    res = invoke("verify", bundle, "--allow-unsigned", "--json")
    assert json.loads(res.output)[0]["intact"] is True


def test_a_self_signed_bundle_is_untrusted_without_a_key(bundle: Path, keys) -> None:
    sign_manifest(bundle, keys["forger"].read_bytes())
    res = invoke("verify", bundle)
    assert res.exit_code == 1 and res.output.startswith("UNTRUSTED"), res.output
    assert invoke("verify", bundle, "--allow-unsigned").exit_code == 0


def test_lost_attempt_steps_not_copied_are_a_note(bundle: Path) -> None:
    """A worker killed before copying a step's files: its attempt says so, the bundle still verifies."""
    (bundle / "attempts/1/steps/0005.png").unlink()
    write_manifest(bundle)
    r = verify_bundle(bundle)
    assert r.ok, [f.line() for f in r.failures]
    assert any("attempts/1/steps/0005.png: not copied" in n for n in r.notes)
