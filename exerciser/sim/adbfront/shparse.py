"""Parsing for the served device's shell (mksh's grammar, the part adb clients send).

Words with '', "" and \\ quoting; `$VAR`, `${VAR}`, `$?`, `$!`, `$#`, `$1`..; `$((arithmetic))` and
`$(command)`; unquoted expansions split into fields as sh does. Lists joined by `;`, newline, `&&`, `||`,
`&`; pipelines; redirections; and the compound commands `for NAME [in WORDS]; do LIST; done`,
`while|until LIST; do LIST; done` and `if LIST; then LIST; [elif ...] [else LIST;] fi`.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field

# a part of a word: (kind, text, quoted); kind lit | var | arith | cmd
Part = tuple[str, str, bool]


class ShellSyntaxError(Exception):
    pass


@dataclass
class Word:
    parts: list[Part]
    quoted: bool = False

    @property
    def literal(self) -> str | None:
        if all(k == "lit" for k, _, _ in self.parts):
            return "".join(t for _, t, _ in self.parts)
        return None

    def expand(self, env: dict[str, str], run: Callable[[str], str] | None = None) -> str:
        return "".join(_part_value(p, env, run) for p in self.parts)

    def fields(self, env: dict[str, str], run: Callable[[str], str] | None = None) -> list[str]:
        """The word after expansion and field splitting: unquoted expansions split at blanks."""
        out: list[str] = []
        cur: list[str] = []
        have = False  # cur holds something (an empty quoted string counts)
        for p in self.parts:
            value = _part_value(p, env, run)
            if p[0] == "lit" or p[2]:
                cur.append(value)
                have = have or p[2] or bool(value)
                continue
            pieces = re.split(r"[ \t\n]+", value)
            if value[:1].isspace() and (have or cur):
                out.append("".join(cur))
                cur, have = [], False
            pieces = [s for s in pieces if s]
            for k, s in enumerate(pieces):
                cur.append(s)
                have = True
                if k < len(pieces) - 1:
                    out.append("".join(cur))
                    cur, have = [], False
            if value[-1:].isspace() and pieces:
                out.append("".join(cur))
                cur, have = [], False
        if have or cur and "".join(cur):
            out.append("".join(cur))
        elif self.quoted and not out:
            out.append("")
        return out


def _part_value(p: Part, env: dict[str, str], run: Callable[[str], str] | None) -> str:
    kind, text, _ = p
    if kind == "lit":
        return text
    if kind == "var":
        return env.get(text, "")
    if kind == "arith":
        return str(arith(text, env))
    return run(text).rstrip("\n") if run is not None else ""


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


class Pipeline(list):
    """Commands joined by `|`; `background` when the line puts it in the background with `&`."""

    background = False


Program = list[tuple[str, Pipeline]]  # [(connector before, pipeline)]; the first connector is ";"


@dataclass
class ForLoop:
    var: str
    words: list[Word] | None  # None: "$@"
    body: Program


@dataclass
class WhileLoop:
    cond: Program
    body: Program
    until: bool = False


@dataclass
class IfChain:
    branches: list[tuple[Program, Program]]
    orelse: Program | None = None


# --- tokens ------------------------------------------------------------------------------------------


def tokenize(line: str) -> list:
    """Tokens: ("op", text) | ("word", Word) | ("redir", fd, op)."""
    toks: list = []
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c in " \t\r":
            i += 1
            continue
        if c == "\\" and line[i : i + 2] == "\\\n":  # line continuation
            i += 2
            continue
        if c == "#":
            while i < n and line[i] != "\n":
                i += 1
            continue
        two = line[i : i + 2]
        if two in ("&&", "||", ";;"):
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
        word, i = _word(line, i)
        toks.append(("word", word))
    return toks


def _word(line: str, i: int) -> tuple[Word, int]:
    n = len(line)
    parts: list[Part] = []
    lit: list[str] = []
    quoted = False

    def flush(q: bool = False) -> None:
        if lit:
            parts.append(("lit", "".join(lit), q))
            lit.clear()

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
                    i = _dollar(line, i, parts, lit, flush, quoted=True)
                else:
                    lit.append(line[i])
                    i += 1
            if i >= n:
                raise ShellSyntaxError('unterminated "')
            i += 1
        elif c == "$":
            i = _dollar(line, i, parts, lit, flush, quoted=False)
        else:
            lit.append(c)
            i += 1
    flush()
    return Word(parts or [("lit", "", quoted)], quoted), i


def _closing(line: str, i: int) -> int:
    """Index just after the `)` that closes the `(` before i (quotes and nesting respected)."""
    depth, n = 1, len(line)
    while i < n:
        c = line[i]
        if c in "'\"":
            j = line.find(c, i + 1)
            if j < 0:
                break
            i = j + 1
            continue
        depth += (c == "(") - (c == ")")
        i += 1
        if depth == 0:
            return i
    raise ShellSyntaxError("unterminated $(")


def _dollar(line: str, i: int, parts: list[Part], lit: list[str], flush, quoted: bool) -> int:
    if line.startswith("$((", i):
        end = _closing(line, i + 2)
        if line[end - 2 : end] != "))":
            raise ShellSyntaxError("unterminated $((")
        flush()
        parts.append(("arith", line[i + 3 : end - 2], quoted))
        return end
    if line.startswith("$(", i):
        end = _closing(line, i + 2)
        flush()
        parts.append(("cmd", line[i + 2 : end - 1], quoted))
        return end
    m = re.match(r"\$(\?|!|#|\$|\{(\w+|\?|!|#)\}|[A-Za-z_]\w*|\d)", line[i:])
    if not m:
        lit.append("$")
        return i + 1
    flush()
    parts.append(("var", m.group(2) or m.group(1), quoted))
    return i + m.end()


# --- grammar -----------------------------------------------------------------------------------------

_RESERVED = {"do", "done", "then", "elif", "else", "fi", "in", "esac"}


class _Parser:
    def __init__(self, toks: list) -> None:
        self.toks = toks
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else None

    def keyword(self) -> str | None:
        t = self.peek()
        if t and t[0] == "word" and not t[1].quoted:
            return t[1].literal
        return None

    def expect(self, word: str) -> None:
        self.skip_separators()
        if self.keyword() != word:
            got = self.keyword() or (self.peek()[1] if self.peek() else "end of file")
            raise ShellSyntaxError(f"syntax error: '{got}' unexpected (expecting \"{word}\")")
        self.i += 1

    def skip_separators(self) -> None:
        while (t := self.peek()) and t[0] == "op" and t[1] in (";", "\n"):
            self.i += 1

    def program(self, stops: frozenset[str] = frozenset()) -> Program:
        out: Program = []
        conn = ";"
        while True:
            self.skip_separators() if conn in (";", "&") else self.skip_newlines()
            t = self.peek()
            if t is None or self.keyword() in stops:
                if conn in ("&&", "||"):
                    raise ShellSyntaxError(f"syntax error: unexpected end after '{conn}'")
                return out
            if t[0] == "op":
                raise ShellSyntaxError(f"syntax error: '{t[1]}' unexpected")
            if self.keyword() in _RESERVED:
                raise ShellSyntaxError(f"syntax error: '{self.keyword()}' unexpected")
            pipeline = self.pipeline()
            out.append((conn, pipeline))
            t = self.peek()
            if t is None:
                return out
            if t[0] == "op" and t[1] in ("&&", "||", ";", "&", "\n"):
                self.i += 1
                pipeline.background = t[1] == "&"
                conn = t[1] if t[1] in ("&&", "||") else ";"
            elif self.keyword() in stops:
                return out
            else:
                raise ShellSyntaxError(
                    f"syntax error: '{t[1] if t[0] != 'word' else t[1].literal}' unexpected"
                )

    def skip_newlines(self) -> None:
        while (t := self.peek()) and t == ("op", "\n"):
            self.i += 1

    def pipeline(self) -> Pipeline:
        p = Pipeline([self.command()])
        while (t := self.peek()) and t == ("op", "|"):
            self.i += 1
            self.skip_newlines()
            p.append(self.command())
        return p

    def command(self):
        kw = self.keyword()
        if kw == "for":
            self.i += 1
            name = self.keyword()
            if not name or not re.fullmatch(r"[A-Za-z_]\w*", name):
                raise ShellSyntaxError("syntax error: bad for loop variable")
            self.i += 1
            words: list[Word] | None = None
            self.skip_newlines()
            if self.keyword() == "in":
                self.i += 1
                words = []
                while (t := self.peek()) and t[0] == "word":
                    words.append(t[1])
                    self.i += 1
            self.expect("do")
            body = self.program(frozenset({"done"}))
            self.expect("done")
            return ForLoop(name, words, body)
        if kw in ("while", "until"):
            self.i += 1
            cond = self.program(frozenset({"do"}))
            self.expect("do")
            body = self.program(frozenset({"done"}))
            self.expect("done")
            return WhileLoop(cond, body, until=kw == "until")
        if kw == "if":
            self.i += 1
            branches = []
            orelse = None
            while True:
                cond = self.program(frozenset({"then"}))
                self.expect("then")
                body = self.program(frozenset({"elif", "else", "fi"}))
                branches.append((cond, body))
                k = self.keyword()
                self.i += 1
                if k == "elif":
                    continue
                if k == "else":
                    orelse = self.program(frozenset({"fi"}))
                    self.expect("fi")
                elif k != "fi":
                    raise ShellSyntaxError('syntax error: unexpected end of file (expecting "fi")')
                return IfChain(branches, orelse)
        return self.simple()

    def simple(self) -> Simple:
        cur = Simple()
        while (t := self.peek()) is not None:
            if t[0] == "op":
                break
            if t[0] == "redir":
                nxt = self.toks[self.i + 1] if self.i + 1 < len(self.toks) else None
                if nxt is None or nxt[0] != "word":
                    raise ShellSyntaxError("syntax error: redirection without target")
                cur.redirects.append(Redirect(t[1], t[2], nxt[1]))
                self.i += 2
                continue
            w = t[1]
            first = w.parts[0]
            if not cur.words and first[0] == "lit" and re.match(r"^[A-Za-z_]\w*=", first[1]):
                name, _, value = first[1].partition("=")
                cur.assigns.append((name, Word([("lit", value, True)] + w.parts[1:])))
            else:
                cur.words.append(w)
            self.i += 1
        if not (cur.words or cur.assigns or cur.redirects):
            raise ShellSyntaxError("syntax error: empty command")
        return cur


def parse(line: str) -> Program:
    """[(connector_before, pipeline), ...]; the first connector is ";"."""
    return _Parser(tokenize(line)).program()


# --- $(( )) ------------------------------------------------------------------------------------------

_BIN = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Mod: lambda a, b: int(a - b * int(a / b)),  # C's remainder: sign of the dividend
    ast.FloorDiv: lambda a, b: int(a / b),  # C's division truncates toward zero
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
    ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_,
    ast.BitXor: operator.xor,
}
_CMP = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


def arith(expr: str, env: dict[str, str]) -> int:
    """Integer arithmetic as mksh evaluates `$((...))`: variables by name or $name, C operators."""

    def value(name: str) -> str:
        v = env.get(name, "").strip()
        return v if re.fullmatch(r"-?\d+", v) else "0"

    text = re.sub(r"\$\{?(\w+)\}?", lambda m: value(m.group(1)), expr)
    text = re.sub(r"\b([A-Za-z_]\w*)\b", lambda m: value(m.group(1)), text)
    text = text.replace("&&", " and ").replace("||", " or ").replace("/", "//")
    text = re.sub(r"!(?!=)", " not ", text)
    try:
        return int(_eval(ast.parse(text.strip() or "0", mode="eval").body))
    except ZeroDivisionError:
        raise ShellSyntaxError(f"{expr.strip()}: divide by zero") from None
    except (SyntaxError, ValueError, TypeError):
        raise ShellSyntaxError(f"{expr.strip()}: syntax error in expression") from None


def _eval(node: ast.AST) -> int:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
        return _BIN[type(node.op)](_eval(node.left), _eval(node.right))
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand)
        if isinstance(node.op, ast.USub):
            return -v
        if isinstance(node.op, ast.UAdd):
            return v
        if isinstance(node.op, ast.Not):
            return int(not v)
        if isinstance(node.op, ast.Invert):
            return ~v
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _CMP:
        return int(_CMP[type(node.ops[0])](_eval(node.left), _eval(node.comparators[0])))
    if isinstance(node, ast.BoolOp):
        vals = [_eval(v) for v in node.values]
        return int(all(vals) if isinstance(node.op, ast.And) else any(vals))
    if isinstance(node, ast.IfExp):
        return _eval(node.body) if _eval(node.test) else _eval(node.orelse)
    raise ValueError("unsupported")
