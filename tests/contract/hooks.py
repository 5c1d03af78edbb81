"""Schemathesis hooks for the contract run (scripts/contract.sh).

Idempotency-Key is left out of the generated requests: the API answers 422 when one key is
reused with another body (as Stripe does), and generated values repeat across cases, so valid
requests would fail for that reason alone. Idempotency has its own end-to-end tests
(tests/e2e/keys.test.mjs, modes.test.mjs).

`ast.parse` is serialised across the run's worker threads. CPython 3.11 keeps the AST
constructor's recursion counter in per-interpreter state, shared by threads (see CPython issue
gh-106905, reported from threaded programs), so two threads parsing at once can fail with
"SystemError: AST constructor recursion depth mismatch". Hypothesis parses the source of
lambdas to describe strategies, and with `--workers 2` on this machine's Python 3.11.7 one
contract run crashed that way on GET /exports/{id}: an error of the test tool, not of the API."""

import ast
import functools
import threading

import schemathesis

_AST_LOCK = threading.Lock()
_ast_parse = ast.parse


@functools.wraps(_ast_parse)
def _serialised_parse(*args, **kwargs):
    with _AST_LOCK:
        return _ast_parse(*args, **kwargs)


ast.parse = _serialised_parse


@schemathesis.hook
def before_load_schema(ctx, raw_schema):
    for item in raw_schema.get("paths", {}).values():
        for op in item.values():
            if isinstance(op, dict) and "parameters" in op:
                op["parameters"] = [p for p in op["parameters"] if p.get("name") != "Idempotency-Key"]
