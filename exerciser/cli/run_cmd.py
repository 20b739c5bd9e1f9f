"""`exerciser run SUITE_OR_SCENARIO`: run the probes, score, write one results folder per app.

On the virtual device by default (each app on its own device; `--jobs N` runs N apps at a time in
worker processes), on real phones with `--devices`. Results: DIR/<app-id>/ (scenarios/README.md).
Exit status: 0 every category of every app compliant, 1 a violation found, 2 a tool or input error
(inconclusive verdicts without any violation also give 2: the run could not establish compliance).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import click

from exerciser.errors import UserError, note_results_dir
from exerciser.paths import writable_dir

CATS = ("consent", "5", "6", "7", "8")
STYLE = {"violation": "bold red", "compliant": "green", "inconclusive": "yellow"}


def _default_out() -> Path:
    return Path("runs") / time.strftime("%Y%m%d-%H%M%S")


def _check_out(out_dir: Path, scenarios) -> None:
    """DIR must be a folder that does not yet hold a run of these apps (a run never mixes with another)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"--out {out_dir}: exists and is not a folder")
    taken = [sc.id for sc in scenarios if (out_dir / sc.id / "trace.jsonl").exists()]
    if taken:
        raise UserError(
            f"--out {out_dir}: already holds results of {', '.join(taken[:3])}"
            + (f" and {len(taken) - 3} more" if len(taken) > 3 else "")
            + "; choose another folder"
        )


def _cell(cat: dict | None) -> str:
    if not cat:
        return "–"
    fig = cat.get("figure")
    v = cat.get("verdict", "inconclusive")
    mark = {"violation": "V", "compliant": "C", "inconclusive": "?"}[v]
    return f"[{STYLE[v]}]{mark} {'–' if fig is None else fig}[/]"


def summary_table(results):
    """One row per app: its status, each category's verdict and figure ("V 7": violation, figure 7;
    C compliant, ? inconclusive, – no figure), the policy-within-4-taps check and the seconds it took;
    tool errors in the caption."""
    from rich import box
    from rich.table import Table

    errors = [f"{r.app}: {r.error[:160]}" for r in results if r.error]
    t = Table(
        title="consent-exerciser results",
        caption="\n".join(errors) or None,
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        pad_edge=False,
        collapse_padding=True,
    )
    # the app id whole (it names the results folder) and its status first: on a narrow terminal only
    # the last columns get squeezed
    t.add_column("app", no_wrap=True, min_width=max((len(r.app) for r in results), default=3))
    t.add_column("status", no_wrap=True)
    for c in CATS:
        t.add_column(c, justify="center", no_wrap=True)
    t.add_column("policy", justify="center", no_wrap=True)
    t.add_column("s", justify="right", no_wrap=True)
    for r in results:
        cats = {c: v.to_json() for c, v in r.categories.items()}
        pol = r.extra.get("privacy_policy_reachable") if r.extra else None
        status = r.status
        t.add_row(
            r.app,
            f"[{STYLE.get(status, 'bold magenta')}]{status}[/]",
            *[_cell(cats.get(c)) for c in CATS],
            _cell(pol) if pol else "–",
            f"{r.wall_seconds:.0f}",
        )
    return t


def exit_code(results) -> int:
    if any(r.violations for r in results):
        return 1
    if any(r.status != "compliant" for r in results):
        return 2
    return 0


def run_suite_virtual(scenarios, out_dir: Path, console, rules=None, quiet: bool = False, jobs: int = 1):
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from exerciser.runner.parallel import run_virtual

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[note]}"),
        console=console,
        disable=quiet,
        transient=False,
    ) as prog:
        suite = prog.add_task("suite", total=len(scenarios), note=f"{jobs} at a time" if jobs > 1 else "")
        rows: dict[int, int] = {}

        def report(i: int, app: str, msg: str) -> None:
            if i not in rows:
                rows[i] = prog.add_task(app, total=None, note="")
            if msg:
                prog.update(rows[i], note=msg[:70])
            else:  # the app is done
                prog.update(rows[i], total=1, completed=1, note="done")
                prog.advance(suite)

        return run_virtual(scenarios, out_dir, rules=rules, jobs=jobs, finalize=True, report=report)


