"""A small POSIX-ish shell: enough of mksh/toybox sh for the command lines adb clients send.

adbutils appends `; echo X4EXIT:$?` to every command, uiautomator2 runs `CLASSPATH=... app_process ...`,
drivers pipe `dumpsys ... | grep ...` and redirect `2>/dev/null`. Supported: quoting ('', "", \\),
`$?`, `$!` and `$VAR`, `;` `&&` `||` and newlines, `&` (a background job, which `wait` waits for:
`screenrecord FILE & echo $!; wait`), pipes, `>`, `>>`, `<`, `2>`, `2>&1`, `&>`, leading `VAR=value`
assignments. Unknown commands answer like Android's sh: `/system/bin/sh: X: not found`, 127.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import itertools
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from exerciser.sim.adbfront.fs import VirtualFS

# --- parsing -----------------------------------------------------------------------------------------

_OPS = ("&&", "||", ";", "&", "|", "\n")


@dataclass
class Word:
    parts: list[tuple[str, str]]  # ("lit", text) | ("var", name)
    quoted: bool = False

    def expand(self, env: dict[str, str]) -> str:
        return "".join(t if k == "lit" else env.get(t, "") for k, t in self.parts)

    @property
    def literal(self) -> str | None:
        if all(k == "lit" for k, _ in self.parts):
            return "".join(t for _, t in self.parts)
        return None


@dataclass
class Redirect:
    fd: int
    op: str  # ">", ">>", "<", ">&"
    target: Word


@dataclass
class Simple:
    assigns: list[tuple[str, Word]] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)


class ShellSyntaxError(Exception):
    pass


def _tokenize(line: str) -> list:
    """Tokens: ("op", text) | ("word", Word) | ("redir", fd, op)."""
    toks: list = []
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c in " \t\r":
            i += 1
            continue
        if c == "#":
            while i < n and line[i] != "\n":
                i += 1
            continue
        two = line[i : i + 2]
        if two in ("&&", "||"):
            toks.append(("op", two))
            i += 2
            continue
        if two == "&>":
            toks.append(("redir", -1, ">"))
            i += 2
            continue
        if c in ";&|\n":
            toks.append(("op", c))
            i += 1
            continue
        m = re.match(r"(\d*)(>>|>&|>|<)", line[i:])
        if m:
            fd = int(m.group(1)) if m.group(1) else (0 if m.group(2) == "<" else 1)
            toks.append(("redir", fd, m.group(2)))
            i += m.end()
            continue
        # a word
        parts: list[tuple[str, str]] = []
        lit: list[str] = []
        quoted = False
        flush = _flusher(parts, lit)

        while i < n and line[i] not in " \t\r\n;&|<>":
            c = line[i]
            if c == "\\" and i + 1 < n:
                lit.append(line[i + 1])
                i += 2
            elif c == "'":
                j = line.find("'", i + 1)
                if j < 0:
                    raise ShellSyntaxError("unterminated '")
                lit.append(line[i + 1 : j])
                quoted = True
                i = j + 1
            elif c == '"':
                quoted = True
                i += 1
                while i < n and line[i] != '"':
                    if line[i] == "\\" and i + 1 < n and line[i + 1] in '"\\$`':
                        lit.append(line[i + 1])
                        i += 2
                    elif line[i] == "$":
                        i = _var(line, i, parts, lit, flush)
                    else:
                        lit.append(line[i])
                        i += 1
                if i >= n:
                    raise ShellSyntaxError('unterminated "')
                i += 1
            elif c == "$":
                i = _var(line, i, parts, lit, flush)
            else:
                lit.append(c)
                i += 1
        flush()
        toks.append(("word", Word(parts or [("lit", "")], quoted)))
    return toks


def _flusher(parts: list[tuple[str, str]], lit: list[str]):
    """Move pending literal characters into `parts` (before a variable, at the end of a word)."""

    def flush() -> None:
        if lit:
            parts.append(("lit", "".join(lit)))
            lit.clear()

    return flush


def _var(line: str, i: int, parts, lit, flush) -> int:
    m = re.match(r"\$(\?|!|\{(\w+)\}|\w+)", line[i:])
    if not m:
        lit.append("$")
        return i + 1
    flush()
    parts.append(("var", m.group(2) or m.group(1)))
    return i + m.end()


class Pipeline(list):
    """Simple commands joined by `|`; `background` when the line puts it in the background with `&`."""

    background = False


def parse(line: str) -> list[tuple[str, Pipeline]]:
    """[(connector_before, pipeline), ...]; the first connector is ";"."""
    toks = _tokenize(line)
    out: list[tuple[str, Pipeline]] = []
    conn = ";"
    pipeline = Pipeline()
    cur = Simple()
    i = 0

    def end_simple() -> None:
        nonlocal cur
        if cur.words or cur.assigns or cur.redirects:
            pipeline.append(cur)
        cur = Simple()

    while i < len(toks):
        t = toks[i]
        if t[0] == "word":
            w = t[1]
            lit = w.literal
            if not cur.words and lit and not w.quoted and re.match(r"^[A-Za-z_]\w*=", lit):
                name, _, value = lit.partition("=")
                cur.assigns.append((name, Word([("lit", value)])))
            elif (
                not cur.words
                and w.parts
                and w.parts[0][0] == "lit"
                and re.match(r"^[A-Za-z_]\w*=", w.parts[0][1])
            ):
                name, _, first = w.parts[0][1].partition("=")
                cur.assigns.append((name, Word([("lit", first)] + w.parts[1:])))
            else:
                cur.words.append(w)
        elif t[0] == "redir":
            if i + 1 >= len(toks) or toks[i + 1][0] != "word":
                raise ShellSyntaxError("syntax error: redirection without target")
            cur.redirects.append(Redirect(t[1], t[2], toks[i + 1][1]))
            i += 1
        else:  # op
            op = t[1]
            if op == "|":
                end_simple()
            else:
                end_simple()
                if pipeline:
                    pipeline.background = op == "&"
                    out.append((conn, pipeline))
                elif op in ("&&", "||", "&"):
                    raise ShellSyntaxError(f"syntax error: unexpected '{op}'")
                pipeline = Pipeline()
                conn = ";" if op in ("&", "\n") else op
        i += 1
    end_simple()
    if pipeline:
        out.append((conn, pipeline))
    return out


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
        self.env: dict[str, str] = {
            "?": "0",
            "PATH": "/sbin:/system/sbin:/system/bin:/system/xbin",
            "HOME": "/",
            "USER": "shell",
            "TMPDIR": "/data/local/tmp",
        }

    def run(self, line: str) -> tuple[bytes, bytes, int]:
        """Whole command line -> (stdout, stderr, exit status)."""
        out, err = bytearray(), bytearray()
        try:
            program = parse(line)
        except ShellSyntaxError as exc:
            return b"", f"/system/bin/sh: {exc}\n".encode(), 1
        status = 0
        for conn, pipeline in program:
            if (conn == "&&" and status != 0) or (conn == "||" and status == 0):
                continue
            if pipeline.background:
                self._background(pipeline)
                status = 0
                continue
            o, e, status = self._pipeline(pipeline)
            self.env["?"] = str(status)
            if self.session is not None:
                self.session.emit(o, e)
            else:
                out += o
                err += e
        return bytes(out), bytes(err), status

    def _background(self, pipeline: Pipeline) -> None:
        """`cmd &`: run on its own thread (a recorder blocks until signalled); its output goes to the
        session as it ends, like a job writing to the shell's terminal."""
        pid = next(_PIDS)
        job_shell = Shell(self.fs, self.commands, self.session)
        job_shell.env = dict(self.env)
        job_shell._pid = pid

        def run() -> None:
            o, e, job.status = job_shell._pipeline(pipeline)
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

    def _pipeline(self, pipeline: list[Simple]) -> tuple[bytes, bytes, int]:
        data = b""
        err = bytearray()
        status = 0
        for k, simple in enumerate(pipeline):
            out, e, status = self._simple(simple, data, last=k == len(pipeline) - 1)
            err += e
            data = out
        return data, bytes(err), status

    def _simple(self, simple: Simple, stdin: bytes, last: bool) -> tuple[bytes, bytes, int]:
        env = dict(self.env)
        for name, w in simple.assigns:
            env[name] = w.expand(env)
        argv = [w.expand(env) for w in simple.words]
        for r in simple.redirects:
            if r.op == "<":
                if r.target.expand(env) == "/dev/null":
                    stdin = b""
                    continue
                e = self.fs.get(r.target.expand(env))
                if e is None:
                    return (
                        b"",
                        f"/system/bin/sh: can't open '{r.target.expand(env)}': No such file\n".encode(),
                        1,
                    )
                stdin = e.data
        if not argv:
            self.env.update({k: v for k, v in env.items() if k != "?"})
            return b"", b"", 0
        ctx = Ctx(argv, stdin, self, env, pid=self._pid)
        fn = self.commands.get(argv[0].rsplit("/", 1)[-1] if argv[0].startswith("/system/") else argv[0])
        if fn is None:
            ctx.eprint(f"/system/bin/sh: {argv[0]}: not found")
            status = 127
        else:
            try:
                status = fn(ctx)
            except _Exit as ex:
                status = ex.code
        out, err = bytes(ctx.out), bytes(ctx.err)
        for r in simple.redirects:
            if r.op == "<":
                continue
            target = r.target.expand(env)
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
                old = self.fs.get(target)
                if r.op == ">>" and old is not None and not old.is_dir:
                    data = old.data + data
                msg = self.fs.write(target, data)
                if msg:
                    err += f"/system/bin/sh: can't create {target}: {msg}\n".encode()
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
        e = ctx.shell.fs.get(f)
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
        msg = ctx.shell.fs.remove(f, recursive="r" in flags or "R" in flags)
        if msg and "f" not in flags:
            ctx.eprint(msg)
            status = 1
    return status


