"""Step files and the manifest's hashing: a screen seen again is a hard link (written once, hashed
once), a name written again never changes its links' bytes, a file changed after it was hashed is
hashed again when sealing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import exerciser.evidence.manifest as manifest
from exerciser.evidence.manifest import FileHashes, manifest_bytes, verify_bundle, write_manifest
from exerciser.evidence.stepfiles import StepFiles
from exerciser.evidence.trace import sha256_hex


def test_same_bytes_are_linked_and_a_rewritten_name_keeps_its_links_bytes(tmp_path: Path) -> None:
    (tmp_path / "steps").mkdir()
    files = StepFiles(tmp_path)
    a, b = b"screen A" * 1000, b"screen B" * 1000
    assert files.write("steps/0001.png", a) == sha256_hex(a)
    files.write("steps/0002.png", a, sha256_hex(a))
    files.write("steps/0003.png", b)
    one, two = (tmp_path / "steps/0001.png").stat(), (tmp_path / "steps/0002.png").stat()
    assert (one.st_ino, one.st_nlink) == (two.st_ino, 2)
    assert (files.written, files.linked) == (2 * len(a), len(a))
    # a resumed run writes over one of its names: the other name keeps the old bytes
    files.write("steps/0002.png", b)
    assert (tmp_path / "steps/0001.png").read_bytes() == a
    assert (tmp_path / "steps/0002.png").read_bytes() == b
    assert (tmp_path / "steps/0002.png").stat().st_ino == (tmp_path / "steps/0003.png").stat().st_ino
    files.write("steps/0001.png", a)  # the same bytes at the same name: nothing to do
    assert (tmp_path / "steps/0001.png").read_bytes() == a


def test_without_dedupe_every_step_is_a_copy(tmp_path: Path) -> None:
    (tmp_path / "steps").mkdir()
    files = StepFiles(tmp_path, dedupe=False)
    for n in (1, 2):
        files.write(f"steps/{n:04d}.png", b"same")
    assert (tmp_path / "steps/0001.png").stat().st_nlink == 1
    assert files.linked == 0 and files.written == 8


def _folder(tmp_path: Path) -> Path:
    d = tmp_path / "app"
    (d / "steps").mkdir(parents=True)
    files = StepFiles(d)
    for n in range(1, 7):
        files.write(f"steps/{n:04d}.png", b"screen %d" % (n % 2) * 500)
    (d / "verdict.json").write_text(json.dumps({"app": "app", "categories": {}}))
    return d


def test_links_are_hashed_once_and_sealed_under_every_name(tmp_path: Path, monkeypatch) -> None:
    d = _folder(tmp_path)
    read: list[str] = []
    real = manifest.sha256_file
    monkeypatch.setattr(manifest, "sha256_file", lambda p: read.append(str(p)) or real(p))
    m = write_manifest(d)
    assert len(read) == 3  # two distinct screens and verdict.json, for seven names
    assert len(m["files"]) == 7
    assert m["files"]["steps/0001.png"]["sha256"] == m["files"]["steps/0005.png"]["sha256"]
    assert verify_bundle(d).files_checked == 7


def test_a_file_changed_after_it_was_hashed_is_hashed_again(tmp_path: Path) -> None:
    d = _folder(tmp_path)
    hashes = FileHashes()
    assert hashes.add_tree(d) == 7
    v = d / "verdict.json"
    st = v.stat()
    v.write_text(json.dumps({"app": "APP", "categories": {}}))  # same size
    os.utime(v, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    m = write_manifest(d, hashes=hashes)
    assert m["files"]["verdict.json"]["sha256"] == sha256_hex(v.read_bytes())
    assert verify_bundle(d).failures == []


def test_manifest_bytes_one_line_per_file_and_same_content(tmp_path: Path) -> None:
    d = _folder(tmp_path)
    m = write_manifest(d)
    text = (d / "manifest.json").read_text()
    assert json.loads(text) == m
    assert manifest_bytes(m) == text.encode()
    lines = text.splitlines()
    assert sum(line.startswith('  "steps/') for line in lines) == 6
    assert any(line.strip().startswith('"files": {') for line in lines)


@pytest.mark.parametrize("link", [True, False])
def test_editing_one_name_of_a_link_fails_verify(tmp_path: Path, link: bool) -> None:
    d = _folder(tmp_path)
    write_manifest(d)
    p = d / "steps/0003.png"
    if link:  # in place: every name of the inode changes
        p.write_bytes(b"edited" * 10)
    else:  # replaced: only this name changes
        p.unlink()
        p.write_bytes(b"edited" * 10)
    bad = {f.path for f in verify_bundle(d).failures}
    assert "steps/0003.png" in bad
    assert ("steps/0001.png" in bad) is link and ("steps/0005.png" in bad) is link
