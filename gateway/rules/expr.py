"""The predicate language of rules: a small parser compiled once into Python closures.

No ``eval`` and no Python syntax tree: a rule file is configuration, and an installer's typo must
never run code. The grammar is just what ``when.where`` needs::

    expr   := or
    or     := and ("or" and)*
    and    := not ("and" not)*
    not    := "not" not | cmp
    cmp    := value (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in") value)?
    value  := NUMBER | STRING | true | false | null | "-" NUMBER | "[" list "]" | "(" expr ")"
            | NAME "(" args ")" | NAME ("." NAME | "[" (STRING | NUMBER) "]")*

Names are the event's fields (``kind``, ``source``, ``priority``, ``data`` …); a missing field or
key reads as ``null``. Comparing values that cannot be ordered (a number with ``null``) is false,
never an error, so a predicate cannot crash the engine on an odd event.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Scope = Mapping[str, Any]
Compiled = Callable[[Scope], Any]

EVENT_FIELDS = frozenset(
    {
        "kind",
        "phase",
        "priority",
        "source",
        "area",
        "zone",
        "user",
        "plugin",
        "protocol",
        "code",
        "text",
        "data",
        "device",
    }
)
"""The names a predicate may read (``device`` is the ``site/device`` part of ``source``)."""


class ExpressionError(ValueError):
    """A predicate that does not parse; the message names the column."""

    def __init__(self, text: str, pos: int, problem: str) -> None:
        self.pos = pos
        super().__init__(f"{problem} at column {pos + 1} of {text!r}")


@dataclass(frozen=True, slots=True)
class Token:
    type: str  # num, str, name, op, end
    value: Any
    pos: int


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>\d+(?:\.\d+)?)
    | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,|\.|-)
    )""",
    re.VERBOSE,
)
_ESCAPE = re.compile(r"\\(.)")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.lastgroup is None:
            at = len(text) - len(text[pos:].lstrip())
            raise ExpressionError(text, at, f"unexpected character {text[at]!r}")
        kind, raw = m.lastgroup, m.group(m.lastgroup)
        start = m.start(kind)
        value: Any = raw
        if kind == "num":
            value = float(raw) if "." in raw else int(raw)
        elif kind == "str":
            value = _ESCAPE.sub(r"\1", raw[1:-1])
        tokens.append(Token(kind, value, start))
        pos = m.end()
    tokens.append(Token("end", None, len(text)))
    return tokens


def _ordered(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(a: Any, b: Any) -> bool:
        if a is None or b is None or isinstance(a, bool) or isinstance(b, bool):
            return False
        numbers = isinstance(a, int | float) and isinstance(b, int | float)
        if not numbers and type(a) is not type(b):
            return False
        try:
            return op(a, b)
        except TypeError:
            return False

    return compare


def _contains(a: Any, b: Any) -> bool:
    if isinstance(b, str):
        return isinstance(a, str) and a in b
    if isinstance(b, list | tuple | dict | frozenset | set):
        try:
            return a in b
        except TypeError:
            return False
    return False


COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: bool(a == b),
    "!=": lambda a, b: bool(a != b),
    "<": _ordered(lambda a, b: bool(a < b)),
    "<=": _ordered(lambda a, b: bool(a <= b)),
    ">": _ordered(lambda a, b: bool(a > b)),
    ">=": _ordered(lambda a, b: bool(a >= b)),
    "in": _contains,
    "not in": lambda a, b: not _contains(a, b),
}


def _glob(value: Any, pattern: Any) -> bool:
    if not (isinstance(value, str) and isinstance(pattern, str)):
        return False
    return fnmatch.fnmatchcase(value, pattern)


def _startswith(value: Any, prefix: Any) -> bool:
    return isinstance(value, str) and isinstance(prefix, str) and value.startswith(prefix)


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else None


def _len(value: Any) -> Any:
    return len(value) if isinstance(value, str | list | dict) else None


