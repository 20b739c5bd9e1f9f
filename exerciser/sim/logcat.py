"""The virtual device's events as `adb logcat -v threadtime` lines.

Events buffer (`-b events`), tags and fields as AOSP's EventLogTags declare them:

    am_proc_start: [User,PID,UID,Process Name,Type,Component]
    am_proc_died: [User,PID,Process Name,OomAdj,ProcState]     (6-8: [User,PID,Process Name])
    am_kill: [User,PID,Process Name,OomAdj,Reason]
    am_crash: [PID,User,Process Name,Flags,Exception,Message,File,Line(,Recoverable 11+)]
    wm_finish_activity / wm_resume_activity (am_* before Android 10)

Main buffer (`-b main`): the ActivityManager / ActivityTaskManager START line of the permission
request intent. Crash buffer (`-b crash`): the AndroidRuntime FATAL EXCEPTION of a crash.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from exerciser.device.contract import DeviceEvent, EventKind

if TYPE_CHECKING:
    from exerciser.sim.runtime import VirtualDevice

SYSTEM_SERVER = 1170
AM_TID = 1228


def _short(component: str, package: str) -> str:
    """ComponentName.flattenToShortString: pkg/.Activity when the class is inside the package."""
    if component.startswith(package + "."):
        return f"{package}/{component[len(package) :]}"
    return f"{package}/{component}"


def _line(dev: VirtualDevice, ms: int, pid: int, tid: int, level: str, tag: str, msg: str) -> str:
    t = dev.local_time(ms)
    stamp = t.strftime("%m-%d %H:%M:%S") + f".{ms % 1000:03d}"
    return f"{stamp} {pid:5d} {tid:5d} {level} {tag}: {msg}"


def event_lines(dev: VirtualDevice, e: DeviceEvent) -> list[tuple[str, str]]:
    """(buffer, line) pairs for one event."""
    api = dev.info.api_level
    d = e.detail
    wm = "wm" if api >= 29 else "am"
    out: list[tuple[str, str]] = []

    def ev(tag: str, fields: Iterable[object], tid: int = AM_TID) -> None:
        msg = "[" + ",".join(str(f) for f in fields) + "]"
        out.append(("events", _line(dev, e.time_ms, SYSTEM_SERVER, tid, "I", tag, msg)))

    if e.kind == EventKind.PROC_START:
        ptype = "activity" if api < 29 else "top-activity" if api == 29 else "pre-top-activity"
        comp = "{" + _short(d["component"], e.package) + "}"
        ev("am_proc_start", [0, d["pid"], d["uid"], d["process"], ptype, comp])
    elif e.kind == EventKind.PROC_DIED:
        fields = [0, d["pid"], d["process"]]
        if api >= 28:
            fields += [d.get("oom_adj", 900), d.get("proc_state", 19)]
        ev("am_proc_died", fields)
    elif e.kind == EventKind.KILL:
        ev("am_kill", [0, d["pid"], d["process"], d.get("adj", 900), d.get("reason", "")])
    elif e.kind == EventKind.CRASH:
        fields = [
            d["pid"],
            0,
            d["process"],
            d.get("flags", 0),
            d["exception"],
            d["message"],
            d["file"],
            d["line"],
        ]
        if api >= 30:
            fields.append(0)
        ev("am_crash", fields, tid=AM_TID + 301)
        pid = int(d["pid"]) if d.get("pid", "").isdigit() else 0
        for msg in (
            "FATAL EXCEPTION: main",
            f"Process: {e.package}, PID: {pid}",
            f"{d['exception']}: {d['message']}",
            f"\tat {e.package}.{d['file'].removesuffix('.java')}.onClick({d['file']}:{d['line']})",
        ):
            out.append(("crash", _line(dev, e.time_ms, pid, pid, "E", "AndroidRuntime", msg)))
    elif e.kind == EventKind.FINISH_ACTIVITY:
        comp = _short(d["component"], e.package)
        ev(f"{wm}_finish_activity", [0, d["token"], d["task"], comp, d.get("reason", "app-request")])
    elif e.kind == EventKind.RESUME_ACTIVITY:
        comp = _short(d["component"], e.package)
        fields: list[object] = [0, d["token"], d["task"], comp]
        if api >= 29:
            fields.append(d.get("reason") or "resumeTopActivityInnerLocked")
        ev(f"{wm}_resume_activity", fields)
    elif e.kind == EventKind.PERMISSION_REQUEST:
        prof = dev.profile
        tag = "ActivityTaskManager" if api >= 29 else "ActivityManager"
        cmp = _short(prof.grant_activity, prof.controller_package)
        msg = (
            f"START u0 {{act=android.content.pm.action.REQUEST_PERMISSIONS pkg={prof.controller_package} "
            f"cmp={cmp} (has extras)}} from uid {d.get('uid', '')}"
        )
        out.append(("main", _line(dev, e.time_ms, SYSTEM_SERVER, AM_TID + 17, "I", tag, msg)))
    elif e.kind == EventKind.ANR:
        ev("am_anr", [0, d.get("pid", 0), e.package, d.get("flags", 0), d.get("reason", "")])
    return out


def render(
    dev: VirtualDevice, events: Iterable[DeviceEvent], buffers: Sequence[str] = ("events", "main", "crash")
) -> str:
    """The lines of `events` that belong to `buffers`, in time order, newline-terminated."""
    lines: list[str] = []
    for e in events:
        for buf, line in event_lines(dev, e):
            if buf in buffers:
                lines.append(line)
    return "".join(line + "\n" for line in lines)