def _mkdir(ctx: Ctx) -> int:
    parents = "-p" in ctx.argv[1:]
    status = 0
    for d in (a for a in ctx.argv[1:] if not a.startswith("-")):
        msg = ctx.shell.fs.mkdir(d, parents)
        if msg:
            ctx.eprint(msg)
            status = 1
    return status


def _touch(ctx: Ctx) -> int:
    for f in (a for a in ctx.argv[1:] if not a.startswith("-")):
        if ctx.shell.fs.get(f) is None:
            ctx.shell.fs.write(f, b"")
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
        msg = ctx.shell.fs.chmod(f, mode)
        if msg:
            ctx.eprint(msg)
            status = 1
    return status


def _ls(ctx: Ctx) -> int:
    flags = "".join(a[1:] for a in ctx.argv[1:] if a.startswith("-"))
    targets = [a for a in ctx.argv[1:] if not a.startswith("-")] or ["."]
    status = 0
    for t in targets:
        path = "/" if t == "." else t
        e = ctx.shell.fs.get(path)
        if e is None:
            ctx.eprint(f"ls: {t}: No such file or directory")
            status = 1
            continue
        items = [(t.rsplit("/", 1)[-1], e)] if not e.is_dir else (ctx.shell.fs.listdir(path) or [])
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
        e = ctx.shell.fs.get(f)
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
        e = ctx.shell.fs.get(rest[0])
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
    if len(ctx.argv) >= 3 and ctx.argv[1] == "-c":
        out, err, status = ctx.shell.run(ctx.argv[2])
        ctx.out += out
        ctx.err += err
        return status
    ctx.out += b""
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
        e = ctx.shell.fs.get(args[1])
        ok = e is not None and (args[0] == "-e" or (args[0] == "-d") == e.is_dir)
        return 0 if ok else 1
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
        for name, e in ctx.shell.fs.listdir(p) or []:
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