FUNCTIONS: dict[str, tuple[int, Callable[..., Any]]] = {
    "glob": (2, _glob),
    "startswith": (2, _startswith),
    "lower": (1, _lower),
    "len": (1, _len),
}
"""Name → (argument count, function): all pure, none can reach outside its arguments."""

_CONSTANTS: dict[str, Any] = {"true": True, "false": False, "null": None}


def _lookup(root: str, path: tuple[str | int, ...]) -> Compiled:
    if not path:
        return lambda scope: scope.get(root)

    def get(scope: Scope) -> Any:
        value = scope.get(root)
        for key in path:
            if isinstance(key, str) and isinstance(value, dict):
                value = value.get(key)
            elif isinstance(key, int) and isinstance(value, list) and key < len(value):
                value = value[key]
            else:
                return None
        return value

    return get


@dataclass(frozen=True, slots=True)
class Guard:
    """``name.path == constant`` that must hold for the whole predicate to hold (a top-level
    conjunct): the rules index looks rules up by it instead of evaluating each one."""

    root: str
    path: tuple[str | int, ...]
    value: Any


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        # What the closures are, by id, while parsing: lookups, constants, equality tests, and
        # the parts of an ``and`` (to find the guards of the whole expression).
        self._lookups: dict[int, tuple[str, tuple[str | int, ...]]] = {}
        self._constants: dict[int, Any] = {}
        self._guards: dict[int, Guard] = {}
        self._conjuncts: dict[int, list[Compiled]] = {}
        self._keep: list[Compiled] = []  # ids stay unique while the parser lives

    def guards(self, node: Compiled) -> list[Guard]:
        parts = self._conjuncts.get(id(node), [node])
        return [self._guards[id(p)] for p in parts if id(p) in self._guards]

    def _remember(self, table: dict[int, Any], fn: Compiled, what: Any) -> Compiled:
        table[id(fn)] = what
        self._keep.append(fn)
        return fn

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def error(self, problem: str, tok: Token | None = None) -> ExpressionError:
        return ExpressionError(self.text, (tok or self.tok).pos, problem)

    def accept(self, type_: str, value: Any = None) -> Token | None:
        t = self.tok
        if t.type == type_ and (value is None or t.value == value):
            self.i += 1
            return t
        return None

    def expect(self, type_: str, value: Any, what: str) -> Token:
        t = self.accept(type_, value)
        if t is None:
            found = "the end" if self.tok.type == "end" else repr(self.tok.value)
            raise self.error(f"expected {what}, found {found}")
        return t

    def parse(self) -> Compiled:
        if self.tok.type == "end":
            raise self.error("empty expression")
        node = self.or_()
        if self.tok.type != "end":
            raise self.error(f"unexpected {self.tok.value!r}")
        return node

    def or_(self) -> Compiled:
        parts = [self.and_()]
        while self.accept("name", "or"):
            parts.append(self.and_())
        if len(parts) == 1:
            return parts[0]
        return lambda scope: any(p(scope) for p in parts)

    def and_(self) -> Compiled:
        parts = [self.not_()]
        while self.accept("name", "and"):
            parts.append(self.not_())
        if len(parts) == 1:
            return parts[0]
        return self._remember(self._conjuncts, lambda scope: all(p(scope) for p in parts), parts)

    def not_(self) -> Compiled:
        if self.accept("name", "not"):
            inner = self.not_()
            return lambda scope: not inner(scope)
        return self.comparison()

    def comparison(self) -> Compiled:
        left = self.value()
        op: str | None = None
        t = self.tok
        if t.type == "op" and t.value in COMPARISONS:
            op = t.value
            self.i += 1
        elif self.accept("name", "in"):
            op = "in"
        elif t.type == "name" and t.value == "not" and self.tokens[self.i + 1].value == "in":
            self.i += 2
            op = "not in"
        if op is None:
            return left
        right = self.value()
        fn = COMPARISONS[op]
        node: Compiled = lambda scope: fn(left(scope), right(scope))  # noqa: E731
        if op == "==":
            for name, constant in ((left, right), (right, left)):
                if id(name) in self._lookups and id(constant) in self._constants:
                    root, path = self._lookups[id(name)]
                    guard = Guard(root, path, self._constants[id(constant)])
                    return self._remember(self._guards, node, guard)
        return node

    def value(self) -> Compiled:
        t = self.tok
        if t.type in ("num", "str"):
            self.i += 1
            constant = t.value
            return self._remember(self._constants, lambda scope: constant, constant)
        if self.accept("op", "-"):
            num = self.expect("num", None, "a number after '-'")
            negative = -num.value
            return self._remember(self._constants, lambda scope: negative, negative)
        if self.accept("op", "("):
            inner = self.or_()
            self.expect("op", ")", "')'")
            return inner
        if self.accept("op", "["):
            return self.list_()
        if t.type == "name":
            return self.name()
        found = "the end" if t.type == "end" else repr(t.value)
        raise self.error(f"expected a value, found {found}")

    def list_(self) -> Compiled:
        items: list[Compiled] = []
        if not self.accept("op", "]"):
            items.append(self.value())
            while self.accept("op", ","):
                items.append(self.value())
            self.expect("op", "]", "']' or ','")
        return lambda scope: [item(scope) for item in items]

    def name(self) -> Compiled:
        t = self.tok
        self.i += 1
        name: str = t.value
        if name in _CONSTANTS:
            constant = _CONSTANTS[name]
            return self._remember(self._constants, lambda scope: constant, constant)
        if self.tok.type == "op" and self.tok.value == "(":
            return self.call(t)
        if name in ("and", "or", "not", "in"):
            raise self.error(f"expected a value, found {name!r}", t)
        if name not in EVENT_FIELDS:
            raise self.error(
                f"unknown name {name!r} (use one of: {', '.join(sorted(EVENT_FIELDS))})", t
            )
        path: list[str | int] = []
        while True:
            if self.accept("op", "."):
                path.append(self.expect("name", None, "a field name after '.'").value)
            elif self.accept("op", "["):
                key = self.tok
                if key.type not in ("str", "num") or isinstance(key.value, float):
                    raise self.error("expected a string or integer index")
                self.i += 1
                path.append(key.value)
                self.expect("op", "]", "']'")
            else:
                break
        return self._remember(self._lookups, _lookup(name, tuple(path)), (name, tuple(path)))

    def call(self, t: Token) -> Compiled:
        if t.value not in FUNCTIONS:
            raise self.error(
                f"unknown function {t.value!r} (available: {', '.join(sorted(FUNCTIONS))})", t
            )
        arity, fn = FUNCTIONS[t.value]
        self.expect("op", "(", "'('")
        args: list[Compiled] = []
        if not self.accept("op", ")"):
            args.append(self.or_())
            while self.accept("op", ","):
                args.append(self.or_())
            self.expect("op", ")", "')' or ','")
        if len(args) != arity:
            raise self.error(f"{t.value}() takes {arity} argument(s), got {len(args)}", t)
        if arity == 1:
            (a,) = args
            return lambda scope: fn(a(scope))
        a, b = args
        return lambda scope: fn(a(scope), b(scope))


def compile_expression(text: str) -> Callable[[Scope], bool]:
    """Parse ``text`` once; the result decides an event's scope. ExpressionError if malformed."""
    return compile_with_guards(text)[0]


def compile_with_guards(text: str) -> tuple[Callable[[Scope], bool], list[Guard]]:
    """:func:`compile_expression`, and the equality tests the whole expression needs."""
    parser = _Parser(text)
    node = parser.parse()
    return (lambda scope: bool(node(scope))), parser.guards(node)


def lookup(root: str, path: tuple[str | int, ...]) -> Compiled:
    """How a predicate reads ``root.path`` from a scope (for the rules index)."""
    return _lookup(root, path)
