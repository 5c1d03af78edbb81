#!/usr/bin/env python3
"""Architecture check: the crate's layers, and no import ring.

Layers, inner to outer, by top-level module of the crate:
  0 domain  every top-level module not named below (lca, factors, catalog, certs, odata,
            blancco, export, pdf, audit, limits, keys, validation, client, secure, version,
            testing, ..., and any new one)
  1 store   src/store/
  2 edge    src/edge/
  3 jobs    src/jobs/
  4 api     src/api/
A file may import only from its own layer or an inner one. src/lib.rs (the crate root) is
exempt. Exception to the "pure = domain" intuition: the pure, natively compiled files of
src/api/ (problem.rs, routes.rs, openapi.rs, access.rs, views.rs) are still layer 4, so
domain modules must not import them.

No import ring: module files (src/a/b.rs and src/a/b/mod.rs are `a::b`) with an edge X -> Y
when file X refers to module Y != X; every strongly connected component of more than one
file is a violation.

A reference is a `crate::`, `super::` or `self::` path (in a `use` tree or inline in code,
tests included), or a path that starts with a module declared by `mod` in the same scope;
it resolves to the longest prefix that is a module file (a path that stops at the crate root
names no module file and is ignored; --graph lists it). `mod x;` declarations, comments, doc
comments and string literals are not references.

Usage: python3 scripts/layers.py [--graph] [--quiet] [--self-test] [ROOT]
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile

LAYERS = {"store": 1, "edge": 2, "jobs": 3, "api": 4}
LAYER_NAMES = ["domain", "store", "edge", "jobs", "api"]
KEYWORDS_PATH_START = {"crate", "super", "self", "$crate"}


# --------------------------------------------------------------------------- lexer

class Tok:
    __slots__ = ("kind", "text", "line")

    def __init__(self, kind: str, text: str, line: int):
        self.kind = kind  # "ident", "punct", "lit"
        self.text = text
        self.line = line

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"{self.kind}:{self.text}@{self.line}"


def _is_ident_start(c: str) -> bool:
    return c == "_" or c.isalpha()


def _is_ident_char(c: str) -> bool:
    return c == "_" or c.isalnum()


def lex(src: str) -> list[Tok]:
    """Rust tokens, with comments dropped and string/char literals reduced to one opaque token."""
    toks: list[Tok] = []
    i, n, line = 0, len(src), 1

    def count_lines(a: int, b: int) -> int:
        return src.count("\n", a, b)

    while i < n:
        c = src[i]
        if c == "\n":
            line += 1
            i += 1
            continue
        if c.isspace():
            i += 1
            continue
        # comments (//, ///, //!, /* */ nested, /** */, /*! */)
        if c == "/" and i + 1 < n and src[i + 1] == "/":
            j = src.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == "/" and i + 1 < n and src[i + 1] == "*":
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth += 1
                    j += 2
                elif src.startswith("*/", j):
                    depth -= 1
                    j += 2
                else:
                    j += 1
            line += count_lines(i, j)
            i = j
            continue
        # raw strings: r"..", r#".."#, br#".."#, cr#".."#
        if c in "rbc":
            j = i
            if src.startswith("br", j) or src.startswith("cr", j):
                j += 2
            elif c == "r":
                j += 1
            else:
                j = -1
            if j > 0:
                k = j
                while k < n and src[k] == "#":
                    k += 1
                if k < n and src[k] == '"':
                    hashes = k - j
                    end = src.find('"' + "#" * hashes, k + 1)
                    end = n if end < 0 else end + 1 + hashes
                    toks.append(Tok("lit", "<str>", line))
                    line += count_lines(i, end)
                    i = end
                    continue
        # byte / C strings b"..", c"..", byte char b'x'
        if c in "bc" and i + 1 < n and src[i + 1] == '"':
            i += 1
            c = '"'
        elif c == "b" and i + 1 < n and src[i + 1] == "'":
            i += 1
            c = "'"
        if c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            j = min(j + 1, n)
            toks.append(Tok("lit", "<str>", line))
            line += count_lines(i, j)
            i = j
            continue
        if c == "'":
            # char literal or lifetime / label
            if i + 1 < n and src[i + 1] == "\\":
                j = i + 2
                while j < n and src[j] != "'" and src[j] != "\n":
                    j += 1
                toks.append(Tok("lit", "<char>", line))
                i = j + 1
                continue
            if i + 2 < n and src[i + 2] == "'":
                toks.append(Tok("lit", "<char>", line))
                i += 3
                continue
            j = i + 1
            while j < n and _is_ident_char(src[j]):
                j += 1
            toks.append(Tok("lifetime", src[i:j], line))
            i = max(j, i + 1)
            continue
        # raw identifier r#name
        if c == "r" and src.startswith("r#", i) and i + 2 < n and _is_ident_start(src[i + 2]):
            j = i + 2
            while j < n and _is_ident_char(src[j]):
                j += 1
            toks.append(Tok("ident", src[i + 2:j], line))
            i = j
            continue
        if _is_ident_start(c) or (c == "$" and i + 1 < n and _is_ident_start(src[i + 1])):
            j = i + 1
            while j < n and _is_ident_char(src[j]):
                j += 1
            toks.append(Tok("ident", src[i:j], line))
            i = j
            continue
        if c.isdigit():
            j = i + 1
            while j < n and (_is_ident_char(src[j]) or (src[j] == "." and j + 1 < n and src[j + 1].isdigit())):
                j += 1
            toks.append(Tok("lit", "<num>", line))
            i = j
            continue
        if src.startswith("::", i):
            toks.append(Tok("punct", "::", line))
            i += 2
            continue
        toks.append(Tok("punct", c, line))
        i += 1
    return toks


# --------------------------------------------------------------------------- references

class Ref:
    __slots__ = ("segs", "line", "kind")

    def __init__(self, segs: tuple, line: int, kind: str):
        self.segs = segs  # absolute path of segments from the crate root (may include items)
        self.line = line
        self.kind = kind  # "use" or "path"


def _parse_use_tree(toks: list[Tok], i: int, prefix: list, out: list) -> int:
    """Parse one use tree starting at toks[i]; append (segments, line) to out. Returns next index."""
    segs = list(prefix)
    last_line = toks[i].line if i < len(toks) else 0
    n = len(toks)
    if i < n and toks[i].text == "::":  # leading `::` = extern crate path
        segs.append("::")
        i += 1
    while i < n:
        t = toks[i]
        if t.text == "{":
            i += 1
            while i < n and toks[i].text != "}":
                if toks[i].text == ",":
                    i += 1
                    continue
                i = _parse_use_tree(toks, i, segs, out)
            return i + 1 if i < n else i
        if t.text == "*":
            out.append((tuple(segs), t.line))
            return i + 1
        if t.kind == "ident":
            segs.append(t.text)
            last_line = t.line
            i += 1
            if i < n and toks[i].text == "::":
                i += 1
                continue
            if i < n and toks[i].text == "as":
                i += 2  # `as name` / `as _`
            out.append((tuple(segs), last_line))
            return i
        # anything unexpected (`,`, `}`, `;`): end of this tree
        if segs != list(prefix):
            out.append((tuple(segs), last_line))
        return i
    return i


class FileScan:
    def __init__(self, module: tuple):
        self.module = module
        self.refs: list[Ref] = []


def scan_file(src: str, module: tuple) -> FileScan:
    """Find every reference in one file. `module` is the file's module path."""
    toks = lex(src)
    fs = FileScan(module)
    n = len(toks)

    # pass 1: module declarations per scope (so bare `use x::..` of a declared sibling resolves)
    # scope stack entries: (scope path, brace depth at which the inline module body opened)
    declared: dict[tuple, set] = {}

    def walk(visit):
        stack = [(module, -1)]
        depth = 0
        i = 0
        while i < n:
            t = toks[i]
            if t.text == "{":
                depth += 1
            elif t.text == "}":
                depth -= 1
                if len(stack) > 1 and stack[-1][1] == depth:
                    stack.pop()
            elif (t.kind == "ident" and t.text == "mod" and i + 2 < n
                  and toks[i + 1].kind == "ident" and toks[i + 2].text in ("{", ";")):
                name = toks[i + 1].text
                scope = stack[-1][0]
                declared.setdefault(scope, set()).add(name)
                if toks[i + 2].text == "{":
                    stack.append((scope + (name,), depth))
                    depth += 1
                    i += 3
                    continue
                i += 3  # `mod x;` is a declaration, not a reference
                continue
            i = visit(i, stack[-1][0])
            continue
        return

    def skip(i, scope):
        return i + 1

    walk(skip)

    def absolute(segs: tuple, scope: tuple):
        """Absolute segments from the crate root, or None for an external / unknown path."""
        if not segs:
            return None
        head = segs[0]
        if head in ("crate", "$crate"):
            base, rest = (), list(segs[1:])
        elif head == "self":
            base, rest = scope, list(segs[1:])
        elif head == "super":
            base, rest = scope, list(segs)
            while rest and rest[0] == "super":
                if not base:
                    return None  # above the crate root
                base = base[:-1]
                rest = rest[1:]
        elif head in declared.get(scope, ()):
            base, rest = scope, list(segs)
        else:
            return None
        # a `self` inside a use group (`use crate::a::{self, b}`) names the prefix itself
        rest = [s for s in rest if s != "self"]
        return tuple(base) + tuple(rest)

    def visit(i, scope):
        t = toks[i]
        prev = toks[i - 1] if i > 0 else None
        if t.kind == "ident" and t.text == "use" and not (prev and prev.text == "::"):
            trees: list = []
            j = _parse_use_tree(toks, i + 1, [], trees)
            for segs, line in trees:
                if segs and segs[0] == "::":
                    continue
                a = absolute(segs, scope)
                if a is not None:
                    fs.refs.append(Ref(a, line, "use"))
            # skip to the end of the use item
            while j < n and toks[j].text != ";":
                j += 1
            return j + 1
        if (t.kind == "ident" and i + 1 < n and toks[i + 1].text == "::"
                and not (prev and prev.text == "::")
                and (t.text in KEYWORDS_PATH_START or t.text in declared.get(scope, ()))):
            # `pub(in crate::a)` is a visibility restriction, not a reference
            if prev and prev.text == "in" and i >= 3 and toks[i - 2].text == "(":
                j = i
                while j < n and toks[j].text != ")":
                    j += 1
                return j
            segs = [t.text]
            line = t.line
            j = i + 1
            while j + 1 < n and toks[j].text == "::" and toks[j + 1].kind == "ident":
                segs.append(toks[j + 1].text)
                line = toks[j + 1].line
                j += 2
            a = absolute(tuple(segs), scope)
            if a is not None:
                fs.refs.append(Ref(a, line, "path"))
            return j
        return i + 1

    walk(visit)
    return fs


