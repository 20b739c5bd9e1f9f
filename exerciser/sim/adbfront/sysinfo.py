"""Commands about the system itself: ps, kill, uname, stat, log, service, content, ip, ifconfig, svc.

Formats are toybox's (ps, stat, uname, ifconfig), iproute2's (ip), and the framework's `cmd`-style
tools (service: frameworks/native/cmds/service/service.cpp; content: frameworks/base/cmds/content).
"""

from __future__ import annotations

import itertools
import re
import stat as st
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from exerciser.sim.adbfront.phone import SYSTEM_SERVER_PID, Phone
from exerciser.sim.adbfront.shell import Command, Ctx

ADBD_PID = 4321
ZYGOTE_PID = 560
_SHELL_PIDS = itertools.count(9100)  # pids of the shells and the commands they run


@dataclass
class Proc:
    user: str
    pid: int
    ppid: int
    name: str
    args: str = ""
    stop: threading.Event | None = None  # set by `kill`: the process ends


def user_name(uid: int) -> str:
    """android_filesystem_config.h names; app uids are u<user>_a<appid - 10000>."""
    fixed = {0: "root", 1000: "system", 1001: "radio", 2000: "shell", 1007: "log"}
    return fixed.get(uid, f"u0_a{uid - 10000}" if uid >= 10000 else str(uid))


def native_processes() -> list[Proc]:
    """The processes that are no app: init, the kernel's thread daemon, zygote, system_server, adbd."""
    return [
        Proc("root", 1, 0, "init", "/system/bin/init second_stage"),
        Proc("root", 2, 0, "[kthreadd]"),
        Proc("root", ZYGOTE_PID, 1, "zygote64", "zygote64"),
        Proc("system", SYSTEM_SERVER_PID, ZYGOTE_PID, "system_server"),
        Proc("shell", ADBD_PID, 1, "adbd", "/apex/com.android.adbd/bin/adbd --root_seclabel=u:r:su:s0"),
    ]


def processes(phone: Phone, shell_pid: int) -> list[Proc]:
    procs = native_processes()
    seen = {p.pid for p in procs}
    for pkg in phone.system_packages() + phone.installed():
        pid = phone.pid_of(pkg)
        if pid and pid not in seen:
            seen.add(pid)
            procs.append(Proc(user_name(phone.uid_of(pkg)), pid, ZYGOTE_PID, pkg, pkg))
    procs += [proc for _, proc in sorted(phone.procs.items())]
    procs.append(Proc("shell", shell_pid, ADBD_PID, "sh", "/system/bin/sh -c"))
    return procs


