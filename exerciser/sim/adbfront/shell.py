"""A small POSIX-ish shell: enough of mksh/toybox sh for the command lines adb clients send.

adbutils appends `; echo X4EXIT:$?` to every command, uiautomator2 runs `CLASSPATH=... app_process ...`,
drivers pipe `dumpsys ... | grep ...` and redirect `2>/dev/null`. The grammar (quoting, expansions,
`$((...))`, `$(...)`, lists, pipelines, redirections, `for`/`while`/`if`) is in `shparse`; this module
runs it: a working directory (`cd`, `pwd`), `&` background jobs that `wait` waits for, `sh FILE` and
`sh -c`, the shell builtins. Unknown commands answer like Android's sh: `/system/bin/sh: X: not found`,
127.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import itertools
import posixpath
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from exerciser.sim.adbfront.fs import VirtualFS
from exerciser.sim.adbfront.shparse import (
    ForLoop,
    IfChain,
    Pipeline,
    Program,
    ShellSyntaxError,
    Simple,
    WhileLoop,
    parse,
)

# --- running -----------------------------------------------------------------------------------------


@dataclass
class Ctx:
    """What one command sees: argv, stdin, its own stdout/stderr buffers, the shell."""

    argv: list[str]
    stdin: bytes
    shell: Shell
    env: dict[str, str]
    out: bytearray = field(default_factory=bytearray)
    err: bytearray = field(default_factory=bytearray)
    pid: int = 0  # of the background job running this command (0: the shell's own)
    tty_in: bool = False  # stdin is the adb stream (no pipe, no redirection): `read` waits on it
    tty_out: bool = False  # stdout is the adb stream: a child shell may write to it as it goes

    def print(self, text: str = "", end: str = "\n") -> None:
        self.out += (text + end).encode()

    def eprint(self, text: str) -> None:
        self.err += (text + "\n").encode()


Command = Callable[[Ctx], int]

_PIDS = itertools.count(21000)  # pids of background jobs (`$!`), distinct from app pids


@dataclass
class _Job:
    pid: int
    thread: threading.Thread
    status: int = 0


class Shell:
    """Runs command lines against a command table. `session` (optional) lets a command stream output."""

    def __init__(self, fs: VirtualFS, commands: dict[str, Command], session=None) -> None:
        self.fs = fs
        self.commands = dict(BUILTINS)
        self.commands.update(commands)
        self.session = session
        self.jobs: list[_Job] = []
        self._pid = 0  # set while a background job's commands run (Ctx.pid)
        self.cwd = "/"  # adbd starts the shell in / (`pwd` answers "/")
        self.env: dict[str, str] = {
            "?": "0",
            "#": "0",
            "PATH": "/product/bin:/apex/com.android.runtime/bin:/apex/com.android.art/bin:"
            "/system_ext/bin:/system/bin:/system/xbin:/odm/bin:/vendor/bin:/vendor/xbin",
            "HOME": "/",
            "USER": "shell",
            "SHELL": "/bin/sh",
            "HOSTNAME": "localhost",
            "TMPDIR": "/data/local/tmp",
            "ANDROID_DATA": "/data",
            "ANDROID_ROOT": "/system",
            "EXTERNAL_STORAGE": "/sdcard",
        }

    def path(self, p: str) -> str:
        """A path as the process sees it: relative to the working directory."""
        return posixpath.normpath(posixpath.join(self.cwd, p)) if p else p

    def run(self, line: str) -> tuple[bytes, bytes, int]:
        """Whole command line -> (stdout, stderr, exit status)."""
        try:
            program = parse(line)
        except ShellSyntaxError as exc:
            err = f"/system/bin/sh: {exc}\n".encode()
            if self.session is not None:
                self.session.emit(b"", err)
            return b"", err, 1
        out, err = bytearray(), bytearray()
        try:
            status = self._program(program, b"", out, err, top=True)
        except _Exit as ex:
            status = ex.code
        except ShellSyntaxError as exc:
            err += f"/system/bin/sh: {exc}\n".encode()
            if self.session is not None:
                self.session.emit(b"", f"/system/bin/sh: {exc}\n".encode())
            status = 1
        self.env["?"] = str(status)
        return bytes(out), bytes(err), status

    def capture(self, line: str) -> str:
        """`$(...)`: a subshell's standard output (its errors go to the shell's own stderr)."""
        sub = Shell(self.fs, self.commands)
        sub.env, sub.cwd = dict(self.env), self.cwd
        out, err, _ = sub.run(line)
        self._pending_err += err
        return out.decode("utf-8", "replace")

    _pending_err = b""
    stdin_left: bytes | None = None  # what `read` left of its input (for the loop around it)

    def _program(self, program: Program, stdin: bytes, out: bytearray, err: bytearray, top: bool) -> int:
        status = int(self.env.get("?", "0"))
        for conn, pipeline in program:
            if (conn == "&&" and status != 0) or (conn == "||" and status == 0):
                continue
            if pipeline.background:
                self._background(pipeline)
                status = 0
                continue
            o, e, status = self._pipeline(pipeline, stdin, tty=top and self.session is not None)
            self.env["?"] = str(status)
            if top and self.session is not None:
                self.session.emit(o, e)
            else:
                out += o
                err += e
        return status

    def _compound(self, node, stdin: bytes) -> tuple[bytes, bytes, int]:
        out, err = bytearray(), bytearray()
        status = 0
        if isinstance(node, ForLoop):
            if node.words is None:
                items = [self.env.get(str(k), "") for k in range(1, int(self.env.get("#", "0")) + 1)]
            else:
                items = [f for w in node.words for f in w.fields(self.env, self.capture)]
            for item in items:
                self.env[node.var] = item
                status = self._program(node.body, stdin, out, err, top=False)
        elif isinstance(node, WhileLoop):
            rest = stdin  # `while read x` consumes the loop's input a line at a time
            for _ in range(100_000):  # a runaway loop ends rather than hanging the device
                self.stdin_left = None
                ok = self._program(node.cond, rest, out, err, top=False) == 0
                rest = rest if self.stdin_left is None else self.stdin_left
                if ok == node.until:
                    break
                status = self._program(node.body, rest, out, err, top=False)
        elif isinstance(node, IfChain):
            for cond, body in node.branches:
                if self._program(cond, stdin, out, err, top=False) == 0:
                    status = self._program(body, stdin, out, err, top=False)
                    break
            else:
                status = self._program(node.orelse, stdin, out, err, top=False) if node.orelse else 0
        return bytes(out), bytes(err), status

    def _background(self, pipeline: Pipeline) -> None:
        """`cmd &`: run on its own thread (a recorder blocks until signalled); its output goes to the
        session as it ends, like a job writing to the shell's terminal."""
        pid = next(_PIDS)
        job_shell = Shell(self.fs, self.commands, self.session)
        job_shell.env = dict(self.env)
        job_shell.cwd = self.cwd
        job_shell._pid = pid

        def run() -> None:
            try:
                o, e, job.status = job_shell._pipeline(pipeline, b"")
            except _Exit as ex:
                o, e, job.status = b"", b"", ex.code
            if self.session is not None:
                with contextlib.suppress(Exception):  # the client hung up before the job ended
                    self.session.emit(o, e)

        job = _Job(pid, threading.Thread(target=run, daemon=True, name=f"sh-job:{pid}"))
        self.jobs.append(job)
        self.env["!"] = str(pid)
        job.thread.start()

    def wait_jobs(self, pids: list[int] | None = None) -> int:
        status = 0
        for job in self.jobs:
            if pids is None or job.pid in pids:
                job.thread.join()
                status = job.status
        return status

    def _pipeline(self, pipeline: Pipeline, stdin: bytes, tty: bool = False) -> tuple[bytes, bytes, int]:
        data = stdin
        err = bytearray()
        status = 0
        for k, node in enumerate(pipeline):
            if isinstance(node, Simple):
                out, e, status = self._simple(node, data, tty and k == 0, tty and k == len(pipeline) - 1)
            else:
                out, e, status = self._compound(node, data)
            err += e
            data = out
        return data, bytes(err), status

    def _simple(
        self, simple: Simple, stdin: bytes, tty_in: bool = False, tty_out: bool = False
    ) -> tuple[bytes, bytes, int]:
        self._pending_err = b""
        env = dict(self.env)
        for name, w in simple.assigns:
            env[name] = w.expand(env, self.capture)
        argv = [f for w in simple.words for f in w.fields(env, self.capture)]
        targets = [(r, r.target.expand(env, self.capture)) for r in simple.redirects]
        pre_err = self._pending_err
        for r, target in targets:
            if r.op == "<":
                if target == "/dev/null":
                    stdin = b""
                    continue
                e = self.fs.get(self.path(target))
                if e is None or e.is_dir:
                    why = "No such file or directory" if e is None else "Is a directory"
                    return (
                        b"",
                        pre_err + f"/system/bin/sh: <stdin>[1]: can't open {target}: {why}\n".encode(),
                        1,
                    )
                stdin = e.data
        if not argv:
            self.env.update({k: v for k, v in env.items() if k != "?"})
            return b"", pre_err, 0
        ctx = Ctx(
            argv,
            stdin,
            self,
            env,
            pid=self._pid,
            tty_in=tty_in and not any(r.op == "<" for r in simple.redirects),
            tty_out=tty_out and not any(r.op != "<" and r.fd in (1, -1) for r in simple.redirects),
        )
        name = argv[0]
        if "/" in name:  # a path: only the system's own binaries exist
            entry = self.fs.get(self.path(name))
            name = posixpath.basename(name) if entry is not None and entry.mode & 0o111 else ""
        fn = self.commands.get(name) if name and not name.startswith("_") else None
        if fn is None:
            entry = self.fs.get(self.path(argv[0])) if "/" in argv[0] else None
            if entry is not None and entry.is_dir:
                ctx.eprint(f"/system/bin/sh: {argv[0]}: can't execute: Is a directory")
                status = 126
            elif entry is not None:
                ctx.eprint(f"/system/bin/sh: {argv[0]}: can't execute: Permission denied")
                status = 126
            else:
                ctx.eprint(
                    f"/system/bin/sh: {argv[0]}: {'inaccessible or ' if '/' in argv[0] else ''}not found"
                )
                status = 127
        else:
            status = fn(ctx)
        out, err = bytes(ctx.out), pre_err + bytes(ctx.err)
        for r, target in targets:
            if r.op == "<":
                continue
            if r.op == ">&":
                if r.fd == 2 and target == "1":
                    out, err = out + err, b""
                elif r.fd == 1 and target == "2":
                    out, err = b"", err + out
                continue
            streams = [1, 2] if r.fd == -1 else [r.fd]
            for fd in streams:
                data = out if fd == 1 else err
                if fd == 1:
                    out = b""
                else:
                    err = b""
                if target == "/dev/null":
                    continue
                path = self.path(target)
                old = self.fs.get(path)
                if r.op == ">>" and old is not None and not old.is_dir:
                    data = old.data + data
                msg = self.fs.write(path, data)
                if msg:
                    err += f"/system/bin/sh: can't create {target}: {msg.split(': ', 1)[-1]}\n".encode()
                    status = 1
        return out, err, status