# --------------------------------------------------------------------------- the tree

def module_of(rel: str) -> tuple:
    """src-relative path -> module path. lib.rs -> (), a.rs -> (a,), a/b/mod.rs -> (a, b)."""
    parts = rel.replace(os.sep, "/").split("/")
    if parts == ["lib.rs"] or parts == ["main.rs"]:
        return ()
    last = parts[-1]
    if last == "mod.rs":
        return tuple(parts[:-1])
    return tuple(parts[:-1]) + (last[:-3],)


def mod_name(m: tuple) -> str:
    return "::".join(m) if m else "crate"


def layer_of(m: tuple):
    if not m:
        return None  # the crate root: exempt
    return LAYERS.get(m[0], 0)


def layer_label(m: tuple) -> str:
    l = layer_of(m)
    return f"{LAYER_NAMES[l]} (layer {l})"


class Check:
    def __init__(self, root: str):
        self.root = root
        self.src = os.path.join(root, "src")
        self.files: dict[tuple, str] = {}  # module -> display path
        self.scans: dict[tuple, FileScan] = {}
        # edges[(x, y)] = [line, ...] (x, y module paths of files)
        self.edges: dict[tuple, list] = {}
        self.violations: list[tuple] = []  # (kind, text)
        self.unresolved: list[tuple] = []  # (module, Ref) resolving only to the crate root

    def load(self) -> None:
        for dirpath, dirnames, filenames in os.walk(self.src):
            dirnames.sort()
            for f in sorted(filenames):
                if not f.endswith(".rs"):
                    continue
                full = os.path.join(dirpath, f)
                rel = os.path.relpath(full, self.src)
                m = module_of(rel)
                disp = os.path.relpath(full, self.root).replace(os.sep, "/")
                if m in self.files:
                    # both a.rs and a/mod.rs: keep the first, report the clash as a ring-free note
                    self.violations.append(("dup", f"{disp}:1: module `{mod_name(m)}` also defined by {self.files[m]}"))
                    continue
                self.files[m] = disp
                with open(full, encoding="utf-8", errors="replace") as fh:
                    self.scans[m] = scan_file(fh.read(), m)

    def resolve(self, segs: tuple):
        for k in range(len(segs), -1, -1):
            if segs[:k] in self.files:
                return segs[:k]
        return None

    def build(self) -> None:
        for m, fs in self.scans.items():
            for r in fs.refs:
                tgt = self.resolve(r.segs)
                if tgt == ():
                    # the crate root holds only `mod` declarations: a path that stops there names
                    # no module file (e.g. a module behind a cfg or not written yet)
                    self.unresolved.append((m, r))
                    continue
                if tgt is None or tgt == m:
                    continue
                self.edges.setdefault((m, tgt), []).append(r.line)
        for k in self.edges:
            self.edges[k] = sorted(set(self.edges[k]))

    def check_layers(self) -> None:
        for (x, y), lines in sorted(self.edges.items(), key=lambda kv: (self.files[kv[0][0]], kv[1][0])):
            lx, ly = layer_of(x), layer_of(y)
            if lx is None or ly is None or ly <= lx:
                continue
            more = ""
            if len(lines) > 1:
                more = f" (also line{'s' if len(lines) > 2 else ''} {', '.join(map(str, lines[1:]))})"
            self.violations.append((
                "layer",
                f"{self.files[x]}:{lines[0]}: {layer_label(x)} imports `{mod_name(y)}` "
                f"({self.files[y]}, {layer_label(y)}): a file may import only from its own "
                f"layer or an inner one{more}",
            ))

    def sccs(self) -> list[list]:
        nodes = sorted(self.files)
        adj: dict[tuple, list] = {v: [] for v in nodes}
        for (x, y) in self.edges:
            adj[x].append(y)
        for v in adj:
            adj[v].sort()
        index: dict = {}
        low: dict = {}
        on: set = set()
        stack: list = []
        out: list = []
        counter = 0
        for root in nodes:
            if root in index:
                continue
            work = [(root, 0)]
            index[root] = low[root] = counter
            counter += 1
            stack.append(root)
            on.add(root)
            while work:
                v, pi = work[-1]
                if pi < len(adj[v]):
                    work[-1] = (v, pi + 1)
                    w = adj[v][pi]
                    if w not in index:
                        index[w] = low[w] = counter
                        counter += 1
                        stack.append(w)
                        on.add(w)
                        work.append((w, 0))
                    elif w in on:
                        low[v] = min(low[v], index[w])
                else:
                    work.pop()
                    if work:
                        u = work[-1][0]
                        low[u] = min(low[u], low[v])
                    if low[v] == index[v]:
                        comp = []
                        while True:
                            w = stack.pop()
                            on.discard(w)
                            comp.append(w)
                            if w == v:
                                break
                        if len(comp) > 1:
                            out.append(sorted(comp, key=lambda m: self.files[m]))
        return sorted(out, key=lambda c: self.files[c[0]])

    def check_rings(self) -> None:
        for comp in self.sccs():
            members = set(comp)
            inner = sorted(
                ((x, y, lines[0]) for (x, y), lines in self.edges.items() if x in members and y in members),
                key=lambda e: (self.files[e[0]], e[2]),
            )
            first = inner[0]
            head = (f"{self.files[first[0]]}:{first[2]}: import ring of {len(comp)} files: "
                    + ", ".join(self.files[m] for m in comp))
            body = "\n".join(f"    {self.files[x]}:{line} -> {mod_name(y)} ({self.files[y]})" for x, y, line in inner)
            self.violations.append(("ring", head + "\n" + body))

    def run(self) -> "Check":
        self.load()
        self.build()
        self.check_layers()
        self.check_rings()
        return self


