"""`exerciser check TARGET`: a pre-release check of one app, with a one-screen summary and an exit status.

TARGET is an APK (with `--device SERIAL`: installed, run with the default scenario, removed; without a device:
checked from its manifest alone, unless the virtual device runs it), a sample id or app model (virtual
device), a scenario file, or an existing results folder (summarised, not re-run).
Exit status: 0 compliant, 1 a violation (a run) or a category-7 finding (manifest only), 2 a tool or input
error or a verdict that could not be reached.
"""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import click

MARK = {"violation": "VIOLATION", "compliant": "ok", "inconclusive": "?", "not run": "-"}


def summary_lines(result) -> list[str]:
    """The one-screen summary of a `CheckResult`."""
    from exerciser.apk.check import TITLES

    apk = result.apk
    head = f"exerciser check: {result.app}"
    if apk is not None and apk.package:
        parts = [apk.label] if apk.label and apk.label != result.app else []
        version = f"version {apk.version_name}" if apk.version_name else ""
        if apk.package != result.app:
            version = f"{apk.package} {version}".strip()
        parts += [version] if version else []
        head += f" ({', '.join([*parts, f'target SDK {apk.target_sdk}'])})"
    if result.device:
        head += f" on {result.device}"
    lines = [head, ""]
    for key, cat in result.categories.items():
        fig = "-" if cat.figure is None else str(cat.figure)
        steps = ""
        if cat.steps and not cat.compliant:
            more = " …" if len(cat.steps) > 6 else ""
            steps = f"   steps {', '.join(map(str, cat.steps[:6]))}{more}"
        lines.append(
            f"  {key:<8} {TITLES.get(key, ''):<32} {MARK.get(cat.verdict, cat.verdict):<10} "
            f"figure {fig:<4}{steps}".rstrip()
        )
        if cat.reason:
            lines += [
                f"           {part}" for part in textwrap.wrap(cat.reason, 96, max_lines=2, placeholder=" …")
            ]
    if result.error:
        lines += ["", f"  tool error: {result.error[:200]}"]
    lines.append("")
    if result.warnings:
        lines.append(
            f"  manifest warnings (category 7, {len(result.warnings)}): declared dangerous groups "
            "no declared feature justifies"
        )
        lines += [f"    ! {w.message}" for w in result.warnings]
    elif apk is not None:
        lines.append(
            "  manifest: every declared dangerous permission group is justified by a declared feature"
        )
    if lines[-1]:
        lines.append("")
    lines.append(f"  evidence: {result.run_dir}  (report.html, trace.jsonl, deciding/, steps/)")
    lines.append(f"  verdict:  {result.verdict.upper()}  (exit {result.exit_code})")
    return lines


def write_junit(path: Path, result) -> Path:
    """JUnit XML: the run's testsuite (one testcase per category) plus one for the manifest check."""
    import xml.etree.ElementTree as ET

    from exerciser.report.junit import app_testsuite
    from exerciser.report.model import load_run

    ts = app_testsuite(load_run(result.run_dir))
    if result.apk is not None or result.warnings:
        tc = ET.SubElement(
            ts,
            "testcase",
            {
                "classname": f"consent_exerciser.{result.app}",
                "name": "manifest 7: declared dangerous permission groups justified by declared features",
                "time": "0",
            },
        )
        out = ET.SubElement(tc, "system-out")
        # a warning, not a failure: the dynamic category 7 decides; CI shows the text
        out.text = "\n".join(f"warning: {w.message}" for w in result.warnings) or "no manifest warnings"
        ts.set("tests", str(int(ts.get("tests", "0")) + 1))
    root = ET.Element("testsuites", {k: ts.get(k, "0") for k in ("tests", "failures", "skipped", "errors")})
    root.set("name", f"exerciser check {result.app}")
    root.append(ts)
    from exerciser.apk.static import write_xml

    return write_xml(root, path)


