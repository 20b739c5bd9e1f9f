"""Tamper-evident bundle: `manifest.json` lists every file of a run folder with SHA-256 and size, plus the
trace's chain head and line count; `exerciser verify` re-checks all of it.

What verify detects, and how:
- a file edited, removed, or added after sealing → per-file hash/size vs the manifest, unlisted files;
- a trace line edited, removed, inserted or reordered → the `prev` hash chain inside the trace, and the
  manifest's line count and chain head (which also catches removing or editing the *last* line);
- a screenshot or XML swapped and the manifest recomputed by hand → the SHA-256 each trace line recorded
  at capture time (`screenshot_sha256`, `xml_sha256`), which the chain protects;
- a `deciding/<category>-<step>.png` swapped → the screenshot hash its step recorded (it is a copy);
- a lost attempt's trace or step files (`attempts/<n>/`) edited → its own chain and recorded hashes;
- the manifest itself rewritten → only an Ed25519 signature (`manifest.sig`, made with the user's key)
  checked against a key the user trusts, or a chain head published elsewhere, can prove that. A missing,
  foreign (another key) or corrupt signature is named; `exerciser verify` exits 1 for any of them, and
  for a bundle without a signature, unless told `--allow-unsigned`.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exerciser import atomic
from exerciser.evidence.trace import TRACE_NAME, LoadedTrace, load_trace, sha256_file

MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"
FORMAT = "consent-exerciser/manifest/1"
# Made from the evidence by `finalize_app`/`exerciser report`; listed and checked like the rest, but a
# mismatch there says "a report was regenerated or edited", not "evidence was altered".
DERIVED = frozenset({"video.mp4", "report.html", "report.json", "junit.xml"})
NOT_LISTED = frozenset({MANIFEST_NAME, SIGNATURE_NAME})


def _tool_version() -> str:
    try:
        from exerciser import __version__

        return __version__
    except ImportError:  # pragma: no cover
        return "unknown"


def _walk(run_dir: Path) -> list[Path]:
    out = []
    for root, dirs, files in os.walk(run_dir):
        dirs.sort()
        for f in sorted(files):
            out.append(Path(root, f))
    return out


def _walk_rel(run_dir: Path) -> list[tuple[str, str]]:
    """(path relative to run_dir with "/", path) of every file, sorted as `_walk` sorts them."""
    root = os.fspath(run_dir)
    out = []
    for top, dirs, files in os.walk(root):
        dirs.sort()
        rel_top = os.path.relpath(top, root).replace(os.sep, "/")
        for f in sorted(files):
            out.append((f if rel_top == "." else f"{rel_top}/{f}", os.path.join(top, f)))
    return out


class FileHashes:
    """SHA-256 of files, made once per file *content*: hard links (the screenshots of a screen seen again
    are links to one file) are hashed once, and a file hashed earlier is not hashed again while its
    size, mtime and ctime are those it had then (`finalize_app` hashes the run's files while the video
    closes, and the manifest takes those)."""

    def __init__(self) -> None:
        self._by_inode: dict[tuple[int, int], tuple[int, int, int, str]] = {}
        self._traces: dict[str, tuple[tuple[int, int, int, int], LoadedTrace]] = {}

    @staticmethod
    def _key(st: os.stat_result) -> tuple[int, int, int, int]:
        return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns

    def remember_trace(self, path: Path, st: os.stat_result, trace: LoadedTrace) -> None:
        """A trace parsed already (the report's): the manifest takes it while the file is unchanged."""
        self._traces[os.fspath(path)] = (self._key(st), trace)

    def load_trace(self, path: Path) -> LoadedTrace:
        hit = self._traces.get(os.fspath(path))
        if hit is not None and hit[0] == self._key(os.stat(path)):
            return hit[1]
        return load_trace(path)

    def sha256(self, path: str | Path, st: os.stat_result | None = None) -> str:
        st = st or os.stat(path)
        key = (st.st_dev, st.st_ino)
        hit = self._by_inode.get(key)
        if hit is not None and hit[:3] == (st.st_size, st.st_mtime_ns, st.st_ctime_ns):
            return hit[3]
        digest = sha256_file(Path(path))
        self._by_inode[key] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, digest)
        return digest

    def add_tree(self, run_dir: Path, skip: frozenset[str] = frozenset()) -> int:
        """Hash every file of `run_dir` now, but those named in `skip` (about to be rewritten)."""
        n = 0
        for rel, path in _walk_rel(Path(run_dir)):
            if rel not in skip and rel not in NOT_LISTED:
                with contextlib.suppress(OSError):
                    self.sha256(path)
                    n += 1
        return n


