"""`exerciser replay|compare|verify|sign|report`: evidence commands.

Exit status: 0 agree / verified / done, 1 disagree / tampered / diverged / unfinished, 2 bad input.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from exerciser.errors import UserError


def _read_key(path: str | None) -> bytes | None:
    if path is None:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read key {path}: {exc.strerror}") from exc


def _app_dirs(path: Path) -> list[Path]:
    """A run folder itself, or the app folders of a suite folder."""
    if (path / "trace.jsonl").exists():
        return [path]
    if path.is_dir():
        subs = sorted(p for p in path.iterdir() if p.is_dir() and (p / "trace.jsonl").exists())
        if subs:
            return subs
    if not path.exists():
        raise UserError(f"{path}: no such folder")
    raise UserError(f"{path}: not a run folder (no trace.jsonl) nor a folder of run folders")


@click.command("verify")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--key", "key", type=click.Path(), help="Ed25519 public key (PEM) the signature must verify under."
)
@click.option(
    "--allow-unsigned",
    is_flag=True,
    help="Pass a bundle that is intact but not signed by the --key (proves less: see the README).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def verify_cmd(run_dir: Path, key: str | None, allow_unsigned: bool, as_json: bool) -> None:
    """Check that RUN_DIR (or every app folder under it) is exactly what the run sealed, signed by the
    --key. Exit 0 only then (or intact with --allow-unsigned); 1 otherwise."""
    from exerciser.evidence.manifest import verify_bundle

    pub = _read_key(key)
    results = [verify_bundle(d, pub) for d in _app_dirs(run_dir)]

    def passed(r) -> bool:  # noqa: ANN001 - manifest.VerifyResult
        return r.trusted or (allow_unsigned and r.ok)

    def status(r) -> str:  # noqa: ANN001
        if r.status != "VERIFIED" or passed(r):
            return r.status
        return "UNSIGNED" if r.signature == "absent" else "UNTRUSTED"

    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "run_dir": str(r.run_dir),
                        "ok": passed(r),
                        "intact": r.ok,
                        "status": status(r),
                        "last_step": r.last_step,
                        "signature": r.signature,
                        "files_checked": r.files_checked,
                        "steps_checked": r.steps_checked,
                        "failures": [f.__dict__ for f in r.failures],
                        "notes": r.notes,
                    }
                    for r in results
                ],
                indent=1,
            )
        )
    else:
        for r in results:
            if r.status == "UNFINISHED":
                what = f"{r.steps_checked} steps intact, last step {r.last_step}; the run did not finish"
            else:
                what = f"{r.files_checked} files, {r.steps_checked} steps, signature {r.signature}"
            click.echo(f"{status(r)}  {r.run_dir}  ({what})")
            for f in r.failures:
                click.echo(f"  {f.line()}")
            for n in r.notes:
                click.echo(f"  note: {n}")
            if status(r) in ("UNSIGNED", "UNTRUSTED"):
                click.echo("  intact, but not signed by a key given with --key (--allow-unsigned passes it)")
    sys.exit(0 if all(passed(r) for r in results) else 1)


@click.command("sign")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--key", "key", type=click.Path(), help="Ed25519 private key (PEM).")
@click.option(
    "--new-key",
    "new_key",
    type=click.Path(path_type=Path),
    help="Generate a key pair here (PATH private, PATH.pub public) and sign with it.",
)
def sign_cmd(run_dir: Path, key: str | None, new_key: Path | None) -> None:
    """Sign RUN_DIR's manifest with an Ed25519 key (only a bundle that verifies is signed)."""
    from exerciser.evidence.manifest import generate_keypair, sign_manifest, verify_bundle

    if (key is None) == (new_key is None):
        raise UserError("give exactly one of --key PRIVKEY or --new-key PATH")
    if new_key is not None:
        if new_key.exists():
            raise UserError(f"{new_key} exists; not overwriting a key")
        priv, pub = generate_keypair()
        new_key.write_bytes(priv)
        new_key.chmod(0o600)
        new_key.with_name(new_key.name + ".pub").write_bytes(pub)
        click.echo(f"new key pair: {new_key} (private), {new_key}.pub (public)")
        key_pem = priv
    else:
        key_pem = _read_key(key) or b""
    dirs = _app_dirs(run_dir)
    bad = [r for r in (verify_bundle(d) for d in dirs) if not r.ok]
    for r in bad:
        click.echo(f"not signing {r.run_dir}: it does not verify", err=True)
        for f in r.failures:
            click.echo(f"  {f.line()}", err=True)
    if bad:
        sys.exit(1)
    for d in dirs:
        click.echo(f"signed {sign_manifest(d, key_pem)}")