# --------------------------------------------------------------------------- self-test

def _write_tree(base: str, files: dict) -> None:
    for rel, text in files.items():
        p = os.path.join(base, "src", rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w", encoding="utf-8") as fh:
            fh.write(text)


def self_test() -> int:
    failures: list[str] = []

    def expect(name: str, files: dict, layers: set, rings: list, edges: set | None = None) -> None:
        with tempfile.TemporaryDirectory() as d:
            _write_tree(d, files)
            c = Check(d).run()
        got_layers = set()
        for kind, text in c.violations:
            if kind == "layer":
                loc = text.split(": ", 1)[0]
                tgt = text.split("imports `", 1)[1].split("`", 1)[0]
                got_layers.add((loc, tgt))
        got_rings = [sorted(c.files[m] for m in comp) for comp in c.sccs()]
        want_rings = [sorted(r) for r in rings]
        if got_layers != layers:
            failures.append(f"{name}: layer violations {sorted(got_layers)} != expected {sorted(layers)}")
        if sorted(got_rings) != sorted(want_rings):
            failures.append(f"{name}: rings {got_rings} != expected {want_rings}")
        if edges is not None:
            got_edges = {(c.files[x], mod_name(y)) for (x, y) in c.edges}
            if got_edges != edges:
                failures.append(f"{name}: edges {sorted(got_edges)} != expected {sorted(edges)}")
        if any(k == "dup" for k, _ in c.violations):
            failures.append(f"{name}: unexpected duplicate module")

    lib = "pub mod api;\npub mod lca;\nmod store;\nmod ring;\npub mod multi;\npub mod docs;\npub mod jobs;\n"
    api = {
        "api/mod.rs": "pub mod problem;\nmod router;\n",
        "api/problem.rs": "pub struct ApiError;\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
        "api/router.rs": "use super::problem::ApiError;\nuse crate::lca::Engine;\n",
    }

    # 1. a domain file importing api (and lib.rs, the root, may import anything)
    expect(
        "domain imports api",
        {"lib.rs": lib + "pub use crate::api::problem::ApiError;\n", **api,
         "lca/mod.rs": "mod engine;\npub use engine::Engine;\n",
         "lca/engine.rs": "use serde::Deserialize;\n\npub struct Engine;\n\nfn f() -> crate::api::problem::ApiError {\n"
                          "    worker::console_log!(\"x\");\n    std::process::exit(1)\n}\n"
                          "#[cfg(test)]\nmod tests {\n    use super::*;\n    use super::super::Engine as E;\n}\n"},
        layers={("src/lca/engine.rs:5", "api::problem")},
        rings=[["src/lca/mod.rs", "src/lca/engine.rs"]],
        edges={("src/api/router.rs", "api::problem"), ("src/api/router.rs", "lca"),
               ("src/lib.rs", "api::problem"), ("src/lca/mod.rs", "lca::engine"), ("src/lca/engine.rs", "api::problem"),
               ("src/lca/engine.rs", "lca")},
    )

    # 2. a ring of three files through `super::` and inline paths; `mod x;` is not a reference
    expect(
        "ring of three",
        {"lib.rs": lib, **api,
         "ring/mod.rs": "mod a;\nmod b;\npub mod c;\n",
         "ring/a.rs": "use super::b::Thing;\npub fn h() {}\n",
         "ring/b.rs": "pub struct Thing;\nfn f() {\n    super::c::g(1,\n        2);\n}\n",
         "ring/c.rs": "pub fn g(_: u8, _: u8) {\n    crate::ring::a::h();\n}\n"},
        layers=set(),
        rings=[["src/ring/a.rs", "src/ring/b.rs", "src/ring/c.rs"]],
        edges={("src/api/router.rs", "api::problem"), ("src/ring/a.rs", "ring::b"),
               ("src/ring/b.rs", "ring::c"), ("src/ring/c.rs", "ring::a")},
    )

    # 3. comments, doc comments and strings that mention crate::api do not count
    expect(
        "comments and strings",
        {"lib.rs": lib, **api,
         "docs.rs": (
             "//! The HTTP layer is [`crate::api`]; see also crate::api::problem.\n"
             "/// Returns what [`crate::api::problem::ApiError`] carries.\n"
             "/* block crate::api /* nested\n   crate::api */ still comment crate::api */\n"
             "pub fn f<'a>(x: &'a str) -> &'a str {\n"
             "    let _q = '\"';\n"
             "    let _e = '\\'';\n"
             "    let _s = \"crate::api::problem \\\"\n        crate::api\";\n"
             "    let _r = r#\"use crate::api;\n    \"quoted\" crate::api\"#;\n"
             "    let _b = br\"crate::api\";\n"
             "    let _o = r##\"say \"hi crate::api::problem\"##;\n"
             "    let _w = r\"C:\\\";\n"
             "    let _t = 'x';\n"
             "    x\n"
             "}\n"
             "#[doc = \"crate::api\"]\npub struct D;\n"
             "pub fn g() -> crate::api::problem::ApiError {\n    todo!(\"crate::api\")\n}\n"
         )},
        # only the real reference on the last lines counts: the lexer stayed in step
        layers={("src/docs.rs:20", "api::problem")},
        rings=[],
        edges={("src/api/router.rs", "api::problem"), ("src/docs.rs", "api::problem")},
    )

    # 4. a nested multi-line use tree (and `self` inside a group)
    expect(
        "nested multi-line use",
        {"lib.rs": lib, **api,
         "lca/mod.rs": "pub mod engine;\npub struct Engine;\n",
         "lca/engine.rs": "pub struct Engine;\n",
         "store/mod.rs": "pub mod keys;\n",
         "store/keys.rs": "pub fn get() {}\n",
         "multi.rs": ("pub(crate) use crate::{\n"
                      "    lca::{\n"
                      "        self,\n"
                      "        engine::{Engine as E},\n"
                      "    },\n"
                      "    store,\n"
                      "};\n"
                      "pub fn f() {}\n")},
        layers={("src/multi.rs:6", "store")},
        rings=[],
        edges={("src/api/router.rs", "api::problem"), ("src/api/router.rs", "lca"),
               ("src/multi.rs", "lca"), ("src/multi.rs", "lca::engine"), ("src/multi.rs", "store")},
    )

    # 5. store importing jobs (outward), jobs importing store (inward), bare `use` of a sibling
    expect(
        "store and jobs",
        {"lib.rs": lib, **api,
         "lca/mod.rs": "",
         "store/mod.rs": "pub mod keys;\n",
         "store/keys.rs": "use crate::jobs::lifecycle::Kind;\nuse self::inner::X;\nmod inner { pub struct X; }\n",
         "jobs/mod.rs": ("pub mod lifecycle;\nmod runner;\npub(crate) use runner::{enqueue, sweep};\n"
                         "use crate::store::keys;\n"),
         "jobs/lifecycle.rs": "pub enum Kind {}\n",
         "jobs/runner.rs": "pub fn enqueue() {}\npub fn sweep() {}\n"},
        layers={("src/store/keys.rs:1", "jobs::lifecycle")},
        rings=[],
        edges={("src/api/router.rs", "api::problem"), ("src/api/router.rs", "lca"),
               ("src/store/keys.rs", "jobs::lifecycle"), ("src/jobs/mod.rs", "jobs::runner"),
               ("src/jobs/mod.rs", "store::keys")},
    )

    if failures:
        for f in failures:
            print(f"self-test FAILED: {f}")
        return 1
    print("layers self-test: 5 trees, all expected violations found, none invented")
    return 0


# --------------------------------------------------------------------------- main

def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    flags = {a for a in argv if a.startswith("--")}
    unknown = flags - {"--graph", "--quiet", "--self-test", "--help"}
    if unknown or "--help" in flags:
        print(__doc__)
        return 0 if not unknown else 2
    if "--self-test" in flags:
        return self_test()
    root = args[0] if args else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if not os.path.isdir(os.path.join(root, "src")):
        print(f"layers: no src/ under {root}")
        return 2
    c = Check(root).run()
    if "--graph" in flags:
        for (x, y), lines in sorted(c.edges.items(), key=lambda kv: (c.files[kv[0][0]], c.files[kv[0][1]])):
            print(f"{mod_name(x)} -> {mod_name(y)}    ({c.files[x]}:{','.join(map(str, lines))})")
        for m, r in c.unresolved:
            print(f"{mod_name(m)} -> ? {'::'.join(('crate',) + r.segs)}    ({c.files[m]}:{r.line}, no module file)")
    for _, text in c.violations:
        print(text)
    nv = len(c.violations)
    if nv:
        kinds = [k for k, _ in c.violations]
        detail = (f"{kinds.count('layer')} outward import{'s' if kinds.count('layer') != 1 else ''}, "
                  f"{kinds.count('ring')} import ring{'s' if kinds.count('ring') != 1 else ''}")
        if kinds.count("dup"):
            detail += f", {kinds.count('dup')} duplicate module file{'s' if kinds.count('dup') != 1 else ''}"
    else:
        detail = "domain < store < edge < jobs < api, no import ring"
    summary = f"layers: {len(c.files)} files, {nv} violation{'s' if nv != 1 else ''} ({detail})"
    if nv or "--quiet" not in flags:
        print(summary)
    return 1 if nv else 0


if __name__ == "__main__":
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `--graph | head` ends quietly
    sys.exit(main(sys.argv[1:]))