def build_manifest(run_dir: Path, hashes: FileHashes | None = None) -> dict[str, Any]:
    run_dir = Path(run_dir)
    hashes = hashes or FileHashes()
    files: dict[str, dict[str, Any]] = {}
    for rel, path in _walk_rel(run_dir):
        if rel in NOT_LISTED:
            continue
        st = os.stat(path)
        files[rel] = {
            "sha256": hashes.sha256(path, st),
            "size": st.st_size,
            "role": "derived" if rel in DERIVED else "evidence",
        }
    trace: dict[str, Any] | None = None
    if (run_dir / TRACE_NAME).exists():
        t = hashes.load_trace(run_dir / TRACE_NAME)
        trace = {
            "file": TRACE_NAME,
            "lines": t.count,
            "head": t.head,
            "chain_ok": t.chain_ok,
            "torn_tail_bytes": len(t.torn_tail),
            "first_step": t.records[0].get("n") if t.records else None,
            "last_step": t.records[-1].get("n") if t.records else None,
            # each line's SHA-256 as sealed: verify then names the very line edited, even when a forger
            # re-chained the lines after it (the chain alone shows only where it breaks)
            "line_sha256": t.line_hashes,
        }
    app = None
    vp = run_dir / "verdict.json"
    if vp.exists():
        try:
            app = json.loads(vp.read_text()).get("app")
        except (ValueError, AttributeError):
            app = None
    return {
        "format": FORMAT,
        "app": app if app is not None else run_dir.name,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "tool": f"consent-exerciser {_tool_version()}",
        "trace": trace,
        "files": files,
    }


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """Canonical bytes: what is written to disk and what a signature covers. Sorted keys, one line per
    top-level key and per entry of `files` and `trace`: readable and diffable, and each line made by
    json's C encoder (with `indent` json uses its Python encoder: 6 ms for a 120-step manifest)."""

    def enc(v: Any) -> str:
        return json.dumps(v, ensure_ascii=False, sort_keys=True)

    def block(items: list[tuple[str, Any]], pad: str, nest: frozenset[str]) -> str:
        rows = []
        for k, v in items:
            if k in nest and isinstance(v, dict) and v:
                inner = block(sorted(v.items()), pad + " ", frozenset())
                rows.append(f"{pad}{enc(k)}: {{\n{inner}\n{pad}}}")
            else:
                rows.append(f"{pad}{enc(k)}: {enc(v)}")
        return ",\n".join(rows)

    return ("{\n" + block(sorted(manifest.items()), " ", frozenset({"files", "trace"})) + "\n}\n").encode()


def write_manifest(
    run_dir: Path,
    private_key_pem: bytes | None = None,
    password: bytes | None = None,
    hashes: FileHashes | None = None,
) -> dict:
    """Seal the folder: write manifest.json (and manifest.sig when a key is given). A stale signature of an
    older manifest is removed, since it could no longer verify. `hashes`: files hashed before (unchanged
    ones are not read again)."""
    run_dir = Path(run_dir)
    m = build_manifest(run_dir, hashes)
    data = manifest_bytes(m)
    _atomic_write(run_dir / MANIFEST_NAME, data)
    sig = run_dir / SIGNATURE_NAME
    if private_key_pem is not None:
        sign_manifest(run_dir, private_key_pem, password)
    elif sig.exists():
        sig.unlink()
    return m


_atomic_write = atomic.write_bytes


# --- signing ----------------------------------------------------------------------------------------------