class _Exit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


# --- builtins and toybox commands that need no device ------------------------------------------------


def _echo(ctx: Ctx) -> int:
    args = ctx.argv[1:]
    newline = True
    if args and args[0] == "-n":
        newline = False
        args = args[1:]
    ctx.print(" ".join(args), end="\n" if newline else "")
    return 0


def _true(ctx: Ctx) -> int:
    return 0


def _false(ctx: Ctx) -> int:
    return 1


def _exit(ctx: Ctx) -> int:
    raise _Exit(int(ctx.argv[1]) if len(ctx.argv) > 1 and ctx.argv[1].isdigit() else 0)


def _cat(ctx: Ctx) -> int:
    files = [a for a in ctx.argv[1:] if not a.startswith("-")]
    if not files:
        ctx.out += ctx.stdin
        return 0
    status = 0
    for f in files:
        proc = ctx.shell.commands.get("__proc__")
        if f.startswith("/proc/") and proc is not None:
            sub = Ctx(["__proc__", f], b"", ctx.shell, ctx.env)
            if proc(sub) == 0:
                ctx.out += sub.out
                continue
        e = ctx.shell.fs.get(ctx.shell.path(f))
        if e is None:
            ctx.eprint(f"cat: {f}: No such file or directory")
            status = 1
        elif e.is_dir:
            ctx.eprint(f"cat: {f}: Is a directory")
            status = 1
        else:
            ctx.out += e.data
    return status


