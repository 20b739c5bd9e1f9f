"""pytest plugin (entry point `exerciser`): fixtures for app teams.

    def test_no_nagging(exerciser_run):
        assert exerciser_run("scenarios/my_app.yaml").category(6).compliant

Fixtures:
- `exerciser_run(target, *, profile=None, locale=None, probes=None, features=None, fresh=False)`: runs
  a scenario file, sample id, app model or APK (an APK needs `--exerciser-device`, unless a sample model
  has its package) and returns a result with `.category(6)` (`.compliant`, `.violation`, `.verdict`,
  `.figure`, `.reason`, `.evidence`). Results are cached for the session, so several tests asserting on
  one app cost one run. Results land under pytest's temporary directory, or `--exerciser-out DIR`.
- `exerciser_device`: the session's device. With `--exerciser-device SERIAL`, the real device every
  `exerciser_run` uses (so a test can prepare it, e.g. sign in). Without it, a virtual device with no apps
  (`--exerciser-profile`, `--exerciser-locale`) for tests of their own; each `exerciser_run` then gets a
  fresh virtual device with the scenario's app installed, so runs never share app state.

A failing test that used `exerciser_run` gets an "exerciser" report section with each category it asked
about: verdict, figure, reason and the evidence files. Comparisons such as
`assert r.category(6).verdict == "compliant"` explain themselves the same way.

This module is imported by every pytest run of every project that installs consent-exerciser, so it
imports nothing heavy at module level.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from exerciser.apk.check import CategoryResult, CheckResult


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("exerciser", "consent-exerciser (consent and permission checks of Android apps)")
    group.addoption(
        "--exerciser-device",
        metavar="SERIAL",
        default=None,
        help="run on this real device (adb serial) instead of the virtual device",
    )
    group.addoption(
        "--exerciser-profile",
        metavar="NAME",
        default=None,
        help="virtual device profile (API level / ROM), e.g. api33; default: the scenario's",
    )
    group.addoption(
        "--exerciser-locale",
        metavar="LOCALE",
        default=None,
        help="device locale, en-US or zh-CN; default: the scenario's",
    )
    group.addoption(
        "--exerciser-out",
        metavar="DIR",
        default=None,
        help="keep results (evidence) under DIR instead of pytest's temporary directory",
    )


class _Session:
    """Per pytest session: options, the output root, the real device (made once), the result cache."""

    def __init__(self, config: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.config = config
        self.serial: str | None = config.getoption("exerciser_device")
        self.profile: str | None = config.getoption("exerciser_profile")
        self.locale: str | None = config.getoption("exerciser_locale")
        out = config.getoption("exerciser_out")
        self.out_root = Path(out).resolve() if out else tmp_path_factory.mktemp("exerciser", numbered=True)
        self.cache: dict[tuple, CheckResult] = {}
        self._device: Any = None
        self._names: set[str] = set()

    def device(self) -> Any:
        if self._device is None:
            from exerciser.apk import check

            if self.serial:
                self._device = check.real_device(self.serial)
            else:
                self._device = check.virtual_device(profile=self.profile, locale=self.locale)
        return self._device

    def out_dir(self, test_name: str) -> Path:
        """A fresh folder per run, named after the test that asked for it; the app folder goes inside."""
        base = re.sub(r"[^A-Za-z0-9._-]+", "_", test_name).strip("_")[:80] or "run"
        name, i = base, 1
        while name in self._names:
            i += 1
            name = f"{base}-{i}"
        self._names.add(name)
        return self.out_root / name


_RESULTS_KEY = pytest.StashKey[list]()


@pytest.fixture(scope="session")
def _exerciser_session(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> _Session:
    return _Session(pytestconfig, tmp_path_factory)


@pytest.fixture
def exerciser_device(_exerciser_session: _Session) -> Any:
    """The real device `--exerciser-device` names (the one `exerciser_run` uses), else a virtual device."""
    return _exerciser_session.device()


@pytest.fixture
def exerciser_run(request: pytest.FixtureRequest, _exerciser_session: _Session):
    """Callable: `exerciser_run("scenarios/x.yaml")` or a sample id -> result with `.category(6)`."""
    session = _exerciser_session
    seen: list = request.node.stash.setdefault(_RESULTS_KEY, [])
    search = [Path(str(request.config.rootpath)), Path(str(request.path)).parent]

    def run(
        target: str | Path,
        *,
        profile: str | None = None,
        locale: str | None = None,
        probes: list[str] | tuple[str, ...] | None = None,
        features: dict[str, list[str]] | None = None,
        fresh: bool = False,
    ) -> CheckResult:
        from exerciser.apk import check
        from exerciser.errors import UserError

        try:
            return _run(check, target, profile, locale, probes, features, fresh)
        except UserError as exc:  # bad scenario, unknown sample, broken APK: one line, not a traceback
            message = f"exerciser_run({str(target)!r}): {exc.format_message()}"
        pytest.fail(message, pytrace=False)  # outside `except`: no "during handling..." chain

    def _run(check, target, profile, locale, probes, features, fresh) -> CheckResult:
        resolved = check.resolve_target(str(target), search=search)
        profile = profile or session.profile
        locale = locale or session.locale
        key = (resolved, profile, locale, tuple(probes or ()), repr(sorted((features or {}).items())))
        result = None if fresh else session.cache.get(key)
        if result is None:
            # virtual: a fresh device per run, with the scenario's app, profile and locale
            device = session.device() if session.serial else None
            feats = [{"name": k, "permissions": list(v)} for k, v in (features or {}).items()]
            result = check.run_check(
                resolved,
                out_dir=session.out_dir(request.node.name),
                device=device,
                profile=profile,
                locale=locale,
                probes=list(probes) if probes else None,
                features=feats or None,
            )
            session.cache[key] = result
        if result not in seen:
            seen.append(result)
        return result

    return run


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.when == "call" and report.failed:
        watched = item.stash.get(_RESULTS_KEY, None)
        if watched:
            text = "\n\n".join(_explain_result(r) for r in watched)
            report.sections.append(("exerciser: verdicts and evidence", text))
    return report


def _explain_result(result: CheckResult) -> str:
    lines = [f"{result.app}: overall {result.verdict}   results: {result.run_dir}"]
    for cat in result.categories.values():
        lines.append(cat.explain())
    for w in result.warnings:
        lines.append(f"manifest warning (category 7): {w.message}")
    return "\n".join(lines)


def pytest_assertrepr_compare(
    config: pytest.Config, op: str, left: object, right: object
) -> list[str] | None:
    """`assert r.category(6).verdict == "compliant"` -> the verdict, figure, reason and evidence paths."""
    for side in (left, right):
        owner = getattr(side, "owner", None) if type(side).__name__ == "Verdict" else None
        if owner is not None:
            cat: CategoryResult = owner
            other = right if side is left else left
            head = f"category {cat.category} of {cat.app} is {str(cat.verdict)!r}, not {op} {other!r}"
            return [head, *cat.explain().splitlines()]
    return None