def sign_manifest(run_dir: Path, private_key_pem: bytes, password: bytes | None = None) -> Path:
    """Sign the exact bytes of manifest.json with an Ed25519 private key (PEM); writes manifest.sig."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from exerciser.errors import UserError

    run_dir = Path(run_dir)
    try:
        key = serialization.load_pem_private_key(private_key_pem, password=password)
    except (ValueError, TypeError) as exc:
        raise UserError(f"cannot read the private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise UserError("the private key is not an Ed25519 key")
    data = (run_dir / MANIFEST_NAME).read_bytes()
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    sig = {
        "algorithm": "Ed25519",
        "signed_file": MANIFEST_NAME,
        "public_key": base64.b64encode(pub).decode(),
        "signature": base64.b64encode(key.sign(data)).decode(),
    }
    out = run_dir / SIGNATURE_NAME
    _atomic_write(out, (json.dumps(sig, indent=1) + "\n").encode())
    return out


def generate_keypair() -> tuple[bytes, bytes]:
    """(private PEM, public PEM) of a fresh Ed25519 key: for tests and `exerciser sign --new-key`."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    priv = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    pub = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return priv, pub


# --- verification -----------------------------------------------------------------------------------------


@dataclass
class Finding:
    what: str  # "modified" | "missing" | "added" | "trace" | "step_file" | "manifest" | "signature" | ...
    path: str
    detail: str

    def line(self) -> str:
        return f"{self.what:10} {self.path}: {self.detail}"


@dataclass
class VerifyResult:
    run_dir: Path
    failures: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files_checked: int = 0
    steps_checked: int = 0
    signature: str = "absent"  # "absent" | "valid" | "invalid" | "unchecked" (sound, key not given)
    unfinished: bool = False  # a trace but no manifest: the run stopped (killed, device lost) before sealing
    last_step: int | None = None

    @property
    def ok(self) -> bool:
        return not self.failures and not self.unfinished

    @property
    def trusted(self) -> bool:
        """Intact and signed by the key the caller gave: the manifest itself cannot have been rewritten."""
        return self.ok and self.signature == "valid"

    @property
    def status(self) -> str:
        if self.failures:
            return "FAILED"
        return "UNFINISHED" if self.unfinished else "VERIFIED"

    def fail(self, what: str, path: str, detail: str) -> None:
        self.failures.append(Finding(what, path, detail))


def verify_bundle(run_dir: Path, public_key_pem: bytes | None = None) -> VerifyResult:
    """Check a run folder against its manifest, its trace chain and (optionally) its signature."""
    run_dir = Path(run_dir)
    r = VerifyResult(run_dir)
    mpath = run_dir / MANIFEST_NAME
    manifest: dict[str, Any] | None = None
    if not mpath.exists():
        if (run_dir / TRACE_NAME).exists():
            # killed or lost before the end: what was recorded is still checked, step by step
            r.unfinished = True
            r.notes.append(
                "not sealed (no manifest.json): the run stopped before its end; every recorded step is "
                "checked against the trace's hash chain and the hashes it recorded at capture"
            )
        else:
            r.fail(
                "manifest", MANIFEST_NAME, "missing: the folder was never sealed or the manifest was removed"
            )
    else:
        try:
            manifest = json.loads(mpath.read_bytes())
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise ValueError(f"format is not {FORMAT}")
        except ValueError as exc:
            r.fail("manifest", MANIFEST_NAME, f"unreadable: {exc}")
            manifest = None

    hashes = FileHashes()  # a file with several names (hard links) is read once
    if manifest is not None:
        _check_files(run_dir, manifest, r, hashes)
        _check_signature(run_dir, public_key_pem, r)
    elif (run_dir / SIGNATURE_NAME).exists():
        r.fail("signature", SIGNATURE_NAME, "a signature without the manifest it signed")
    _check_trace(run_dir, manifest, r, hashes)
    _check_copies(run_dir, r, hashes)
    _check_attempts(run_dir, r, hashes)
    _check_verdict(run_dir, r)
    return r


def _check_copies(run_dir: Path, r: VerifyResult, hashes: FileHashes) -> None:
    """deciding/<category>-<NNNN>.png is step NNNN's screenshot under a second name: bound to the hash
    the trace recorded for that step, so swapping it fails even under a manifest made again."""
    dec = run_dir / "deciding"
    if not dec.is_dir():
        return
    tpath = run_dir / TRACE_NAME
    shots = {}
    if tpath.exists():
        shots = {rec.get("n"): rec.get("screenshot_sha256") for rec in hashes.load_trace(tpath).records}
    for p in sorted(dec.iterdir()):
        rel = f"deciding/{p.name}"
        stem, _, step = p.stem.rpartition("-")
        want = shots.get(int(step)) if p.suffix == ".png" and stem and step.isdigit() else None
        if want is None:
            r.fail("copy", rel, "not the copy of a recorded step's screenshot (<category>-<step>.png)")
        elif not p.is_file() or p.is_symlink():
            r.fail("copy", rel, "not a plain file")
        elif hashes.sha256(p) != want:
            r.fail("copy", rel, f"differs from the screenshot step {int(step)} recorded")


