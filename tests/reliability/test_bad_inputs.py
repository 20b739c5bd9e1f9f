"""Hostile and broken input, as a new user or an attacker gives it: every case ends in one line and exit
status 2, nothing written outside (or at all), no traceback."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from reliability_helpers import ROOT, invoke, one_error_line

from exerciser.cluster.jobs import Job, check_suite_id
from exerciser.cluster.store import Store
from exerciser.errors import UserError
from exerciser.paths import safe_id, under
from exerciser.yamlio import MAX_BYTES, safe_load

OK_APP = "app: {sample: compliant_en}\n"
BOMB = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
)

# scenario files: (case, text)
SCENARIOS = [
    ("empty", ""),
    ("null", "~\n"),
    ("list", "- app: {sample: compliant_en}\n"),
    ("scalar", "hello\n"),
    ("tab indent", "app:\n\tsample: compliant_en\n"),
    ("unclosed flow", "app: {sample: compliant_en\n"),
    ("bad indent", "app:\n  sample: compliant_en\n bad: 1\n"),
    ("unknown field", OK_APP + "colour: red\n"),
    ("no app", "locale: en-US\n"),
    ("two app kinds", "app: {sample: compliant_en, package: com.x.y}\n"),
    ("unknown sample", "app: {sample: no_such_app}\n"),
    ("sample dotdot", "app: {sample: ..}\n"),
    ("sample dot", "app: {sample: .}\n"),
    ("sample path", "app: {sample: ../sample_apks/compliant_en}\n"),
    ("id dotdot", OK_APP + "id: ..\n"),
    ("id dot", OK_APP + "id: .\n"),
    ("id parent path", OK_APP + "id: ../victim\n"),
    ("id absolute", OK_APP + "id: /tmp/victim\n"),
    ("id option-like", OK_APP + "id: -rf\n"),
    ("id hidden", OK_APP + "id: .hidden\n"),
    ("id too long", OK_APP + f"id: {'a' * 200}\n"),
    ("id space", OK_APP + "id: my app\n"),
    ("id number", OK_APP + "id: 7\n"),
    ("id backslash", OK_APP + "id: 'a\\b'\n"),
    ("bad locale", OK_APP + "locale: english\n"),
    ("unknown locale", OK_APP + "locale: fr-FR\n"),
    ("unknown profile", OK_APP + "profile: api99\n"),
    ("negative budget", OK_APP + "budgets: {actions: -5}\n"),
    ("tiny budget", OK_APP + "budgets: {wall_seconds: 1}\n"),
    ("budget string", OK_APP + "budgets: {actions: many}\n"),
    ("unknown probe", OK_APP + "probes: [consent, '9']\n"),
    ("empty probes", OK_APP + "probes: []\n"),
    ("bad permission", OK_APP + "features: [{name: x, permissions: [android.permission.NOPE]}]\n"),
    ("feature no name", OK_APP + "features: [{permissions: [camera]}]\n"),
    ("login bad key", OK_APP + "login: [{jump: home}]\n"),
    ("login two verbs", OK_APP + "login: [{tap: a, key: back}]\n"),
    ("rules not number", OK_APP + "rules: {reprompt_window_hours: soon}\n"),
    ("rules unknown", OK_APP + "rules: {no_such_threshold: 3}\n"),
    ("missing model", "app: {model: nowhere/app.yaml}\n"),
    ("package on virtual", "app: {package: com.example.app}\n"),
    ("apk on virtual", "app: {apk: x.apk}\n"),
    ("alias bomb", BOMB),
    ("deep flow", "app: " + "[" * 5000 + "]" * 5000 + "\n"),
    ("deep block", "app:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 200))),
    ("deep compact", "- " * 20000 + "x\n"),
    ("oversize", OK_APP + "notes: " + "x" * (MAX_BYTES + 10) + "\n"),
    ("nul byte", OK_APP + "notes: a\x00b\n"),
    ("control char", OK_APP + "notes: a\x07b\n"),
    ("python tag", OK_APP + "notes: !!python/object/apply:os.system ['true']\n"),
    ("binary", None),
    ("suite empty list", "scenarios: []\n"),
    ("suite missing file", "scenarios: [nope.yaml]\n"),
    ("suite escapes", "scenarios: [../../../../../../etc/passwd]\n"),
    ("suite of suite", "scenarios: [self.yaml]\n"),
    ("suite bad defaults", "scenarios: [ok.yaml]\ndefaults: {budgets: {actions: 0}}\n"),
    ("suite duplicate ids", "scenarios: [ok.yaml, ok2.yaml]\n"),
]


@pytest.mark.parametrize("case,text", SCENARIOS, ids=[c for c, _ in SCENARIOS])
def test_bad_scenario_or_suite(case: str, text: str | None, tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text(OK_APP)
    (tmp_path / "ok2.yaml").write_text(OK_APP)
    (tmp_path / "self.yaml").write_text("scenarios: [ok.yaml]\n")
    f = tmp_path / "case.yaml"
    if text is None:
        f.write_bytes(b"\xff\xfe\x00garbage\x80\x81")
    else:
        f.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    t0 = time.monotonic()
    res = invoke("run", f, "--out", out, "--quiet")
    assert res.exit_code == 2, res.output
    line = one_error_line(res.output)
    # names the file at fault: this one, or the one a suite points at
    assert line.startswith("Error: ") and (".yaml" in line or "passwd" in line), line
    assert not out.exists() or not any(out.iterdir())  # nothing recorded
    assert not (tmp_path.parent / "victim").exists()
    assert time.monotonic() - t0 < 60  # a hang guard, not a speed goal


MODEL_HEAD = "package: com.bad.app\nlabel: Bad\nlaunch_screen: a\nscreens:\n"
MODELS = [
    ("enters itself", MODEL_HEAD + "  a: {on_enter: [{goto: a}]}\n"),
    ("replaces itself", MODEL_HEAD + "  a: {on_enter: [{replace: a}]}\n"),
    ("two-screen loop", MODEL_HEAD + "  a: {on_enter: [{goto: b}]}\n  b: {on_enter: [{goto: a}]}\n"),
    ("back loop", MODEL_HEAD + "  a: {on_enter: [{goto: b}]}\n  b: {on_enter: [{back: true}]}\n"),
    ("unknown screen", MODEL_HEAD + "  a: {on_enter: [{goto: nowhere}]}\n"),
    ("unknown verb", MODEL_HEAD + "  a: {on_enter: [{fly: a}]}\n"),
    ("model alias bomb", BOMB),
    ("model deep", MODEL_HEAD + "  a: " + "{x: " * 100 + "1" + "}" * 100 + "\n"),
    ("model not mapping", "[1, 2]\n"),
    ("model syntax", "package: [\n"),
    ("duplicate key", MODEL_HEAD + "  a: {}\n  a: {}\n"),
]


@pytest.mark.parametrize("case,text", MODELS, ids=[c for c, _ in MODELS])
def test_bad_app_model_is_refused_at_load(case: str, text: str, tmp_path: Path) -> None:
    model = tmp_path / "bad" / "app.yaml"
    model.parent.mkdir()
    model.write_text(text, encoding="utf-8")
    sc = tmp_path / "s.yaml"
    sc.write_text("app: {model: bad/app.yaml}\nprobes: [consent]\n")
    res = invoke("run", sc, "--out", tmp_path / "out", "--quiet")
    assert res.exit_code == 2, res.output
    line = one_error_line(res.output)
    assert "app.yaml" in line, line
    if "loop" in case or "itself" in case:
        assert "entering it never ends" in line


def _file(tmp: Path, name: str, data: bytes = b"x") -> Path:
    p = tmp / name
    p.write_bytes(data)
    return p


def _sealed_copy(tmp: Path) -> Path:
    """A minimal run folder (a trace with one step, its scenario): enough for replay to get to --out."""
    d = tmp / "run" / "compliant_en"
    d.mkdir(parents=True)
    from exerciser.evidence.trace import TraceWriter

    (d / "scenario.json").write_text(
        json.dumps({"id": "compliant_en", "app": {"kind": "sample", "value": "compliant_en"}})
    )
    w = TraceWriter(d / "trace.jsonl")
    w.append({"n": 1, "action": {"kind": "start", "package": "com.pocketledger.app"}})
    w.close()
    return d


def _fifo(tmp: Path) -> Path:
    p = tmp / "fifo.yaml"
    os.mkfifo(p)  # nobody writes: reading it would wait for ever
    return p


# command lines: (case, args builder) -> exit 2, one line
COMMANDS = [
    ("serve port too high", lambda t: ["sim", "serve", "--port", "70000"]),
    ("serve port zero", lambda t: ["sim", "serve", "--port", "0"]),
    ("serve port negative", lambda t: ["sim", "serve", "--port", "-1"]),
    ("serve port text", lambda t: ["sim", "serve", "--port", "abc"]),
    ("serve ports overflow", lambda t: ["sim", "serve", "--port", "65535", "--count", "2"]),
    ("serve count zero", lambda t: ["sim", "serve", "--count", "0"]),
    ("serve bad app", lambda t: ["sim", "serve", "--app", "no_such_app", "--port", "7999"]),
    ("run jobs negative", lambda t: ["run", ROOT / "scenarios/compliant_en.yaml", "--jobs", "-1"]),
    ("run missing file", lambda t: ["run", t / "nope.yaml"]),
    ("run endless device", lambda t: ["run", "/dev/zero"]),
    ("run fifo", lambda t: ["run", _fifo(t)]),
    ("run rules endless", lambda t: ["run", ROOT / "scenarios/compliant_en.yaml", "--rules", "/dev/zero"]),
    ("walk endless model", lambda t: ["sim", "walk", "/dev/zero"]),
    ("run folder as file", lambda t: ["run", t]),
    ("run out is a file", lambda t: ["run", ROOT / "scenarios/compliant_en.yaml", "--out", _file(t, "f")]),
    (
        "run out under a file",
        lambda t: ["run", ROOT / "scenarios/compliant_en.yaml", "--out", _file(t, "f") / "sub"],
    ),
    ("run out in /proc", lambda t: ["run", ROOT / "scenarios/compliant_en.yaml", "--out", "/proc/x/y"]),
    ("run rules missing", lambda t: ["run", ROOT / "scenarios/compliant_en.yaml", "--rules", t / "n"]),
    (
        "run rules bomb",
        lambda t: ["run", ROOT / "scenarios/compliant_en.yaml", "--rules", _file(t, "r", BOMB.encode())],
    ),
    (
        "run rules list",
        lambda t: ["run", ROOT / "scenarios/compliant_en.yaml", "--rules", _file(t, "r", b"[1]")],
    ),
    ("run bad profile", lambda t: ["run", ROOT / "scenarios/compliant_en.yaml", "--profile", "api1"]),
    ("run bad locale", lambda t: ["run", ROOT / "scenarios/compliant_en.yaml", "--locale", "xx-XX"]),
    ("verify missing", lambda t: ["verify", t / "nope"]),
    ("verify empty folder", lambda t: ["verify", t]),
    ("verify a file", lambda t: ["verify", _file(t, "f")]),
    ("verify key missing", lambda t: ["verify", t, "--key", t / "nokey"]),
    ("sign no key", lambda t: ["sign", t]),
    ("sign two keys", lambda t: ["sign", t, "--key", "a", "--new-key", "b"]),
    ("sign key exists", lambda t: ["sign", t, "--new-key", _file(t, "k")]),
    ("report missing", lambda t: ["report", t / "nope"]),
    ("replay missing", lambda t: ["replay", t / "nope"]),
    ("replay out is the root", lambda t: ["replay", _sealed_copy(t), "--out", "/"]),
    ("replay out badly named", lambda t: ["replay", _sealed_copy(t), "--out", t / "my replay"]),
    ("compare missing", lambda t: ["compare", t / "a", t / "b"]),
    ("classify garbage xml", lambda t: ["classify", "--xml", _file(t, "d.xml", b"<<<not xml")]),
    ("classify without xml", lambda t: ["classify", "--png", _file(t, "s.png", b"\x89PNGjunk")]),
    ("classify garbage png", lambda t: ["classify", "--xml", _file(t, "d.xml", b"<hierarchy/>"), "--png", t]),
    ("classify missing", lambda t: ["classify", "--xml", t / "nope.xml"]),
]
XML_ATTACKS = [
    (
        "classify entity bomb",
        lambda t: [
            "classify",
            "--xml",
            _file(
                t,
                "b.xml",
                b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;'
                b'&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><hierarchy>&c;'
                b"</hierarchy>",
            ),
        ],
    ),
    (
        "classify external entity",
        lambda t: [
            "classify",
            "--xml",
            _file(
                t,
                "e.xml",
                b'<?xml version="1.0"?><!DOCTYPE h [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                b"<hierarchy>&x;</hierarchy>",
            ),
        ],
    ),
]
COMMANDS += [
    ("screenshot unknown model", lambda t: ["sim", "screenshot", "no_such_app", "-o", t / "o.png"]),
    (
        "screenshot looping model",
        lambda t: ["sim", "screenshot", _file(t, "app.yaml", MODELS[0][1].encode()), "-o", t / "o.png"],
    ),
    ("walk bomb model", lambda t: ["sim", "walk", _file(t, "app.yaml", BOMB.encode())]),
    ("status dotdot id", lambda t: ["status", "..", "--broker", "redis://127.0.0.1:1/0"]),
    ("status bad broker", lambda t: ["status", "s-1", "--broker", "http://x"]),
    ("collect bad broker", lambda t: ["collect", "s-1", "--broker", "redis://127.0.0.1:1/0", "--out", t]),
    ("submit bad broker", lambda t: ["submit", ROOT / "scenarios/samples.yaml", "--broker", "mysql://x"]),
    ("unknown command", lambda t: ["frobnicate"]),
    ("unknown option", lambda t: ["run", "--frobnicate"]),
]


@pytest.mark.parametrize("case,args", COMMANDS, ids=[c for c, _ in COMMANDS])
def test_bad_command_line(case: str, args, tmp_path: Path) -> None:
    res = invoke(*args(tmp_path))
    assert res.exit_code == 2, (case, res.output)
    if "Usage:" in res.output:  # click's usage error: the usage, a hint, then the one error line
        assert res.output.strip().splitlines()[-1].startswith("Error: "), res.output
    else:
        one_error_line(res.output)


@pytest.mark.parametrize("case,args", XML_ATTACKS, ids=[c for c, _ in XML_ATTACKS])
def test_xml_entities_are_never_expanded(case: str, args, tmp_path: Path) -> None:
    res = invoke(*args(tmp_path))
    assert res.exit_code in (0, 2), res.output  # read as an empty screen, or refused
    assert "root:" not in res.output and "aaaaaaaaaa" not in res.output


def _job(**kw) -> dict:
    d = {
        "suite": "s-1",
        "app": "compliant_en",
        "queue": "q",
        "need": {},
        "scenario": {"id": "compliant_en", "app": {"kind": "sample", "value": "compliant_en"}},
    }
    if kw.get("scenario_id") is not None:
        d["scenario"] = dict(d["scenario"], id=kw.pop("scenario_id"))
    return d | kw


JOBS = [
    ("app parent", _job(app="../../../victim", scenario_id="../../../victim")),
    ("app dotdot", _job(app="..", scenario_id="..")),
    ("app dot", _job(app=".", scenario_id=".")),
    ("app absolute", _job(app="/etc", scenario_id="/etc")),
    ("app slash", _job(app="a/b", scenario_id="a/b")),
    ("app empty", _job(app="", scenario_id="")),
    ("app not text", _job(app=7)),
    ("suite parent", _job(suite="../x")),
    ("suite dotdot", _job(suite="..")),
    ("suite absolute", _job(suite="/tmp")),
    ("scenario other id", _job(scenario_id="other")),
    ("scenario not a mapping", _job(scenario=[1])),
    ("unknown field", _job(evil=True)),
    ("missing field", {"suite": "s-1"}),
]


@pytest.mark.parametrize("case,payload", JOBS, ids=[c for c, _ in JOBS])
def test_forged_job_message_is_refused(case: str, payload: dict) -> None:
    with pytest.raises(UserError):
        Job.from_json(json.loads(json.dumps(payload)))


def test_a_forged_job_that_reaches_a_worker_deletes_and_writes_nothing_outside(redis_broker, tmp_path: Path):
    """Past the message check (a job built in process): the worker still refuses to build a path
    outside its scratch folder or its store, before it deletes or writes anything."""
    from exerciser.cluster.execute import WorkerContext, execute

    url, client = redis_broker
    scratch, store = tmp_path / "scratch", tmp_path / "store"
    victims = [scratch / "victim", store / "victim", tmp_path / "victim"]
    for v in victims:
        v.mkdir(parents=True)
        (v / "keep.txt").write_text("mine")

    class Slot:
        serial = "virtual-1"

    ctx = WorkerContext(client, "w1@h", Slot(), scratch, str(store))
    for suite, app in [("s-1", "../victim"), ("s-1", "../../victim"), ("..", "victim"), ("s-1", "/tmp")]:
        job = Job(suite, app, "q", {}, {"id": app, "app": {"kind": "sample", "value": "compliant_en"}})
        with pytest.raises(UserError):
            execute(job, ctx)
    for v in victims:
        assert [p.name for p in v.iterdir()] == ["keep.txt"] and (v / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize("name", ["../x", "..", "a/b"])
def test_a_worker_name_names_no_other_folder(name: str, redis_broker, tmp_path: Path) -> None:
    url, _ = redis_broker
    res = invoke("worker", "--broker", url, "--virtual", "1", "--name", name, "--results", tmp_path / "r")
    assert res.exit_code == 2 and "--name" in one_error_line(res.output)


def test_a_good_job_message_passes() -> None:
    assert Job.from_json(_job()).app == "compliant_en"


ESCAPES = ["..", ".", "../x", "a/../../x", "/etc/passwd", "", "a/b", ".hidden", "-rf", "a\x00b", "x" * 200]


@pytest.mark.parametrize("name", ESCAPES)
def test_ids_that_could_name_another_folder_are_refused(name: str, tmp_path: Path) -> None:
    with pytest.raises(UserError):
        safe_id(name)
    with pytest.raises(UserError):
        check_suite_id(name)


ROOT_ESCAPES = [("..",), ("..", "x"), ("a", "..", "..", "x"), ("/etc",), ("a/../../b",), ("s", "../../..")]


@pytest.mark.parametrize("parts", ROOT_ESCAPES + [(".",), ("a", "..")])
def test_built_paths_stay_under_their_root(parts: tuple[str, ...], tmp_path: Path) -> None:
    with pytest.raises(UserError):
        under(tmp_path / "root", *parts)


@pytest.mark.parametrize("parts", ROOT_ESCAPES)
def test_store_paths_stay_in_the_store(parts: tuple[str, ...], tmp_path: Path) -> None:
    store = Store(str(tmp_path / "store"))
    with pytest.raises(UserError):
        store.path(*parts)
    assert store.path("s-1", "app", "x").startswith(str(tmp_path / "store"))


def test_a_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "link").symlink_to(tmp_path)
    with pytest.raises(UserError):
        under(tmp_path / "root", "link", "victim")
    assert under(tmp_path / "root", "app", "x") == (tmp_path / "root" / "app" / "x").resolve()


def test_yaml_bomb_is_refused_fast() -> None:
    t0 = time.monotonic()
    with pytest.raises(UserError, match="aliases expand"):
        safe_load(BOMB, "bomb.yaml")
    assert time.monotonic() - t0 < 5  # hang guard: the unbounded loader ran 143 s to a MemoryError


@pytest.mark.parametrize(
    ("apk", "want"), [("My App.apk", "My_App"), (".hidden.apk", "hidden"), ("微信.apk", "__")]
)
def test_a_default_id_from_a_file_name_is_made_a_safe_name(apk: str, want: str, tmp_path: Path) -> None:
    from exerciser.scenario import load_suite_or_scenario

    f = tmp_path / "s.yaml"
    f.write_text(f"app: {{apk: '{apk}'}}\n", encoding="utf-8")
    assert load_suite_or_scenario(f).scenarios[0].id == want