def _rm(ctx: Ctx) -> int:
    flags = "".join(a[1:] for a in ctx.argv[1:] if a.startswith("-"))
    status = 0
    for f in (a for a in ctx.argv[1:] if not a.startswith("-")):
        msg = ctx.shell.fs.remove(ctx.shell.path(f), recursive="r" in flags or "R" in flags)
        if msg and "f" not in flags:
            ctx.eprint(msg)
            status = 1
    return status


def _mkdir(ctx: Ctx) -> int:
    parents = "-p" in ctx.argv[1:]
    status = 0
    for d in (a for a in ctx.argv[1:] if not a.startswith("-")):
        msg = ctx.shell.fs.mkdir(ctx.shell.path(d), parents)
        if msg:
            ctx.eprint(msg)
            status = 1
    return status


def _touch(ctx: Ctx) -> int:
    for f in (a for a in ctx.argv[1:] if not a.startswith("-")):
        if ctx.shell.fs.get(ctx.shell.path(f)) is None:
            ctx.shell.fs.write(ctx.shell.path(f), b"")
    return 0


def _chmod(ctx: Ctx) -> int:
    args = [a for a in ctx.argv[1:] if not a.startswith("-")]
    if len(args) < 2:
        ctx.eprint("chmod: Need 2 arguments")
        return 1
    try:
        mode = int(args[0], 8)
    except ValueError:
        mode = 0o755 if "x" in args[0] else 0o644
    status = 0
    for f in args[1:]:
        msg = ctx.shell.fs.chmod(ctx.shell.path(f), mode)
        if msg:
            ctx.eprint(msg)
            status = 1
    return status