def _check_attempts(run_dir: Path, r: VerifyResult, hashes: FileHashes) -> None:
    """Each lost attempt (attempts/<n>/) sealed with the bundle: its trace chain and the hash of every
    step file it recorded. A step file the attempt did not copy before its worker died is a note; one
    that differs from its recorded hash is a failure."""
    base = run_dir / "attempts"
    if not base.is_dir():
        return
    for d in sorted(p for p in base.iterdir() if p.is_dir()):
        if not (d / TRACE_NAME).exists():
            continue
        sub = VerifyResult(d, unfinished=True)
        _check_trace(d, None, sub, hashes)
        prefix = f"attempts/{d.name}/"
        for f in sub.failures:
            if f.what == "step_file" and "is missing" in f.detail:
                r.notes.append(f"{prefix}{f.path}: not copied before that attempt's worker stopped")
            else:
                r.fail(f.what, prefix + f.path, f"attempt {d.name}: {f.detail}")
        r.steps_checked += sub.steps_checked


def _check_files(run_dir: Path, manifest: dict[str, Any], r: VerifyResult, hashes: FileHashes) -> None:
    listed: dict[str, dict[str, Any]] = manifest.get("files") or {}
    present = {p.relative_to(run_dir).as_posix(): p for p in _walk(run_dir)}
    for rel, meta in sorted(listed.items()):
        p = present.get(rel)
        kind = "derived file" if meta.get("role") == "derived" else "evidence file"
        if p is None:
            r.fail("missing", rel, f"{kind} listed in the manifest is gone")
            continue
        r.files_checked += 1
        if p.is_symlink():
            r.fail("modified", rel, "is now a symbolic link")
            continue
        st = p.stat()
        size = st.st_size
        digest = hashes.sha256(p, st)
        if digest != meta.get("sha256") or size != meta.get("size"):
            r.fail(
                "modified",
                rel,
                f"{kind} changed since sealing (sha256 {digest[:12]}… size {size}, "
                f"manifest {str(meta.get('sha256'))[:12]}… size {meta.get('size')})",
            )
    for rel in sorted(set(present) - set(listed) - NOT_LISTED):
        r.fail("added", rel, "file not in the manifest (added after sealing)")


def _check_trace(run_dir: Path, manifest: dict[str, Any] | None, r: VerifyResult, hashes: FileHashes) -> None:
    tpath = run_dir / TRACE_NAME
    mt = (manifest or {}).get("trace")
    if not tpath.exists():
        if mt is not None or manifest is None:
            r.fail("trace", TRACE_NAME, "trace.jsonl is missing")
        return
    t = load_trace(tpath)
    r.last_step = t.records[-1].get("n") if t.records else None
    for p in t.problems:
        if p.kind == "torn":
            if mt is not None and mt.get("torn_tail_bytes") == len(t.torn_tail):
                r.notes.append(f"trace line {p.line}: {p.message} (already so when sealed)")
            elif r.unfinished:  # the write the kill interrupted: the steps before it are whole
                r.notes.append(f"trace line {p.line}: {p.message}; the steps before it are complete")
            else:
                r.fail("trace", f"{TRACE_NAME}:{p.line}", p.message)
        else:
            r.fail("trace", f"{TRACE_NAME}:{p.line}", p.message)
    if mt is not None:
        sealed = mt.get("line_sha256")
        if isinstance(sealed, list):
            for i, (now, then) in enumerate(zip(t.line_hashes, sealed, strict=False), start=1):
                if now != then:
                    n = t.line_steps[i - 1]
                    r.fail("trace", f"{TRACE_NAME}:{i}", f"line {i} (step {n}) differs from the sealed line")
                    break  # after the first, a removed or inserted line shifts all the rest
        if mt.get("lines") != t.count:
            r.fail("trace", TRACE_NAME, f"has {t.count} lines, the manifest sealed {mt.get('lines')}")
        if mt.get("head") != t.head:
            r.fail(
                "trace",
                TRACE_NAME,
                f"chain head {t.head[:12]}… differs from the sealed head {str(mt.get('head'))[:12]}… "
                "(last line edited, removed or appended)",
            )
    # Each step's files against the hashes recorded when the screen was captured.
    for rec in t.records:
        n = rec.get("n")
        for name_key, hash_key in (("screenshot", "screenshot_sha256"), ("xml", "xml_sha256")):
            rel, want = rec.get(name_key), rec.get(hash_key)
            if not rel or not want:
                continue
            p = run_dir / rel
            if not _inside(run_dir, p):
                r.fail("step_file", str(rel), f"step {n}: path leaves the run folder")
            elif not p.exists():
                r.fail("step_file", rel, f"step {n}: {name_key} recorded in the trace is missing")
            elif hashes.sha256(p) != want:
                r.fail("step_file", rel, f"step {n}: {name_key} differs from the one captured at that step")
        r.steps_checked += 1