@click.command("report")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--no-video", is_flag=True, help="Do not (re)make video.mp4.")
@click.option(
    "--key", "key", type=click.Path(), help="Ed25519 private key (PEM) to sign the resealed manifest."
)
def report_cmd(run_dir: Path, no_video: bool, key: str | None) -> None:
    """(Re)make the reports of RUN_DIR (an app folder, or a suite folder: every app plus the index) and
    reseal the manifest. A bundle whose evidence no longer verifies is refused."""
    from exerciser.evidence.bundle import finalize_app, finalize_suite
    from exerciser.evidence.manifest import MANIFEST_NAME, verify_bundle

    dirs = _app_dirs(run_dir)
    priv = _read_key(key)
    for d in dirs:
        if not (d / MANIFEST_NAME).exists():  # never sealed, or its manifest removed: sealing now would
            # seal whatever the folder holds now, edits included
            click.echo(f"refusing to seal {d}: it has no manifest.json (never sealed, or removed)", err=True)
            sys.exit(1)
        r = verify_bundle(d)
        evidence_bad = [f for f in r.failures if not _derived_only(f)]
        if evidence_bad:
            click.echo(f"refusing to reseal {d}: its evidence does not verify", err=True)
            for f in evidence_bad:
                click.echo(f"  {f.line()}", err=True)
            sys.exit(1)
        was_signed = (d / "manifest.sig").exists()
        finalize_app(d, video=not no_video, private_key_pem=priv)
        click.echo(f"{d}/report.html")
        if was_signed and priv is None:
            click.echo(f"  note: the old signature was removed; sign again: exerciser sign {d} --key KEY")
    if dirs != [run_dir]:
        finalize_suite(run_dir, dirs)
        click.echo(f"{run_dir}/report.html")


def _derived_only(f) -> bool:  # noqa: ANN001 - manifest.Finding
    from exerciser.evidence.manifest import DERIVED

    return f.what in ("modified", "missing") and f.path in DERIVED


@click.command("compare")
@click.argument("run_a", type=click.Path(path_type=Path))
@click.argument("run_b", type=click.Path(path_type=Path))
@click.option("--figures", is_flag=True, help="Also require the figures to be equal.")
@click.option("--json", "as_json", is_flag=True)
def compare_cmd(run_a: Path, run_b: Path, figures: bool, as_json: bool) -> None:
    """Do the verdicts of two runs agree per category, and where do their traces differ?"""
    from exerciser.evidence.compare import compare_runs

    c = compare_runs(run_a, run_b)
    if as_json:
        fd = c.first_difference
        click.echo(
            json.dumps(
                {
                    "verdicts_agree": c.verdicts_agree,
                    "figures_agree": c.figures_agree,
                    "categories": {
                        d.category: {"a": d.a, "b": d.b, "agree": d.verdict_agrees} for d in c.categories
                    },
                    "steps": [c.length_a, c.length_b],
                    "first_difference": fd.__dict__ if fd else None,
                },
                indent=1,
                ensure_ascii=False,
            )
        )
    else:
        click.echo("\n".join(c.lines()))
    agree = c.verdicts_agree and (c.figures_agree or not figures)
    sys.exit(0 if agree else 1)


@click.command("replay")
@click.argument("trace", type=click.Path(path_type=Path))
@click.option("--profile", help="Virtual device profile (default: the run's).")
@click.option("--locale", help="Device locale, e.g. zh-CN (default: the run's).")
@click.option("--width", type=int, help="Screen width in pixels (virtual device).")
@click.option("--height", type=int, help="Screen height in pixels (virtual device).")
@click.option("--density", type=click.IntRange(72, 1000), help="Screen density in dpi (virtual device).")
@click.option("--device", "serial", help="Replay on a real device (adb serial) instead of the virtual one.")
@click.option("--out", "out", type=click.Path(path_type=Path), help="Folder for the replay's bundle.")
@click.option(
    "--mode",
    type=click.Choice(["auto", "probes", "trace"]),
    default="auto",
    help="probes: re-run the probes held to the trace (needs scenario.json; true re-score); "
    "trace: replay the actions alone. auto: probes when possible.",
)
@click.option("--keep-going", is_flag=True, help="Do not stop at the first divergence.")
@click.option("--no-video", is_flag=True)
def replay_cmd(
    trace: Path,
    profile: str | None,
    locale: str | None,
    width: int | None,
    height: int | None,
    density: int | None,
    serial: str | None,
    out: Path | None,
    mode: str,
    keep_going: bool,
    no_video: bool,
) -> None:
    """Re-execute a run's trace (TRACE or its run folder) on another device, check every screen, re-score."""
    from exerciser.evidence.replay import replay_run

    res = replay_run(
        trace,
        profile=profile,
        locale=locale,
        width=width,
        height=height,
        density=density,
        serial=serial,
        out=out,
        mode=mode,
        stop_on_divergence=not keep_going,
        video=not no_video,
        progress=lambda s: click.echo(s, err=True),
    )
    click.echo("\n".join(res.lines()))
    sys.exit(0 if res.ok else 1)


def register(cli: click.Group) -> None:
    for cmd in (replay_cmd, compare_cmd, verify_cmd, sign_cmd, report_cmd):
        cli.add_command(cmd)