def _ls(ctx: Ctx) -> int:
    flags = "".join(a[1:] for a in ctx.argv[1:] if a.startswith("-"))
    targets = [a for a in ctx.argv[1:] if not a.startswith("-")] or ["."]
    status = 0
    for t in targets:
        path = ctx.shell.path(t)
        e = ctx.shell.fs.get(ctx.shell.path(path))
        if e is None:
            ctx.eprint(f"ls: {t}: No such file or directory")
            status = 1
            continue
        items = (
            [(t.rsplit("/", 1)[-1], e)]
            if not e.is_dir
            else (ctx.shell.fs.listdir(ctx.shell.path(path)) or [])
        )
        for name, ent in items:
            if "l" in flags:
                kind = "d" if ent.is_dir else "-"
                ctx.print(f"{kind}rw-rw---- 1 shell shell {len(ent.data):>8} 2026-01-01 00:00 {name}")
            else:
                ctx.print(name if e.is_dir else t)
    return status


def _md5sum(ctx: Ctx) -> int:
    status = 0
    for f in (a for a in ctx.argv[1:] if not a.startswith("-")):
        e = ctx.shell.fs.get(ctx.shell.path(f))
        if e is None or e.is_dir:
            ctx.eprint(
                f"md5sum: {f}: No such file or directory" if e is None else f"md5sum: {f}: Is a directory"
            )
            status = 1
        else:
            ctx.print(f"{hashlib.md5(e.data).hexdigest()}  {f}")
    return status


def _grep(ctx: Ctx) -> int:
    args = ctx.argv[1:]
    flags = ""
    patterns: list[str] = []
    rest: list[str] = []
    i = 0
    after = before = 0
    while i < len(args):
        a = args[i]
        if a == "-e" and i + 1 < len(args):
            patterns.append(args[i + 1])
            i += 2
            continue
        m = re.fullmatch(r"-([ABC])(\d*)", a)
        if m and not rest:
            num = m.group(2) or (args[i + 1] if i + 1 < len(args) else "0")
            i += 1 if m.group(2) else 2
            after = int(num) if m.group(1) in "AC" else after
            before = int(num) if m.group(1) in "BC" else before
            continue
        if a.startswith("-") and len(a) > 1 and not patterns and not rest:
            flags += a[1:]
        else:
            rest.append(a)
        i += 1
    if not patterns:
        if not rest:
            ctx.eprint("usage: grep [-EFivcqo] PATTERN [FILE...]")
            return 2
        patterns = [rest.pop(0)]
    reflags = re.I if "i" in flags else 0
    if "F" in flags:
        regs = [re.compile(re.escape(p), reflags) for p in patterns]
    else:
        # basic regex: \| is alternation, + ? ( ) are literal; -E: extended
        regs = [re.compile(p if "E" in flags else _bre(p), reflags) for p in patterns]
    text = ctx.stdin
    if rest:
        e = ctx.shell.fs.get(ctx.shell.path(rest[0]))
        if e is None:
            ctx.eprint(f"grep: {rest[0]}: No such file or directory")
            return 2
        text = e.data
    lines = text.decode("utf-8", "replace").splitlines()
    hit_idx = [k for k, ln in enumerate(lines) if any(r.search(ln) for r in regs) != ("v" in flags)]
    hits = [lines[k] for k in hit_idx]
    if (after or before) and not set(flags) & set("qco"):
        shown: list[int] = []
        for k in hit_idx:
            for j in range(max(0, k - before), min(len(lines), k + after + 1)):
                if j not in shown:
                    if shown and j > shown[-1] + 1:
                        ctx.print("--")
                    shown.append(j)
                    ctx.print(lines[j])
        return 0 if hits else 1
    if "q" in flags:
        return 0 if hits else 1
    if "c" in flags:
        ctx.print(str(len(hits)))
    elif "o" in flags:
        for ln in hits:
            for r in regs:
                for m in r.finditer(ln):
                    ctx.print(m.group(0))
    else:
        for ln in hits:
            ctx.print(ln)
    return 0 if hits else 1


