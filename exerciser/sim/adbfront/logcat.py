"""`logcat` on the served device: the device's events as log records, in the format and buffers asked.

Options: -d, -c/--clear, -b BUF (events, main, system, crash, all, default; repeatable, comma lists),
-v FORMAT (threadtime, epoch, time, brief, year, raw, tag; repeatable), -t/-T COUNT|TIME (TIME as
`MM-DD hh:mm:ss.mmm`, `YYYY-MM-DD hh:mm:ss.mmm` or `SECONDS.mmm`), -m N, -e REGEX, -s, TAG:PRIO filters.
Without -d it keeps streaming new records until the shell stream closes.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from exerciser.device.contract import DeviceEvent, EventKind
from exerciser.sim.adbfront import chatter
from exerciser.sim.adbfront.phone import SYSTEM_SERVER_PID, Phone
from exerciser.sim.adbfront.shell import Ctx

_LINE = re.compile(r"^(\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) +(\d+) +(\d+) ([VDIWEF]) (.+?): (.*)$")
_PRIO = "VDIWEFS"


@dataclass
class Record:
    ms: int
    buffer: str
    pid: int
    tid: int
    level: str
    tag: str
    msg: str


def _tz_offset_min(phone: Phone) -> int:
    return int(getattr(phone.device, "tz_offset_min", 0) or 0)


def records(
    phone: Phone, since_ms: int = 0, chatter_from: int = 0, keep: chatter.Keep | None = None
) -> list[Record]:
    """The device's records from `since_ms` on; the system's chatter from `chatter_from` on, of the
    sources `keep` lets through (drawn after the phone's lock is released: it holds no device state)."""
    with phone.lock:
        now = phone.now_ms()
        events = phone.device.events(since_ms)
        out: list[Record] = []
        try:
            from exerciser.sim import logcat as sim_logcat

            use_sim = hasattr(phone.device, "local_time")
        except ImportError:  # pragma: no cover
            use_sim = False
        for e in events:
            if use_sim:
                for buf, line in sim_logcat.event_lines(phone.device, e):
                    m = _LINE.match(line)
                    if m:
                        pid = int(m.group(2))
                        out.append(
                            Record(
                                e.time_ms,
                                buf,
                                # system_server is the process `ps` and `pidof` show on this phone
                                SYSTEM_SERVER_PID if pid == sim_logcat.SYSTEM_SERVER else pid,
                                int(m.group(3)),
                                m.group(4),
                                m.group(5),
                                m.group(6),
                            )
                        )
            else:
                out += _generic(e)
        # lines processes logged themselves (`log`, am's START lines) and the system's own chatter,
        # merged in time order
        logged = [Record(ms, buf, pid, pid, lvl, tag, msg) for ms, buf, pid, lvl, tag, msg in phone.logs]
        logged = [r for r in logged if r.ms >= since_ms]
    if use_sim:
        logged += [Record(*ln) for ln in chatter.lines(phone, max(since_ms, chatter_from), now, keep)]
    return sorted(out + logged, key=lambda r: r.ms) if logged else out


def _generic(e: DeviceEvent) -> list[Record]:
    """Records for a device that is not the simulator (tests): the same tags, from the event's detail."""
    d = e.detail
    pid = d.get("pid", "0")
    comp = d.get("component", "")
    short = f"{e.package}/{comp[len(e.package) :]}" if comp.startswith(e.package + ".") else comp

    def ev(tag: str, fields: list[object]) -> Record:
        return Record(e.time_ms, "events", 1170, 1228, "I", tag, "[" + ",".join(map(str, fields)) + "]")

    k = e.kind
    if k == EventKind.PROC_START:
        return [ev("am_proc_start", [0, pid, d.get("uid", 10123), e.package, "activity", "{" + short + "}"])]
    if k == EventKind.PROC_DIED:
        return [ev("am_proc_died", [0, pid, e.package, 900, 19])]
    if k == EventKind.KILL:
        return [ev("am_kill", [0, pid, e.package, 900, d.get("reason", "")])]
    if k == EventKind.CRASH:
        return [
            ev(
                "am_crash",
                [
                    pid,
                    0,
                    e.package,
                    0,
                    d.get("exception", "java.lang.RuntimeException"),
                    d.get("message", ""),
                    d.get("file", "Main.java"),
                    d.get("line", 1),
                    0,
                ],
            )
        ]
    if k == EventKind.FINISH_ACTIVITY:
        return [
            ev("wm_finish_activity", [0, d.get("token", 1), d.get("task", 1), short, d.get("reason", "")])
        ]
    if k == EventKind.RESUME_ACTIVITY:
        return [
            ev("wm_resume_activity", [0, d.get("token", 1), d.get("task", 1), short, d.get("reason", "")])
        ]
    if k == EventKind.ANR:
        return [ev("am_anr", [0, pid, e.package, 0, d.get("reason", "")])]
    if k == EventKind.PERMISSION_REQUEST:
        msg = (
            "START u0 {act=android.content.pm.action.REQUEST_PERMISSIONS "
            "pkg=com.android.permissioncontroller "
            "cmp=com.android.permissioncontroller/.permission.ui.GrantPermissionsActivity (has extras)} "
            f"from uid {d.get('uid', 10123)}"
        )
        return [Record(e.time_ms, "main", 1170, 1245, "I", "ActivityTaskManager", msg)]
    return []


def _fmt(r: Record, fmt: str, tz_min: int) -> str:
    local = datetime(1970, 1, 1) + timedelta(milliseconds=r.ms + tz_min * 60_000)
    stamp = local.strftime("%m-%d %H:%M:%S") + f".{r.ms % 1000:03d}"
    if fmt == "epoch":
        return f"{r.ms // 1000:>10}.{r.ms % 1000:03d} {r.pid:5d} {r.tid:5d} {r.level} {r.tag}: {r.msg}"
    if fmt == "year":
        return f"{local.year}-{stamp} {r.pid:5d} {r.tid:5d} {r.level} {r.tag}: {r.msg}"
    if fmt == "time":
        return f"{stamp} {r.level}/{r.tag}({r.pid:5d}): {r.msg}"
    if fmt == "brief":
        return f"{r.level}/{r.tag}({r.pid:5d}): {r.msg}"
    if fmt == "tag":
        return f"{r.level}/{r.tag}: {r.msg}"
    if fmt == "raw":
        return r.msg
    return f"{stamp} {r.pid:5d} {r.tid:5d} {r.level} {r.tag}: {r.msg}"


def _parse_time(text: str, phone: Phone) -> int | None:
    """-t/-T time argument -> epoch ms (None for a count)."""
    tz = _tz_offset_min(phone)
    m = re.fullmatch(r"(\d+)(?:\.(\d{1,9}))?", text)
    if m and "." in text:
        return int(m.group(1)) * 1000 + int((m.group(2) or "0")[:3].ljust(3, "0"))
    m = re.fullmatch(r"(?:(\d{4})-)?(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?", text.strip())
    if m:
        year = (
            int(m.group(1))
            if m.group(1)
            else (datetime(1970, 1, 1) + timedelta(milliseconds=phone.now_ms())).year
        )
        local = datetime(year, *(int(m.group(i)) for i in range(2, 7)))
        frac = int((m.group(7) or "0")[:3].ljust(3, "0"))
        return int((local - datetime(1970, 1, 1)).total_seconds() * 1000) + frac - tz * 60_000
    return None


def logcat_command(phone: Phone, ctx: Ctx) -> int:
    args = ctx.argv[1:]
    dump = False
    buffers: set[str] = set()
    fmt = "threadtime"
    since_ms: int | None = None
    tail: int | None = None
    max_count: int | None = None
    regex = None
    filters: dict[str, str] = {}
    silent = False
    i = 0
    while i < len(args):
        a = args[i]
        nxt = args[i + 1] if i + 1 < len(args) else None
        if a in ("-c", "--clear"):
            phone.logcat_cleared_ms = phone.now_ms() + 1
            return 0
        if a in ("-d",):
            dump = True
        elif a == "-s":
            silent = True
        elif a == "-b" and nxt is not None:
            buffers |= set(nxt.split(","))
            i += 1
        elif a.startswith("-b") and len(a) > 2:
            buffers |= set(a[2:].split(","))
        elif a == "-v" and nxt is not None:
            if nxt in ("threadtime", "epoch", "time", "brief", "year", "raw", "tag", "long", "process"):
                fmt = "epoch" if nxt == "epoch" or fmt == "epoch" else nxt
            i += 1
        elif a in ("-t", "-T") and nxt is not None:
            t = _parse_time(nxt, phone)
            if t is None:
                if not nxt.isdigit():
                    ctx.eprint(f"logcat: invalid time '{nxt}'")
                    return 1
                tail = int(nxt)
            else:
                since_ms = t
            dump = dump or a == "-t"
            i += 1
        elif a == "-m" and nxt is not None:
            max_count = int(nxt)
            i += 1
        elif a in ("-e", "--regex") and nxt is not None:
            regex = re.compile(nxt)
            i += 1
        elif a.startswith("-"):
            pass  # -D, -Z, --pid ... accepted and ignored
        elif ":" in a:
            tag, _, prio = a.rpartition(":")
            filters[tag] = prio.upper()[:1] or "V"
        i += 1
    if silent:
        filters.setdefault("*", "S")
    if not buffers or "default" in buffers:
        buffers |= {"main", "system", "crash"}
    if "all" in buffers:
        buffers = {"main", "system", "crash", "events", "radio"}
    floor = max(since_ms or 0, getattr(phone, "logcat_cleared_ms", 0))
    tz = _tz_offset_min(phone)

    def wanted(r: Record) -> bool:
        if r.buffer not in buffers or r.ms < floor:
            return False
        prio = filters.get(r.tag, filters.get("*", "V"))
        if _PRIO.index(r.level) < _PRIO.index(prio if prio in _PRIO else "V"):
            return False
        return regex is None or regex.search(r.msg) is not None

    def source_wanted(buffer: str, tag: str, level: str) -> bool:
        return wanted(Record(floor, buffer, 0, 0, level, tag, "")) if regex is None else buffer in buffers

    recs = [r for r in records(phone, 0, floor, source_wanted) if wanted(r)]
    if tail is not None:
        recs = recs[-tail:] if tail else []
    if max_count is not None:
        recs = recs[:max_count]
    header = {b: f"--------- beginning of {b}" for b in ("main", "system", "crash", "events")}
    seen_buf: set[str] = set()
    for r in recs:
        if r.buffer not in seen_buf and fmt != "raw":
            seen_buf.add(r.buffer)
            ctx.print(header.get(r.buffer, f"--------- beginning of {r.buffer}"))
        ctx.print(_fmt(r, fmt, tz))
    if dump or ctx.shell.session is None:
        return 0
    # streaming: flush what we have, then follow the device until the client hangs up
    session = ctx.shell.session
    session.emit(bytes(ctx.out), bytes(ctx.err))
    ctx.out.clear()
    ctx.err.clear()
    count = len(recs)
    last = max((r.ms for r in recs), default=floor)
    shown = {(r.ms, r.tag, r.msg) for r in recs if r.ms == last}
    while not session.stream.peer_closed:
        time.sleep(0.1)
        new = [
            r
            for r in records(phone, last, floor, source_wanted)
            if wanted(r) and (r.ms, r.tag, r.msg) not in shown
        ]
        for r in new:
            if max_count is not None and count >= max_count:
                return 0
            session.emit((_fmt(r, fmt, tz) + "\n").encode(), b"")
            count += 1
            if r.ms > last:
                last, shown = r.ms, set()
            shown.add((r.ms, r.tag, r.msg))
    return 0
