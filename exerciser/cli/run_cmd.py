"""`exerciser run SUITE_OR_SCENARIO`: run the probes, score, write one results folder per app.

Exit status: 0 every category of every app compliant, 1 a violation found, 2 a tool or input error
(inconclusive verdicts without any violation also give 2: the run could not establish compliance).
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

import click

from exerciser.errors import UserError

CATS = ("consent", "5", "6", "7", "8")
STYLE = {"violation": "bold red", "compliant": "green", "inconclusive": "yellow"}


def _default_out() -> Path:
    return Path("runs") / time.strftime("%Y%m%d-%H%M%S")


def _virtual_device(sc, serial: str):
    from exerciser.sim import VirtualDevice, load_app_model
    from exerciser.sim.profiles import LOCALES, PROFILES

    if sc.app.model_path is None:
        raise UserError(
            f"{sc.source}: app.{sc.app.kind} needs a real device (--devices); the virtual device "
            "runs sample models (app.sample / app.model)"
        )
    if sc.profile not in PROFILES:
        raise UserError(
            f"{sc.source}: profile: unknown profile '{sc.profile}' (known: {', '.join(PROFILES)})"
        )
    if sc.locale not in LOCALES:
        raise UserError(
            f"{sc.source}: locale: unsupported locale '{sc.locale}' (known: {', '.join(LOCALES)})"
        )
    model = load_app_model(sc.app.model_path)
    return VirtualDevice(apps=[model], profile=sc.profile, locale=sc.locale, serial=serial)


def _cell(cat: dict | None) -> str:
    if not cat:
        return "–"
    fig = cat.get("figure")
    v = cat.get("verdict", "inconclusive")
    mark = {"violation": "V", "compliant": "C", "inconclusive": "?"}[v]
    return f"[{STYLE[v]}]{mark} ({'null' if fig is None else fig})[/]"


def summary_table(results):
    from rich.table import Table

    t = Table(title="consent-exerciser results", show_lines=False)
    t.add_column("app")
    for c in CATS:
        t.add_column(c, justify="center")
    t.add_column("policy ≤4", justify="center")
    t.add_column("status")
    t.add_column("steps", justify="right")
    t.add_column("s", justify="right")
    for r in results:
        cats = {c: v.to_json() for c, v in r.categories.items()}
        pol = r.extra.get("privacy_policy_reachable") if r.extra else None
        status = r.status
        t.add_row(
            r.app,
            *[_cell(cats.get(c)) for c in CATS],
            _cell(pol) if pol else "–",
            f"[{STYLE.get(status, 'bold magenta')}]{status}[/]" + (f" ({r.error[:60]})" if r.error else ""),
            str(r.steps),
            f"{r.wall_seconds:.1f}",
        )
    return t


def exit_code(results) -> int:
    if any(r.violations for r in results):
        return 1
    if any(r.status != "compliant" for r in results):
        return 2
    return 0


def run_suite_virtual(scenarios, out_dir: Path, console, rules=None, quiet: bool = False):
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from exerciser.runner.app_run import AppResult, run_app

    results = []
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
        task = prog.add_task("suite", total=len(scenarios), note="")
        for i, sc in enumerate(scenarios, start=1):
            prog.update(task, description=f"{sc.id}", note="starting")
            dev = _virtual_device(sc, serial=f"virtual-{i}")

            def note(msg: str, _t=task) -> None:
                prog.update(_t, note=msg[:70])

            try:
                res = run_app(sc, dev, out_dir, progress=note, rules=rules)
            except UserError:
                raise
            except Exception as exc:  # one app's tool failure must not stop the suite
                res = AppResult(sc.id, "", out_dir / sc.id, error=f"{type(exc).__name__}: {exc}")
            results.append(res)
            prog.advance(task)
            prog.update(task, note=res.status)
    return results


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
    @click.option("--quiet", is_flag=True, help="no progress display")
    def run_cmd(
        suite_or_scenario: Path,
        out: Path | None,
        profile: str | None,
        locale: str | None,
        devices: str | None,
        rules_file: Path | None,
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
            sc = sc.with_overrides(profile=profile, locale=locale)
            if overrides:
                sc = replace(sc, rules=dict(sc.rules) | overrides)
            pack.with_overrides(sc.rules, origin=str(rules_file or sc.source))  # validate early
            scenarios.append(sc)
        out_dir = out or _default_out()
        out_dir.mkdir(parents=True, exist_ok=True)
        if devices:
            try:
                from exerciser.rack import run_suite
            except ImportError as exc:
                raise UserError(
                    f"--devices needs the device rack (exerciser.rack), not available: {exc}"
                ) from None
            results = run_suite(scenarios, devices, out_dir, progress=not quiet)
        else:
            results = run_suite_virtual(scenarios, out_dir, console, rules=pack, quiet=quiet)
        try:
            from exerciser.evidence.bundle import finalize_suite
        except ImportError:
            console.print("[yellow]note: suite report skipped (exerciser.evidence.bundle not available)[/]")
        else:
            finalize_suite(out_dir, [r.out_dir for r in results])
        console.print(summary_table(results))
        console.print(f"results: {out_dir}")
        sys.exit(exit_code(results))