def make_system_commands(phone: Phone) -> dict[str, Command]:
    def ps(ctx: Ctx) -> int:
        args = ctx.argv[1:]
        me = ctx.shell.env.setdefault("$", str(next(_SHELL_PIDS)))
        shell_pid = int(me)
        procs = processes(phone, shell_pid)
        ps_pid = shell_pid + 1
        procs.append(Proc("shell", ps_pid, shell_pid, "ps", " ".join(ctx.argv)))
        flags = set()
        users: set[str] | None = None
        pids: set[int] | None = None
        fields: list[str] | None = None
        i = 0
        while i < len(args):
            a = args[i]
            nxt = args[i + 1] if i + 1 < len(args) else ""
            if a in ("-u", "-U") and nxt:
                users = set(nxt.split(","))
                i += 1
            elif a in ("-p",) and nxt:
                pids = {int(p) for p in nxt.split(",") if p.isdigit()}
                i += 1
            elif a == "-o" and nxt:
                fields = [f.upper() for f in nxt.split(",")]
                i += 1
            elif a.startswith("-"):
                flags |= set(a[1:])
            else:  # toybox ps takes process names too
                pids = (pids or set()) | {p.pid for p in procs if p.name == a}
            i += 1
        if users is not None:
            procs = [p for p in procs if p.user in users or str(_uid_of_user(p.user)) in users]
        elif pids is not None:
            procs = [p for p in procs if p.pid in pids]
        elif not flags & {"A", "e"}:
            # no selection: the processes of this terminal (toybox ps: same tty as the caller)
            procs = [p for p in procs if p.pid in (shell_pid, ps_pid)]
        if fields is None and "f" in flags:
            fields = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
        if fields is None:
            ctx.print(
                "USER           PID  PPID     VSZ    RSS WCHAN            ADDR S NAME                       "
            )
            for p in procs:
                ctx.print(
                    f"{p.user:<12} {p.pid:>5} {p.ppid:>5} {14824312:>7} {112340:>6} {0:<16} {0:>4} S {p.name}"
                )
            return 0
        ctx.print(" ".join(f"{f:<8}" if f not in ("PID", "PPID") else f"{f:>5}" for f in fields).rstrip())
        for p in procs:
            row = {
                "UID": p.user,
                "USER": p.user,
                "PID": str(p.pid),
                "PPID": str(p.ppid),
                "C": "0",
                "STIME": "09:00:00",
                "TTY": "?" if p.pid not in (shell_pid, ps_pid) else "pts/0",
                "TIME": "00:00:00",
                "CMD": p.args or p.name,
                "ARGS": p.args or p.name,
                "NAME": p.name,
                "COMM": p.name[:15],
                "S": "S",
            }
            ctx.print(
                " ".join(
                    f"{row.get(f, '-'):<8}" if f not in ("PID", "PPID") else f"{row.get(f):>5}"
                    for f in fields
                )
            )
        return 0

    def kill(ctx: Ctx) -> int:
        from exerciser.sim.adbfront.recorder import signal_recorders

        names = [a for a in ctx.argv[1:] if not a.startswith("-")]
        if ctx.argv[0] == "pkill" and "-f" in ctx.argv[1:]:  # a regex over each command line
            hit = any(signal_recorders(phone, pattern=n) for n in names)
            hit = any([_stop_matching(phone, n, full=True) for n in names]) or hit
            return 0 if hit else 1
        if ctx.argv[0] in ("pkill", "killall"):
            hit = any(n == "screenrecord" for n in names) and signal_recorders(phone)
            hit = any([_stop_matching(phone, n, full=False) for n in names]) or hit
            return 0 if hit else 1
        status = 0
        for n in names:
            if not n.isdigit():
                ctx.eprint(f"kill: {n}: Invalid argument" if not n.isdigit() else "")
                status = 1
                continue
            pid = int(n)
            proc = phone.procs.get(pid)
            if proc is not None and proc.stop is not None:
                proc.stop.set()
            elif not signal_recorders(phone, pid=pid):
                known = {p.pid for p in processes(phone, 0)}
                why = "Operation not permitted" if pid in known else "No such process"
                ctx.eprint(f"/system/bin/sh: kill: {pid}: {why}")
                status = 1
        return status

    def uname(ctx: Ctx) -> int:
        flags = set("".join(a[1:] for a in ctx.argv[1:] if a.startswith("-"))) or {"s"}
        if "a" in flags:
            flags = set("snrvm")
        parts = {
            "s": "Linux",
            "n": "localhost",
            "r": _KERNEL_RELEASE.get(phone.info.api_level, "5.15.110-android14-11-gcc5b8a6e0b8d"),
            "v": "#1 SMP PREEMPT Fri Jan  5 00:00:00 UTC 2024",
            "m": "x86_64",
        }
        ctx.print(" ".join(parts[k] for k in "snrvm" if k in flags))
        return 0

    def stat_cmd(ctx: Ctx) -> int:
        args = ctx.argv[1:]
        fmt = None
        files = []
        i = 0
        while i < len(args):
            if args[i] in ("-c", "--format") and i + 1 < len(args):
                fmt = args[i + 1]
                i += 1
            elif args[i].startswith("-c") and len(args[i]) > 2:
                fmt = args[i][2:]
            elif not args[i].startswith("-"):
                files.append(args[i])
            i += 1
        if not files:
            ctx.eprint("stat: Needs 1 argument")
            return 1
        status = 0
        for f in files:
            e = ctx.shell.fs.get(ctx.shell.path(f))
            if e is None:
                ctx.eprint(f"stat: '{f}': No such file or directory")
                status = 1
                continue
            info = _stat_fields(phone, f, e.mode, len(e.data), e.mtime, hash(ctx.shell.path(f)) & 0xFFFFF)
            if fmt is not None:
                ctx.print(re.sub(r"%(.)", lambda m, info=info: info.get(m.group(1), m.group(0)), fmt))
            else:
                ctx.print(
                    f"  File: `{f}'\n  Size: {info['s']}\t Blocks: {info['b']}\t IO Blocks: 4096"
                    f"\t{info['F']}\n"
                    f"Device: fd05h/64773d\t Inode: {info['i']}\t Links: {info['h']}\n"
                    f"Access: ({info['a'].zfill(4)}/{info['A']})\tUid: ( 2000/   shell)"
                    "\tGid: ( 2000/   shell)\n"
                    f"Access: {info['x']}\nModify: {info['y']}\nChange: {info['z']}"
                )
        return status

    def log(ctx: Ctx) -> int:
        """`log [-p PRIO] [-t TAG] MESSAGE`: one line into the main buffer (system/core/logcat/log)."""
        args = ctx.argv[1:]
        prio, tag = "I", "log"
        i = 0
        while i < len(args) and args[i].startswith("-") and i + 1 < len(args):
            if args[i] == "-p":
                prio = args[i + 1][:1].upper()
            elif args[i] == "-t":
                tag = args[i + 1]
            i += 2
        if prio not in "VDIWEF":
            ctx.eprint(f"log: invalid priority '{prio}'")
            return 1
        msg = " ".join(args[i:])
        if not msg:
            ctx.eprint("usage: log [-p <priority>] [-t <tag>] message")
            return 1
        pid = int(ctx.shell.env.setdefault("$", str(next(_SHELL_PIDS))))
        phone.add_log("main", pid, prio, tag, msg)
        return 0

    def service(ctx: Ctx) -> int:
        args = ctx.argv[1:]
        names = _SERVICES
        if args[:1] == ["list"]:
            ctx.print(f"Found {len(names)} services:")
            for k, (name, iface) in enumerate(names.items()):
                ctx.print(f"{k}\t{name}: [{iface}]")
            return 0
        if args[:1] == ["check"] and len(args) > 1:
            ctx.print(f"Service {args[1]}: {'found' if args[1] in names else 'not found'}")
            return 0
        if args[:1] == ["call"] and len(args) > 2:
            if args[1] not in names:
                ctx.eprint(f"service: Service {args[1]} does not exist")
                return 10
            ctx.print("Result: Parcel(00000000    '....')")
            return 0
        ctx.eprint(
            "Usage: service [-h|-?]\n       service list\n       service check SERVICE\n"
            "       service call SERVICE CODE [i32 N | i64 N | f N | d N | s16 STR | null | fd f"
            " nfd n | afd f ] ..."
        )
        return 0 if args[:1] in (["-h"], ["-?"]) else 1

    def content(ctx: Ctx) -> int:
        return _content(phone, ctx)

    def ip(ctx: Ctx) -> int:
        args = [a for a in ctx.argv[1:] if a not in ("-4", "-6", "-o", "dev")]
        obj = args[0] if args else ""
        if obj in ("addr", "a", "address"):
            want = next((a for a in args[1:] if a not in ("show", "list")), None)
            for idx, name in enumerate(("lo", "wlan0"), 1):
                if want and want != name:
                    continue
                addr = _addr(phone, name)
                state = "UNKNOWN" if name == "lo" else ("UP" if addr else "DOWN")
                ctx.print(
                    f"{idx}: {name}: <{'LOOPBACK,UP,LOWER_UP' if name == 'lo' else 'BROADCAST,MULTICAST,UP'}>"
                    f" mtu {65536 if name == 'lo' else 1500} qdisc noqueue state {state}"
                    " group default qlen 1000"
                )
                ctx.print(
                    "    link/"
                    + (
                        "loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00"
                        if name == "lo"
                        else "ether 02:00:00:44:55:66 brd ff:ff:ff:ff:ff:ff"
                    )
                )
                if addr:
                    brd = "" if name == "lo" else f" brd {addr.rsplit('.', 1)[0]}.255"
                    scope = "host lo" if name == "lo" else "global wlan0"
                    ctx.print(f"    inet {addr}/{8 if name == 'lo' else 24}{brd} scope {scope}")
                    ctx.print("       valid_lft forever preferred_lft forever")
            if want and want not in ("lo", "wlan0"):
                ctx.eprint(f'Device "{want}" does not exist.')
                return 1
            return 0
        if obj in ("route", "r"):
            if _addr(phone, "wlan0"):
                ctx.print("192.168.1.0/24 dev wlan0 proto kernel scope link src 192.168.1.105")
            return 0
        ctx.eprint(
            'Object "' + obj + '" is unknown, try "ip help".' if obj else "Usage: ip [ OPTIONS ] OBJECT"
        )
        return 255 if obj else 1

    def ifconfig(ctx: Ctx) -> int:
        names = [a for a in ctx.argv[1:] if not a.startswith("-")] or ["lo", "wlan0"]
        for name in names:
            if name not in ("lo", "wlan0"):
                ctx.eprint(f"ifconfig: {name}: No such device")
                return 1
            addr = _addr(phone, name)
            if name == "lo":
                ctx.print("lo        Link encap:Local Loopback")
                ctx.print("          inet addr:127.0.0.1  Mask:255.0.0.0 ")
            else:
                ctx.print("wlan0     Link encap:Ethernet  HWaddr 02:00:00:44:55:66 Driver virtual")
                if addr:
                    ctx.print(
                        f"          inet addr:{addr.split('/')[0]}  Bcast:192.168.1.255  Mask:255.255.255.0 "
                    )
            ctx.print(f"          {'UP ' if addr else ''}BROADCAST MULTICAST  MTU:1500  Metric:1")
            ctx.print("")
        return 0

    def svc(ctx: Ctx) -> int:
        """`svc wifi|data enable|disable`: the radios (frameworks/base/cmds/svc)."""
        args = ctx.argv[1:]
        if len(args) >= 2 and args[0] in ("wifi", "data") and args[1] in ("enable", "disable"):
            key = "wifi_on" if args[0] == "wifi" else "mobile_data"
            phone.state.settings.setdefault("global", {})[key] = "1" if args[1] == "enable" else "0"
            return 0
        if args[:1] in (["power"], ["usb"], ["nfc"], ["bluetooth"]):
            return 0
        ctx.eprint(
            "Available commands:\n    help     Show information about the subcommands\n"
            "    power    Control the power manager\n    data     Control mobile data connectivity\n"
            "    wifi     Control the Wi-Fi manager\n    usb      Control Usb state\n"
            "    nfc      Control NFC functions\n    bluetooth    Control Bluetooth service"
        )
        return 1

    return {
        "ps": ps,
        "kill": kill,
        "pkill": kill,
        "killall": kill,
        "uname": uname,
        "stat": stat_cmd,
        "log": log,
        "service": service,
        "content": content,
        "ip": ip,
        "ifconfig": ifconfig,
        "svc": svc,
    }