def _bre(p: str) -> str:
    out = []
    i = 0
    while i < len(p):
        c = p[i]
        if c == "\\" and i + 1 < len(p):
            nxt = p[i + 1]
            out.append(
                {"|": "|", "(": "(", ")": ")", "+": "+", "?": "?", "{": "{", "}": "}"}.get(nxt, "\\" + nxt)
            )
            i += 2
            continue
        out.append(re.escape(c) if c in "+?(){}|" else c)
        i += 1
    return "".join(out)


def _headtail(ctx: Ctx) -> int:
    n = 10
    args = ctx.argv[1:]
    for i, a in enumerate(args):
        if a == "-n" and i + 1 < len(args):
            n = int(args[i + 1])
        elif re.fullmatch(r"-n?\d+", a):
            n = int(a.lstrip("-n"))
    lines = ctx.stdin.decode("utf-8", "replace").splitlines(keepends=True)
    chosen = lines[:n] if ctx.argv[0] == "head" else lines[-n:] if n else []
    ctx.out += "".join(chosen).encode()
    return 0


def _wc(ctx: Ctx) -> int:
    text = ctx.stdin.decode("utf-8", "replace")
    if "-l" in ctx.argv:
        ctx.print(str(text.count("\n")))
    else:
        ctx.print(f"{text.count(chr(10))} {len(text.split())} {len(ctx.stdin)}")
    return 0


def _wait(ctx: Ctx) -> int:
    pids = [int(a) for a in ctx.argv[1:] if a.isdigit()]
    return ctx.shell.wait_jobs(pids or None)


def _sleep(ctx: Ctx) -> int:
    return 0  # the virtual device does not block the shell; time is the device clock's business


def _id(ctx: Ctx) -> int:
    ctx.print(
        "uid=2000(shell) gid=2000(shell) groups=2000(shell),1004(input),1007(log),1011(adb),1015(sdcard_rw),"
        "1028(sdcard_r),3001(net_bt_admin),3002(net_bt),3003(inet),3006(net_bw_stats),3009(readproc) "
        "context=u:r:shell:s0"
    )
    return 0


def _whoami(ctx: Ctx) -> int:
    ctx.print("shell")
    return 0


def _sh(ctx: Ctx) -> int:
    """`sh -c CMD [NAME ARGS...]`, `sh FILE [ARGS...]`, or a script on stdin: a child shell."""
    args = ctx.argv[1:]
    while args and args[0] in ("-e", "-x", "-u"):
        args = args[1:]
    # on the terminal (no pipe either side) the child shell talks to the adb stream itself: it can
    # `read` lines the client sends and stream output, as a script run by `adb shell sh FILE` does
    on_tty = ctx.tty_in and ctx.tty_out
    sub = Shell(ctx.shell.fs, ctx.shell.commands, ctx.shell.session if on_tty else None)
    sub.env, sub.cwd = dict(ctx.env), ctx.shell.cwd
    if args[:1] == ["-c"]:
        if len(args) < 2:
            ctx.eprint("/system/bin/sh: -c: option requires an argument")
            return 1
        script, params = args[1], args[3:]
    elif args:
        entry = ctx.shell.fs.get(ctx.shell.path(args[0]))
        if entry is None or entry.is_dir:
            why = "No such file or directory" if entry is None else "Is a directory"
            ctx.eprint(f"/system/bin/sh: {args[0]}: {why}")
            return 127 if entry is None else 126
        script, params = entry.data.decode("utf-8", "replace"), args[1:]
        sub.env["0"] = args[0]
    else:
        script, params = ctx.stdin.decode("utf-8", "replace"), []
    sub.env["#"] = str(len(params))
    for k, v in enumerate(params, 1):
        sub.env[str(k)] = v
    out, err, status = sub.run(script)
    ctx.out += out
    ctx.err += err
    return status