def register(cli: click.Group) -> None:
    @cli.command("check")
    @click.argument("target")
    @click.option(
        "--device",
        "serial",
        default=None,
        metavar="SERIAL",
        help="real device (adb serial); default: the virtual device",
    )
    @click.option(
        "--out",
        "out",
        type=click.Path(path_type=Path),
        default=None,
        help="results folder (default runs/check-<timestamp>)",
    )
    @click.option(
        "--junit", "junit", type=click.Path(path_type=Path), default=None, help="write JUnit XML here"
    )
    @click.option(
        "--scenario",
        "scenario_file",
        type=click.Path(path_type=Path),
        default=None,
        help="take features, budgets, locale, profile and probes from this scenario file",
    )
    @click.option(
        "--feature",
        "features",
        multiple=True,
        metavar="NAME=PERM[,PERM]",
        help="a feature of the app and the permissions it justifies, e.g. scan=camera; repeatable",
    )
    @click.option("--profile", default=None, help="virtual device profile, e.g. api28")
    @click.option("--locale", default=None, help="en-US or zh-CN")
    @click.option(
        "--probe",
        "probes",
        multiple=True,
        type=click.Choice(["consent", "5", "6", "7", "8"]),
        help="run only these probes; repeatable (default: all)",
    )
    @click.option(
        "--manifest-only",
        "manifest_only",
        is_flag=True,
        help="check an APK from its manifest alone, even when the virtual device could run it",
    )
    @click.option("--json", "as_json", is_flag=True, help="print the result as JSON instead of text")
    @click.option("--keep", is_flag=True, help="leave the APK installed on the device after the check")
    @click.option("--quiet", is_flag=True, help="no progress lines")
    def check_cmd(
        target: str,
        serial: str | None,
        out: Path | None,
        junit: Path | None,
        scenario_file: Path | None,
        features: tuple[str, ...],
        profile: str | None,
        locale: str | None,
        probes: tuple[str, ...],
        manifest_only: bool,
        as_json: bool,
        keep: bool,
        quiet: bool,
    ) -> None:
        """Check TARGET before release: an APK, sample id, model, scenario or run folder.

        An APK without --device is checked from its manifest alone (facts, dangerous permission groups,
        category-7 findings against the features of --scenario/--feature) in well under a second.
        Otherwise prints a one-screen summary and writes OUT/<app>/ (evidence) and OUT/<app>.check.json.
        Exit status: 0 compliant, 1 a violation or a manifest finding, 2 an error or no verdict reached.
        """
        from exerciser.apk import check

        resolved = check.resolve_target(target)
        if resolved.kind == "results" and (serial or features or scenario_file or probes or manifest_only):
            raise click.UsageError("a results folder is summarised as it is; it takes no run options")
        if resolved.kind == "apk" and not serial:
            apk = check.read_apk(resolved.value)  # a bad file stops here: one line, exit 2
            if manifest_only or not check.runs_on_virtual_device(Path(resolved.value), apk):
                run_opts = [
                    n
                    for n, v in (
                        ("--probe", probes),
                        ("--profile", profile),
                        ("--locale", locale),
                        ("--keep", keep),
                        ("--out", out),
                    )
                    if v
                ]
                if run_opts:
                    raise click.UsageError(
                        f"{', '.join(run_opts)}: options of a run; without --device an APK is checked from "
                        "its manifest alone"
                    )
                _manifest_check(apk, features, scenario_file, junit, as_json)
        elif manifest_only:
            raise click.UsageError("--manifest-only applies to an APK checked without --device")
        out_dir = out or Path("runs") / time.strftime("check-%Y%m%d-%H%M%S")
        t0 = time.monotonic()

        def progress(msg: str) -> None:
            # one line per probe (not per step), and one per device hour of a wait the phone cannot skip
            if not quiet and msg.startswith(("probe ", "waiting on the phone")):
                click.echo(f"  … {time.monotonic() - t0:5.1f}s {msg}", err=True)

        result = check.run_check(
            resolved,
            out_dir=out_dir,
            serial=serial,
            profile=profile,
            locale=locale,
            probes=list(probes) or None,
            features=[check.parse_feature(f) for f in features] or None,
            scenario_file=scenario_file,
            keep_installed=keep,
            progress=progress,
        )
        if as_json and result.summary_json is not None:
            click.echo(result.summary_json.read_text(encoding="utf-8"))
            if junit:
                write_junit(junit, result)
            sys.exit(result.exit_code)
        click.echo("\n".join(summary_lines(result)))
        if result.summary_json is not None:
            click.echo(f"  json:     {result.summary_json}")
        if junit:
            click.echo(f"  junit:    {write_junit(junit, result)}")
        sys.exit(result.exit_code)


def _manifest_check(apk, features: tuple[str, ...], scenario: Path | None, junit: Path | None, as_json: bool):
    """The deviceless check of an APK: print, write the JUnit file, exit 0 (no finding) or 1."""
    import json

    from exerciser.apk import static
    from exerciser.errors import UserError

    feats = static.parse_features(features)
    if scenario is not None:
        feats = static.scenario_features(scenario) + feats
    chk = static.StaticCheck(apk, feats, scenario)
    path = None
    if junit:  # first: a path that cannot be written is one line, before any result is printed
        try:
            path = static.write_junit(junit, chk)
        except OSError as exc:
            raise UserError(f"{junit}: cannot write the JUnit file ({exc.strerror or exc})") from None
    if as_json:
        click.echo(json.dumps(chk.to_dict(), ensure_ascii=False, indent=1))
    else:
        click.echo("\n".join(static.summary_lines(chk)))
        if path is not None:
            click.echo(f"  junit:    {path}")
    sys.exit(chk.exit_code)
