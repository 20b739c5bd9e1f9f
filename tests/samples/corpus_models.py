"""What the corpus tests (test_corpus2.py, test_corpus3.py) share: a corpus folder's models, expected
files and virtual devices, the check that its suite and README list every app, and refusing whatever asks
again (the documented re-request schedule)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from test_samples import CATEGORIES, _model_deletion_depth, deny, find, is_prompt, tap

from exerciser import SAMPLES_DIR, SCENARIOS_DIR
from exerciser.device.contract import Device, Key
from exerciser.sim.appmodel import AppModel, load_app_model
from exerciser.sim.runtime import VirtualDevice

SETTINGS = "com.android.settings"


class Corpus:
    def __init__(self, name: str):
        self.name = name
        self.dir = Path(SAMPLES_DIR) / name
        self.apps = sorted(p.parent.name for p in self.dir.glob("*/app.yaml"))
        self.model = cache(self._model)
        self.expected = cache(self._expected)

    def _model(self, app_id: str) -> AppModel:
        return load_app_model(self.dir / app_id / "app.yaml")

    def _expected(self, app_id: str) -> dict:
        return yaml.safe_load((self.dir / app_id / "expected.yaml").read_text(encoding="utf-8"))

    def device(self, app_id: str, profile: str = "api33") -> tuple[VirtualDevice, AppModel]:
        m = self.model(app_id)
        return VirtualDevice([m], profile=profile, locale="zh-CN" if m.language == "zh" else "en-US"), m

    def check_both_sides(self) -> None:
        """Every category has a Chinese and an English app on each side (violation / compliant)."""
        seen = {
            (c, self.expected(a)[c]["verdict"], self.model(a).language) for a in self.apps for c in CATEGORIES
        }
        for cat in CATEGORIES:
            for verdict in ("violation", "compliant"):
                for lang in ("en", "zh"):
                    assert (cat, verdict, lang) in seen, (cat, verdict, lang)

    def check_deletion_figure(self, app_id: str, is_entry) -> None:
        """The "8" figure is the shortest tap count to an entry in the model's own navigation graph."""
        depth = _model_deletion_depth(self.model(app_id), "home", is_entry)
        assert depth == self.expected(app_id)["8"]["figure"]

    def check_suite_and_readme(self) -> None:
        """The suite scenarios/<name>.yaml lists every app, each scenario with its expected features (and
        login steps), and the corpus README names every app."""
        suite = yaml.safe_load((Path(SCENARIOS_DIR) / f"{self.name}.yaml").read_text(encoding="utf-8"))
        listed = set()
        for rel in suite["scenarios"]:
            sc = yaml.safe_load((Path(SCENARIOS_DIR) / rel).read_text(encoding="utf-8"))
            model_path = (Path(SCENARIOS_DIR) / rel).parent / sc["app"]["model"]
            assert model_path.resolve().parent.name == sc["id"]
            assert sc["features"] == self.expected(sc["id"])["features"]
            assert sc.get("login", []) == self.expected(sc["id"]).get("login", [])
            listed.add(sc["id"])
        assert listed == set(self.apps)
        readme = (self.dir / "README.md").read_text(encoding="utf-8")
        assert all(f"`{a}`" in readme for a in self.apps)


def refuse_what_asks(d: Device, nags: tuple[tuple[str, str], ...]) -> int:
    """Refuse whatever asks again right now — a prompt, the app's dialog or page (`nags`: label in front,
    label that dismisses it without granting), the settings page the app opened — and return how many
    there were."""
    n = 0
    for _ in range(4):
        obs = d.observe()
        if is_prompt(obs):
            deny(d)
        elif obs.package == SETTINGS:
            d.key(Key.BACK)
        elif nag := next(((s, x) for s, x in nags if find(obs, s) and find(obs, x)), None):
            tap(d, nag[1])
        else:
            return n
        n += 1
    return n