def register(cli: click.Group) -> None:
    @cli.command("run")
    @click.argument("suite_or_scenario", type=click.Path(path_type=Path))
    @click.option(
        "--out",
        "out",
        type=click.Path(path_type=Path),
        default=None,
        help="results folder (default runs/<timestamp>); one sub-folder per app",
    )
    @click.option("--profile", default=None, help="device profile for every app (virtual device), e.g. api28")
    @click.option("--locale", default=None, help="device locale for every app, en-US or zh-CN")
    @click.option(
        "--display",
        default=None,
        help="virtual device's panel for every app: WIDTHxHEIGHT@DPI, e.g. 540x1170@240, 720x1600@320",
    )
    @click.option(
        "--devices",
        default=None,
        help="run on real devices: 'all' or SERIAL,SERIAL,... (one app per device at a time)",
    )
    @click.option(
        "--rules",
        "rules_file",
        type=click.Path(path_type=Path),
        default=None,
        help="YAML of convention/protocol threshold overrides (name: value)",
    )
    @click.option(
        "--jobs",
        "-j",
        type=int,
        default=1,
        show_default=True,
        help="virtual device: apps run at a time, each in its own worker process (0: one per CPU core)",
    )
    @click.option("--quiet", is_flag=True, help="no progress display")
    def run_cmd(
        suite_or_scenario: Path,
        out: Path | None,
        profile: str | None,
        locale: str | None,
        display: str | None,
        devices: str | None,
        rules_file: Path | None,
        jobs: int,
        quiet: bool,
    ) -> None:
        """Run SUITE_OR_SCENARIO (a suite YAML listing scenarios, or one scenario YAML)."""
        from rich.console import Console

        from exerciser.scenario import load_suite_or_scenario
        from exerciser.score.rulepack import load_overrides_file, load_rulepack

        console = Console(stderr=False)
        suite = load_suite_or_scenario(suite_or_scenario)
        overrides = load_overrides_file(rules_file) if rules_file else {}
        pack = load_rulepack()
        scenarios = []
        for sc in suite.scenarios:
            sc = sc.with_overrides(profile=profile, locale=locale, display=display)
            if overrides:
                sc = replace(sc, rules=dict(sc.rules) | overrides)
            pack.with_overrides(sc.rules, origin=str(rules_file or sc.source))  # validate early
            scenarios.append(sc)
        if jobs < 0:
            raise UserError(f"--jobs {jobs}: expected 0 (one per CPU core) or a positive number")
        if not devices:
            from exerciser.runner.parallel import check_virtual

            for sc in scenarios:  # before anything is shown or written
                check_virtual(sc)
        out_dir = out or _default_out()
        _check_out(out_dir, scenarios)
        writable_dir(out_dir)
        note_results_dir(out_dir)  # an unexpected error's trace goes there
        if devices and display:
            raise UserError("--display is for the virtual device; a phone has its own panel")
        if devices and jobs != 1:
            raise UserError(
                "--jobs is for the virtual device; with --devices each device runs one app at a time"
            )
        if devices:
            try:
                from exerciser.rack import run_suite
            except ImportError as exc:
                raise UserError(
                    f"--devices needs the device rack (exerciser.rack), not available: {exc}"
                ) from None
            results = run_suite(scenarios, devices, out_dir, progress=not quiet)
        else:
            jobs = jobs or os.cpu_count() or 1
            results = run_suite_virtual(scenarios, out_dir, console, rules=pack, quiet=quiet, jobs=jobs)
        try:
            from exerciser.evidence.bundle import finalize_suite
        except ImportError:
            console.print("[yellow]note: suite report skipped (exerciser.evidence.bundle not available)[/]")
        else:
            finalize_suite(out_dir, [r.out_dir for r in results])
        console.print(summary_table(results))
        console.print(f"results: {out_dir}")
        sys.exit(exit_code(results))