def _stop_matching(phone: Phone, pattern: str, full: bool) -> bool:
    hit = False
    for proc in list(phone.procs.values()):
        text = f"{proc.name} {proc.args}" if full else proc.name
        if proc.stop is not None and (re.search(pattern, text) if full else text == pattern):
            proc.stop.set()
            hit = True
    return hit


def _uid_of_user(user: str) -> int:
    fixed = {"root": 0, "system": 1000, "radio": 1001, "shell": 2000}
    m = re.fullmatch(r"u0_a(\d+)", user)
    return fixed.get(user, 10000 + int(m.group(1)) if m else -1)


# kernel releases of the GKI / device kernels the API levels ship with
_KERNEL_RELEASE = {
    23: "3.18.94-g9f9d1fd",
    28: "4.9.112-g5f1e1a1",
    29: "4.14.150-g62a62d6",
    30: "4.19.110-g8a2bd0d",
    33: "5.10.149-android13-4-00003-g05231a35ff43",
    34: "5.15.110-android14-11-gcc5b8a6e0b8d",
}


def _stat_fields(phone: Phone, name: str, mode: int, size: int, mtime: int, inode: int) -> dict[str, str]:
    tz_min = int(getattr(phone.device, "tz_offset_min", 0) or 0)
    tz = timezone(timedelta(minutes=tz_min))
    stamp = datetime.fromtimestamp(mtime, tz)
    human = stamp.strftime("%Y-%m-%d %H:%M:%S.000000000 %z")
    kind = "directory" if st.S_ISDIR(mode) else "regular file" if size else "regular empty file"
    return {
        "n": name,
        "N": f"`{name}'",
        "s": str(size),
        "b": str((size + 511) // 512 if size else 0),
        "B": "512",
        "a": f"{mode & 0o7777:o}",
        "A": st.filemode(mode),
        "f": f"{mode:x}",
        "F": kind,
        "u": "2000",
        "U": "shell",
        "g": "2000",
        "G": "shell",
        "h": "2" if st.S_ISDIR(mode) else "1",
        "i": str(inode),
        "X": str(mtime),
        "Y": str(mtime),
        "Z": str(mtime),
        "x": human,
        "y": human,
        "z": human,
        "%": "%",
    }


def _addr(phone: Phone, name: str) -> str:
    if name == "lo":
        return "127.0.0.1"
    glob = phone.state.settings.get("global", {})
    if glob.get("airplane_mode_on") == "1" or glob.get("wifi_on", "1") == "0":
        return ""
    return "192.168.1.105"


# servicemanager's registered names -> interface descriptors, the ones clients look for
_SERVICES = {
    "activity": "android.app.IActivityManager",
    "activity_task": "android.app.IActivityTaskManager",
    "package": "android.content.pm.IPackageManager",
    "window": "android.view.IWindowManager",
    "input": "android.hardware.input.IInputManager",
    "input_method": "com.android.internal.view.IInputMethodManager",
    "clipboard": "android.content.IClipboard",
    "power": "android.os.IPowerManager",
    "display": "android.hardware.display.IDisplayManager",
    "statusbar": "com.android.internal.statusbar.IStatusBarService",
    "settings": "",
    "wifi": "android.net.wifi.IWifiManager",
    "connectivity": "android.net.IConnectivityManager",
    "battery": "",
    "permission": "android.os.IPermissionController",
    "appops": "com.android.internal.app.IAppOpsService",
    "alarm": "android.app.IAlarmManager",
    "notification": "android.app.INotificationManager",
    "SurfaceFlinger": "android.ui.ISurfaceComposer",
}


def _content(phone: Phone, ctx: Ctx) -> int:
    """`content query|insert|update|delete --uri content://settings/<ns>` over the settings tables.
    Output as ContentCommand prints rows: `Row: N _id=K, name=..., value=...`."""
    args = ctx.argv[1:]
    op = args[0] if args else ""
    opts: dict[str, list[str]] = {}
    i = 1
    while i < len(args):
        if args[i].startswith("--") and i + 1 < len(args):
            opts.setdefault(args[i][2:], []).append(args[i + 1])
            i += 1
        i += 1
    uri = (opts.get("uri") or [""])[0]
    m = re.fullmatch(r"content://settings/(system|secure|global)(?:/(\w+))?", uri)
    if op not in ("query", "insert", "update", "delete"):
        ctx.eprint(
            "usage: adb shell content [subcommand] [options]\n\nusage: adb shell content insert --uri <URI> "
            "[--user <USER_ID>] --bind <BINDING> [--bind <BINDING>...]"
        )
        return 1
    if not uri:
        ctx.eprint(
            "Error while accessing provider:null\njava.lang.IllegalArgumentException: Must specify uri"
        )
        return 1
    if m is None:
        ctx.eprint(f"Error while accessing provider:{uri.split('/')[2] if '//' in uri else uri}")
        ctx.eprint(f"java.lang.IllegalArgumentException: Unknown URI {uri}")
        return 1
    ns, key = m.group(1), m.group(2)
    table = phone.state.settings.setdefault(ns, {})
    binds = {}
    for b in opts.get("bind", []):
        name, _, rest = b.partition(":")
        _type, _, value = rest.partition(":")
        binds[name] = value
    where = (opts.get("where") or [""])[0]
    wm = re.search(r"name\s*=\s*'([^']*)'", where)
    if key is None and wm:
        key = wm.group(1)
    if op == "query":
        rows = [(k, v) for k, v in sorted(table.items()) if key is None or k == key]
        if not rows:
            ctx.print("No result found.")
        proj = (opts.get("projection") or ["_id:name:value"])[0].split(":")
        for n, (k, v) in enumerate(rows):
            cols = {"_id": str(n + 1), "name": k, "value": v}
            ctx.print(f"Row: {n} " + ", ".join(f"{c}={cols.get(c, 'NULL')}" for c in proj))
        return 0
    if op in ("insert", "update"):
        name = binds.get("name", key)
        if name:
            table[name] = binds.get("value", "")
        return 0
    if key:
        table.pop(key, None)
    return 0
