"""Predicate speed: our small parser (compiled to closures) against an ``ast`` whitelist walker.

The alternative is the obvious one: parse with Python's own ``ast`` (mode ``eval``), refuse any
node outside a whitelist, and walk the tree for every evaluation. It needs no grammar of ours,
but it accepts Python's syntax (so errors read as Python errors) and re-walks nodes each time.
Measured: compile (parse once per rule at load) and evaluate (once per event per candidate rule),
over a mix of the predicates rules use. Also the kind index against a linear scan of 1,000 rules.

Last line: one JSON object (µs per compile / per evaluation for both, index vs scan).
"""

from __future__ import annotations

import argparse
import ast
import json
import operator
import time
from collections.abc import Callable
from typing import Any

from gateway.model.event import Event
from gateway.model.kinds import Phase
from gateway.rules.compiled import CompiledRule, event_scope
from gateway.rules.expr import compile_expression
from gateway.rules.index import KindIndex
from gateway.rules.model import Rule

PREDICATES = [
    "data.level >= 3",
    "zone in ['1', '2', '3'] and priority <= 2",
    "not (data.mode == 'stay') or glob(source, 'hq/panel-1/*')",
    "data.count > 2 and data.tags != null and 'night' in data.tags",
    "lower(text) == 'door forced' or data.nested.x == 'y'",
]
SCOPE: dict[str, Any] = {
    "kind": "intrusion",
    "priority": 2,
    "source": "hq/panel-1/zone-2",
    "zone": "2",
    "text": "Door forced",
    "data": {"level": 3, "mode": "away", "count": 3, "tags": ["night"], "nested": {"x": "y"}},
}

# -- the alternative: an ast whitelist evaluator ------------------------------------------------

_CMP: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_FUNCS: dict[str, Callable[..., Any]] = {
    "glob": lambda v, p: __import__("fnmatch").fnmatchcase(v, p),
    "lower": lambda v: v.lower() if isinstance(v, str) else None,
}
_ALLOWED = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.Compare,
    ast.Name, ast.Load, ast.Attribute, ast.Constant, ast.List, ast.Call, ast.Subscript,
    *_CMP,
)  # fmt: skip


def ast_compile(text: str) -> ast.Expression:
    tree = ast.parse(text.replace("null", "None"), mode="eval")
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ValueError(f"{type(node).__name__} is not allowed")
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise ValueError("private attribute")
    return tree


def ast_eval(node: ast.AST, scope: dict[str, Any]) -> Any:
    if isinstance(node, ast.Expression):
        return ast_eval(node.body, scope)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return scope.get(node.id)
    if isinstance(node, ast.Attribute):
        base = ast_eval(node.value, scope)
        return base.get(node.attr) if isinstance(base, dict) else None
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            return all(ast_eval(v, scope) for v in node.values)
        return any(ast_eval(v, scope) for v in node.values)
    if isinstance(node, ast.UnaryOp):
        value = ast_eval(node.operand, scope)
        return (not value) if isinstance(node.op, ast.Not) else -value
    if isinstance(node, ast.Compare):
        left = ast_eval(node.left, scope)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = ast_eval(comp, scope)
            try:
                if not _CMP[type(op)](left, right):
                    return False
            except TypeError:
                return False
            left = right
        return True
    if isinstance(node, ast.List):
        return [ast_eval(e, scope) for e in node.elts]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return _FUNCS[node.func.id](*(ast_eval(a, scope) for a in node.args))
    raise ValueError(f"cannot evaluate {type(node).__name__}")


# -- measuring ----------------------------------------------------------------------------------


def per_call_us(fn: Callable[[], Any], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def bench_predicates(n: int) -> dict[str, float]:
    ours = [compile_expression(p) for p in PREDICATES]
    theirs = [ast_compile(p) for p in PREDICATES]
    for a, b in zip(ours, theirs, strict=True):  # both must agree before we compare speed
        assert a(SCOPE) == bool(ast_eval(b, SCOPE))
    k = len(PREDICATES)
    return {
        "parser_compile_us": per_call_us(lambda: [compile_expression(p) for p in PREDICATES], n)
        / k,
        "ast_compile_us": per_call_us(lambda: [ast_compile(p) for p in PREDICATES], n) / k,
        "parser_eval_us": per_call_us(lambda: [f(SCOPE) for f in ours], n * 10) / k,
        "ast_eval_us": per_call_us(lambda: [ast_eval(t, SCOPE) for t in theirs], n * 10) / k,
    }


def bench_index(n_rules: int, n: int) -> dict[str, float]:
    kinds = ["intrusion", "fire", "door.forced", "panic.holdup", "trouble.ac_loss", "video.motion"]
    kinds += [f"vendor{i}.event" for i in range(4)]
    rules = [
        CompiledRule(
            Rule.model_validate(
                {
                    "name": f"r{i}",
                    "when": {"kind": kinds[i % len(kinds)], "where": "data.level >= 3"},
                    "then": [{"wait": 0}],
                }
            ),
            "UTC",
        )
        for i in range(n_rules)
    ]
    index = KindIndex(rules)
    event = Event(
        kind="intrusion", phase=Phase.ALARM, priority=2, source="hq/p/z", data=SCOPE["data"]
    )

    def indexed() -> int:
        scope = event_scope(event)
        return sum(1 for r in index.candidates(event.kind) if r.where and r.where(scope))

    def scanned() -> int:
        scope = event_scope(event)
        return sum(1 for r in rules if r.matches_kind(event.kind) and r.where and r.where(scope))

    assert indexed() == scanned() == n_rules // len(kinds)
    return {
        "index_us_per_event": per_call_us(indexed, n),
        "scan_us_per_event": per_call_us(scanned, n),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds (seconds, not tens)")
    args = parser.parse_args()
    n = 200 if args.quick else 2000
    result: dict[str, Any] = {"predicates": len(PREDICATES), "rounds": n}
    result.update(bench_predicates(n))
    result.update(bench_index(1000, n))
    result = {k: round(v, 2) if isinstance(v, float) else v for k, v in result.items()}
    for key, value in result.items():
        print(f"{key:>22}: {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
