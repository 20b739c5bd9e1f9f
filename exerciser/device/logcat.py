"""Logcat lines -> `DeviceEvent`s: the event-log tags of the activity manager and the START line of the
runtime-permission request, as a phone prints them (`logcat -v epoch|threadtime -b events -b main`).

    am_proc_start: [User,PID,UID,Process Name,Type,Component]
    am_proc_died: [User,PID,Process Name(,OomAdj,ProcState)]
    am_kill: [User,PID,Process Name,OomAdj,Reason]
    am_crash: [PID,User,Process Name,Flags,Exception,Message,File,Line(,Recoverable)]
    am_anr: [User,PID,Package Name,Flags,Reason]
    wm_finish_activity / am_finish_activity: [User,Token,Task,Component,Reason]
    wm_resume_activity / am_resume_activity: [User,Token,Task,Component(,Reason)]
    ActivityTaskManager|ActivityManager: START u0 {act=android.content.pm.action.REQUEST_PERMISSIONS ...}
        from uid UID

The request line names only the caller's uid: the package comes from `pm list packages -U`, and which
permissions were asked is not in the log (a phone never prints it).
"""

from __future__ import annotations

import re
from datetime import datetime

from exerciser.device.contract import DeviceEvent, EventKind

_EPOCH = re.compile(r"^\s*(\d+)\.(\d{3})\s+(\d+)\s+(\d+)\s+([VDIWEF])\s+(.+?)\s*: (.*)$")
_THREADTIME = re.compile(
    r"^(?:(\d{4})-)?(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3})"
    r"\s+(\d+)\s+(\d+)\s+([VDIWEF])\s+(.+?)\s*: (.*)$"
)
_START = re.compile(
    r"START u\d+ \{act=android\.content\.pm\.action\.REQUEST_PERMISSIONS.*?\}(?: from uid (\d+))?"
)
_CMP = re.compile(r"cmp=(\S+?)[ }]")


def _component(short: str) -> tuple[str, str]:
    """ "pkg/.Main" or "{pkg/pkg.Main}" -> (pkg, "pkg.Main")."""
    short = short.strip("{}")
    pkg, _, cls = short.partition("/")
    return pkg, (pkg + cls if cls.startswith(".") else cls)


def _fields(msg: str) -> list[str]:
    return msg.strip()[1:-1].split(",") if msg.strip().startswith("[") else []


def event_of(time_ms: int, tag: str, msg: str, uids: dict[int, str]) -> DeviceEvent | None:
    """One logcat record -> event (None for lines that are not one of the known signals)."""
    f = _fields(msg)
    if tag == "am_proc_start" and len(f) >= 6:
        proc = f[3]
        pkg, comp = _component(",".join(f[5:]))
        return DeviceEvent(
            time_ms,
            EventKind.PROC_START,
            proc.split(":")[0],
            {"pid": f[1], "uid": f[2], "process": proc, "type": f[4], "component": comp},
        )
    if tag == "am_proc_died" and len(f) >= 3:
        d = {"pid": f[1], "process": f[2]}
        if len(f) >= 5:
            d.update(oom_adj=f[3], proc_state=f[4])
        return DeviceEvent(time_ms, EventKind.PROC_DIED, f[2].split(":")[0], d)
    if tag == "am_kill" and len(f) >= 5:
        return DeviceEvent(
            time_ms,
            EventKind.KILL,
            f[2].split(":")[0],
            {"pid": f[1], "process": f[2], "adj": f[3], "reason": ",".join(f[4:])},
        )
    if tag == "am_crash" and len(f) >= 8:
        # the message may hold commas: fixed fields from both ends
        tail = 4 if len(f) >= 9 and f[-1] in ("0", "1") and f[-2].lstrip("-").isdigit() else 3
        file, line = f[-tail], f[-tail + 1]
        return DeviceEvent(
            time_ms,
            EventKind.CRASH,
            f[2].split(":")[0],
            {
                "pid": f[0],
                "process": f[2],
                "flags": f[3],
                "exception": f[4],
                "message": ",".join(f[5:-tail]),
                "file": file,
                "line": line,
            },
        )
    if tag == "am_anr" and len(f) >= 5:
        return DeviceEvent(
            time_ms,
            EventKind.ANR,
            f[2].split(":")[0],
            {"pid": f[1], "flags": f[3], "reason": ",".join(f[4:])},
        )
    if tag in ("wm_finish_activity", "am_finish_activity") and len(f) >= 5:
        pkg, comp = _component(f[3])
        return DeviceEvent(
            time_ms,
            EventKind.FINISH_ACTIVITY,
            pkg,
            {"token": f[1], "task": f[2], "component": comp, "reason": ",".join(f[4:])},
        )
    if tag in ("wm_resume_activity", "am_resume_activity") and len(f) >= 4:
        pkg, comp = _component(f[3])
        d = {"token": f[1], "task": f[2], "component": comp, "reason": ",".join(f[4:])}
        return DeviceEvent(time_ms, EventKind.RESUME_ACTIVITY, pkg, d)
    if tag in ("ActivityTaskManager", "ActivityManager"):
        m = _START.search(msg)
        if m:
            uid = m.group(1) or ""
            pkg = uids.get(int(uid), "") if uid else ""
            cmp = _CMP.search(msg)
            d = {"uid": uid}
            if cmp:
                d["component"] = _component(cmp.group(1))[1]
            return DeviceEvent(time_ms, EventKind.PERMISSION_REQUEST, pkg, d)
    return None


def parse_logcat(
    text: str, uids: dict[int, str] | None = None, year: int | None = None, tz_offset_min: int = 0
) -> list[DeviceEvent]:
    """Events of `-v epoch` (preferred) or `-v threadtime` / `-v year` output (local time: give the
    device's UTC offset and year), in log order."""
    uids = uids or {}
    out = []
    for line in text.splitlines():
        m = _EPOCH.match(line)
        if m:
            ms = int(m.group(1)) * 1000 + int(m.group(2))
            tag, msg = m.group(6), m.group(7)
        else:
            t = _THREADTIME.match(line)
            if not t:
                continue
            y = int(t.group(1) or year or datetime.now().year)
            local = datetime(
                y, int(t.group(2)), int(t.group(3)), int(t.group(4)), int(t.group(5)), int(t.group(6))
            )
            ms = (
                int((local - datetime(1970, 1, 1)).total_seconds()) * 1000
                + int(t.group(7))
                - tz_offset_min * 60_000
            )
            tag, msg = t.group(11), t.group(12)
        ev = event_of(ms, tag.strip(), msg, uids)
        if ev is not None:
            out.append(ev)
    return out
