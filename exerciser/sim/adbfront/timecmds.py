"""The phone's time commands: `date` (toybox: show, and set as root), `sleep` (blocks for device time),
`su` (only on a rooted phone), `cmd alarm set-time` (AlarmManagerService's shell command, API 28+).

Who may set the clock follows the phone's `clock_methods`: the shell user (uid 2000) may not set it with
`date` (settimeofday needs CAP_SYS_TIME), and may run `cmd alarm set-time` only where its build grants
the shell SET_TIME ("alarm"); `su` exists only on a rooted phone ("root"). Automatic time (`settings put
global auto_time 0|1`) decides whether a set clock holds (see `clock.py`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from exerciser.sim.adbfront.phone import Phone
from exerciser.sim.adbfront.shell import Command, Ctx, Shell

ROOT_ENV = "USER"  # a command run under `su` sees USER=root


def time_commands(phone: Phone, base: dict[str, Command]) -> dict[str, Command]:
    """Commands bound to one phone; `base` is the rest of its table (`cmd` passes other services on)."""
    inner_cmd = base.get("cmd")

    def is_root(ctx: Ctx) -> bool:
        return ctx.env.get(ROOT_ENV) == "root"

    def date(ctx: Ctx) -> int:
        args = ctx.argv[1:]
        utc = "-u" in args
        args = [a for a in args if a != "-u"]
        fmt = next((a[1:] for a in args if a.startswith("+")), None)
        sets = [a for a in args if not a.startswith(("+", "-"))]
        if sets:
            ms = _parse_set(sets[0], UTC if utc else _tz(phone), phone.now_ms())
            if ms is None:
                ctx.eprint(f"date: bad date '{sets[0]}'")
                return 1
            if not is_root(ctx):
                ctx.eprint("date: cannot set date: Operation not permitted")
                return 1
            phone.clock.set_ms(ms)
        ms = phone.now_ms()
        dt = datetime.fromtimestamp(ms / 1000, UTC if utc else _tz(phone))
        fmt = fmt or "%a %b %e %H:%M:%S %Z %Y"
        fmt = fmt.replace("%3N", f"{ms % 1000:03d}").replace("%N", f"{(ms % 1000) * 1_000_000:09d}")
        fmt = fmt.replace("%s", str(ms // 1000)).replace("%e", f"{dt.day:>2}")
        ctx.print(dt.strftime(fmt))
        return 0

    def sleep(ctx: Ctx) -> int:
        total = 0.0
        for a in ctx.argv[1:]:
            m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)", a)
            if m is None:
                ctx.eprint(f"sleep: invalid number '{a}'")
                return 1
            total += float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
        if not ctx.argv[1:]:
            ctx.eprint("sleep: Need 1 argument")
            return 1
        phone.clock.sleep(total)
        return 0

    def su(ctx: Ctx) -> int:
        if "root" not in phone.clock_methods:
            ctx.eprint(f"/system/bin/sh: {ctx.argv[0]}: not found")
            return 127
        args = ctx.argv[1:]
        if args[:1] == ["-c"]:  # SuperSU / Magisk: su -c "command line"
            line = " ".join(args[1:2])
        else:  # AOSP userdebug su: su [UID[,GID...]] [COMMAND...]
            if args and re.fullmatch(r"(\d+|root)(,\d+)*", args[0]):
                args = args[1:]
            line = " ".join(_quote(a) for a in args)
        if not line:
            return 0
        sub = Shell(ctx.shell.fs, ctx.shell.commands)
        sub.env[ROOT_ENV] = "root"
        out, err, status = sub.run(line)
        ctx.out += out
        ctx.err += err
        return status

    def alarm(ctx: Ctx) -> int:
        args = ctx.argv[2:]
        if args[:1] != ["set-time"]:
            return _pass(ctx)
        if phone.info.api_level < 28:  # AlarmManagerService has no shell command before Android 9
            ctx.eprint("No shell command implementation.")  # Binder.onShellCommand's default
            return 255
        if len(args) < 2 or not args[1].lstrip("-").isdigit():
            ctx.eprint('Error: Argument expected after "set-time"')
            return 255
        if not (is_root(ctx) or "alarm" in phone.clock_methods):
            ctx.print(
                "Exception occurred while executing 'set-time':\njava.lang.SecurityException: setTime: "
                "Neither user 2000 nor current process has android.permission.SET_TIME."
            )
            return 255
        phone.clock.set_ms(int(args[1]))
        return 0

    def _pass(ctx: Ctx) -> int:
        if inner_cmd is None:
            ctx.eprint(f"/system/bin/sh: {ctx.argv[0]}: not found")
            return 127
        return inner_cmd(ctx)

    def cmd(ctx: Ctx) -> int:
        if ctx.argv[1:2] == ["alarm"]:
            return alarm(ctx)
        return _pass(ctx)

    return {"date": date, "sleep": sleep, "su": su, "cmd": cmd}


def _parse_set(text: str, tz, now_ms: int) -> int | None:
    """toybox `date` SET: MMDDhhmm[[CC]YY][.ss] in the given zone -> epoch ms."""
    m = re.fullmatch(r"(\d{2})(\d{2})(\d{2})(\d{2})(\d{2}|\d{4})?(?:\.(\d{2}))?", text)
    if m is None:
        return None
    mo, d, h, mi, y, s = m.groups()
    if y is None:
        year = datetime.fromtimestamp(now_ms / 1000, tz).year
    else:
        year = 2000 + int(y) if len(y) == 2 else int(y)
    try:
        dt = datetime(year, int(mo), int(d), int(h), int(mi), int(s or 0), tzinfo=tz)
    except ValueError:
        return None
    return int(dt.timestamp() * 1000)


def _tz(phone: Phone):
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(phone.props.get("persist.sys.timezone", "UTC"))
    except Exception:
        return UTC


def _quote(a: str) -> str:
    return a if re.fullmatch(r"[\w@%+=:,./-]+", a) else "'" + a.replace("'", "'\\''") + "'"