def _printf(ctx: Ctx) -> int:
    """toybox printf: %s %d %x %c %% and the backslash escapes; the format is reused for extra args."""
    if len(ctx.argv) < 2:
        ctx.eprint("printf: Need 1 argument")
        return 1
    fmt, args = ctx.argv[1], ctx.argv[2:]
    fmt = fmt.encode().decode("unicode_escape", "replace")
    specs = re.findall(r"%[-0-9.]*[sdixXcuo]", fmt)
    out = []
    while True:
        chunk, args = args[: len(specs)], args[len(specs) :]
        vals = []
        for spec, v in zip(specs, chunk + [""] * (len(specs) - len(chunk)), strict=True):
            vals.append(int(v or 0) if spec[-1] in "dixXuo" and re.fullmatch(r"-?\d+", v or "0") else v)
        try:
            out.append(fmt.replace("%%", "\0") % tuple(vals) if specs else fmt.replace("%%", "\0"))
        except (TypeError, ValueError):
            out.append(fmt)
        if not args or not specs:
            break
    ctx.out += "".join(out).replace("\0", "%").encode()
    return 0


def _pwd(ctx: Ctx) -> int:
    ctx.print(ctx.shell.cwd)
    return 0


def _cd(ctx: Ctx) -> int:
    target = ctx.argv[1] if len(ctx.argv) > 1 else ctx.env.get("HOME", "/")
    path = ctx.shell.path(target)
    e = ctx.shell.fs.get(path)
    if e is None or not e.is_dir:
        why = "No such file or directory" if e is None else "Not a directory"
        ctx.eprint(f"/system/bin/sh: cd: {target}: {why}")
        return 2
    ctx.shell.cwd = path
    return 0


def _read(ctx: Ctx) -> int:
    """`read [-r] NAME...`: one line of stdin into variables (the last takes the rest)."""
    names = [a for a in ctx.argv[1:] if not a.startswith("-")] or ["REPLY"]
    session = ctx.shell.session
    if ctx.tty_in and session is not None:  # wait for a line the client sends down the stream
        line = session.read_line()
        text = line.decode("utf-8", "replace") if line else ""
    else:
        text = ctx.stdin.decode("utf-8", "replace")
    if not text:
        for n in names:
            ctx.shell.env[n] = ""
        return 1
    line, _, rest = text.partition("\n")
    ctx.shell.stdin_left = rest.encode()
    fields = line.split(None, len(names) - 1)
    for k, n in enumerate(names):
        ctx.shell.env[n] = fields[k] if k < len(fields) else ""
    return 0


def _seq(ctx: Ctx) -> int:
    nums = [a for a in ctx.argv[1:] if re.fullmatch(r"-?\d+", a)]
    if not nums or len(nums) != len(ctx.argv) - 1:
        ctx.eprint("usage: seq [-w|-f fmt_str|-s sep_str] [first] [increment] last")
        return 1
    first, step, last = (
        (1, 1, int(nums[0]))
        if len(nums) == 1
        else ((int(nums[0]), 1, int(nums[1])) if len(nums) == 2 else tuple(int(n) for n in nums[:3]))
    )
    if step == 0:
        return 1
    for v in range(first, last + (1 if step > 0 else -1), step):
        ctx.print(str(v))
    return 0


def _which(ctx: Ctx) -> int:
    args = [a for a in ctx.argv[1:] if not a.startswith("-")]
    status = 0
    for a in args:
        if a in ctx.shell.commands:
            ctx.print(f"/system/bin/{a}")
        else:
            status = 1
    return status


def _command(ctx: Ctx) -> int:
    if len(ctx.argv) > 2 and ctx.argv[1] == "-v":
        return _which(Ctx(["which", *ctx.argv[2:]], b"", ctx.shell, ctx.env, ctx.out, ctx.err))
    sub = Ctx(ctx.argv[1:], ctx.stdin, ctx.shell, ctx.env, ctx.out, ctx.err)
    fn = ctx.shell.commands.get(sub.argv[0]) if sub.argv else None
    if fn is None:
        ctx.eprint(f"/system/bin/sh: {sub.argv[0] if sub.argv else ''}: not found")
        return 127
    return fn(sub)