def _check_verdict(run_dir: Path, r: VerifyResult) -> None:
    vp = run_dir / "verdict.json"
    if not vp.exists():
        r.notes.append("no verdict.json: the run stopped before scoring")
        return
    try:
        verdict = json.loads(vp.read_text())
        cats = verdict.get("categories") or {}
    except (ValueError, AttributeError) as exc:
        r.fail("verdict", "verdict.json", f"unreadable: {exc}")
        return
    tpath = run_dir / TRACE_NAME
    steps = {rec.get("n") for rec in load_trace(tpath).records} if tpath.exists() else set()
    for cat, v in sorted(cats.items()):
        missing = [s for s in (v or {}).get("evidence_steps") or [] if s not in steps]
        if missing:
            r.fail(
                "verdict", "verdict.json", f"category {cat} cites steps {missing} that are not in the trace"
            )


def _check_signature(run_dir: Path, public_key_pem: bytes | None, r: VerifyResult) -> None:
    """Missing, foreign (another key than the one given) or corrupt (not a signature of these bytes even
    under its own key): each named. Without a key a sound signature is "unchecked": anyone can sign."""
    from exerciser.errors import UserError

    sp = run_dir / SIGNATURE_NAME
    pinned = None
    if public_key_pem is not None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            pinned = serialization.load_pem_public_key(public_key_pem)
        except (ValueError, TypeError) as exc:
            raise UserError(f"cannot read the public key: {exc}") from exc
        if not isinstance(pinned, Ed25519PublicKey):
            raise UserError("the public key is not an Ed25519 key")
    if not sp.exists():
        if pinned is not None:
            r.signature = "invalid"
            r.fail("signature", SIGNATURE_NAME, "missing: a key was given but the bundle is not signed")
        else:
            r.notes.append(
                "not signed: without a signature the manifest proves the files agree with each other, not "
                "that the manifest itself was not made again (exerciser sign RUN_DIR --key KEY)"
            )
        return
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        sig = json.loads(sp.read_bytes())
        signature = base64.b64decode(sig["signature"], validate=True)
        embedded = Ed25519PublicKey.from_public_bytes(base64.b64decode(sig["public_key"], validate=True))
        if sig.get("algorithm") != "Ed25519" or sig.get("signed_file") != MANIFEST_NAME:
            raise ValueError("not an Ed25519 signature of manifest.json")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        r.signature = "invalid"
        r.fail("signature", SIGNATURE_NAME, f"corrupt: {exc}")
        return
    data = (run_dir / MANIFEST_NAME).read_bytes()
    try:
        embedded.verify(signature, data)
    except InvalidSignature:
        r.signature = "invalid"
        r.fail(
            "signature",
            SIGNATURE_NAME,
            "signature does not match manifest.json: one of them was changed after signing",
        )
        return
    key_id = embedded.public_bytes_raw().hex()[:16]
    if pinned is None:
        r.signature = "unchecked"
        r.notes.append(
            f"signed by Ed25519 key {key_id}…, which nobody vouched for: give --key PUBKEY to check it "
            "against a key you trust"
        )
        return
    try:
        pinned.verify(signature, data)
    except InvalidSignature:
        r.signature = "invalid"
        r.fail(
            "signature",
            SIGNATURE_NAME,
            f"foreign: signed by key {key_id}…, not by the given key (signature does not match manifest.json "
            "under the given key)",
        )
        return
    r.signature = "valid"


def _inside(root: Path, p: Path) -> bool:
    try:
        p.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False