def _export(ctx: Ctx) -> int:
    for a in ctx.argv[1:]:
        name, sep, value = a.partition("=")
        if sep:
            ctx.shell.env[name] = value
    return 0


def _exec(ctx: Ctx) -> int:
    if len(ctx.argv) < 2:
        return 0
    return _command(Ctx(["command", *ctx.argv[1:]], ctx.stdin, ctx.shell, ctx.env, ctx.out, ctx.err))


def _toybox(ctx: Ctx) -> int:
    if len(ctx.argv) < 2:
        ctx.print(" ".join(sorted(k for k in ctx.shell.commands if not k.startswith("_"))))
        return 0
    sub = Ctx(ctx.argv[1:], ctx.stdin, ctx.shell, ctx.env, ctx.out, ctx.err)
    fn = ctx.shell.commands.get(sub.argv[0])
    if fn is None:
        ctx.eprint(f"toybox: Unknown command {sub.argv[0]}")
        return 1
    return fn(sub)


def _test(ctx: Ctx) -> int:
    args = ctx.argv[1:]
    if ctx.argv[0] == "[" and args and args[-1] == "]":
        args = args[:-1]
    if len(args) == 2 and args[0] in ("-e", "-f", "-d"):
        e = ctx.shell.fs.get(ctx.shell.path(args[1]))
        ok = e is not None and (args[0] == "-e" or (args[0] == "-d") == e.is_dir)
        return 0 if ok else 1
    if args[:1] == ["!"]:
        return 1 - _test(Ctx(["test", *args[1:]], b"", ctx.shell, ctx.env))
    ops = {
        "-eq": "__eq__",
        "-ne": "__ne__",
        "-lt": "__lt__",
        "-le": "__le__",
        "-gt": "__gt__",
        "-ge": "__ge__",
    }
    if len(args) == 3 and args[1] in ops:
        try:
            return 0 if getattr(int(args[0]), ops[args[1]])(int(args[2])) else 1
        except ValueError:
            ctx.eprint(f"/system/bin/sh: {ctx.argv[0]}: bad number")
            return 2
    if len(args) == 1:
        return 0 if args[0] else 1
    if len(args) == 3 and args[1] in ("=", "=="):
        return 0 if args[0] == args[2] else 1
    if len(args) == 3 and args[1] == "!=":
        return 0 if args[0] != args[2] else 1
    if len(args) == 2 and args[0] == "-n":
        return 0 if args[1] else 1
    if len(args) == 2 and args[0] == "-z":
        return 0 if not args[1] else 1
    return 1


def _find(ctx: Ctx) -> int:
    args = ctx.argv[1:]
    root = args[0] if args and not args[0].startswith("-") else "."
    pattern = (
        args[args.index("-name") + 1] if "-name" in args and args.index("-name") + 1 < len(args) else "*"
    )
    stack = [root]
    while stack:
        p = stack.pop()
        for name, e in ctx.shell.fs.listdir(ctx.shell.path(p)) or []:
            full = p.rstrip("/") + "/" + name
            if fnmatch.fnmatch(name, pattern):
                ctx.print(full)
            if e.is_dir:
                stack.append(full)
    return 0


BUILTINS: dict[str, Command] = {
    "echo": _echo,
    "true": _true,
    "false": _false,
    "exit": _exit,
    "cat": _cat,
    "rm": _rm,
    "mkdir": _mkdir,
    "touch": _touch,
    "chmod": _chmod,
    "ls": _ls,
    "md5sum": _md5sum,
    "grep": _grep,
    "egrep": lambda ctx: _grep(
        Ctx(["grep", "-E", *ctx.argv[1:]], ctx.stdin, ctx.shell, ctx.env, ctx.out, ctx.err)
    ),
    "head": _headtail,
    "tail": _headtail,
    "wc": _wc,
    "sleep": _sleep,
    "wait": _wait,
    "id": _id,
    "whoami": _whoami,
    "sh": _sh,
    "pwd": _pwd,
    "printf": _printf,
    "cd": _cd,
    "read": _read,
    "seq": _seq,
    "which": _which,
    "command": _command,
    "toybox": _toybox,
    "export": _export,
    "exec": _exec,
    "test": _test,
    "[": _test,
    "find": _find,
    "sync": _true,
}
