"""takingstock uses kaleido, choreographer, plotly, nbconvert and playwright through their public
interfaces only: no private attribute (a name starting with one underscore) of theirs.

The check reads every module of ``takingstock/`` with :mod:`ast` and follows names from those
packages: a name imported from them, a name assigned from an expression built on such a name
(``k = kaleido.Kaleido(...)``, ``async with ... as k``, ``tab = await k.tabs_ready.get()``,
``self.x = k``), a function returning one, a class deriving from one. It reports

* an import of a private module or name (``from kaleido._kaleido_tab import _devtools_utils``);
* a private attribute read or called on a followed name (``tab._current_js_id``);
* a private method defined in a class deriving from one of their classes (an override such as
  ``async def _return_kaleido_tab``);
* a name of theirs replaced by assignment on one of their imported modules or names
  (``nbconvert_html.BeautifulSoup = ...``: patching what their code looks up inside).

It cannot follow an object handed in as a plain function argument (``def f(browser)``): what it
follows is what the module itself got from the package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGES = ("kaleido", "choreographer", "plotly", "nbconvert", "playwright")
ROOT = Path(__file__).resolve().parents[1]


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _watched(module: str | None) -> bool:
    return bool(module) and module.split(".")[0] in PACKAGES


def _chain(node: ast.AST) -> str | None:
    """``a.b.c`` for an expression built on a name through attributes, calls, awaits, subscripts."""
    parts = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, (ast.Call,)):
            node = node.func
        elif isinstance(node, (ast.Await, ast.Starred)):
            node = node.value
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Name):
            return ".".join([node.id, *reversed(parts)])
        else:
            return None


def _followed(node: ast.AST, followed: set[str]) -> bool:
    chain = _chain(node)
    if chain is None:
        return False
    names = chain.split(".")
    return any(".".join(names[:i]) in followed for i in range(1, len(names) + 1))


def _bindings(tree: ast.AST):
    """(target, value) pairs: assignments, with-items, for loops, walrus."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if (isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple)
                        and len(target.elts) == len(node.value.elts)):  # a, b = x, y
                    yield from zip(target.elts, node.value.elts)
                else:
                    yield target, node.value
        elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
            yield node.target, node.value
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    yield item.optional_vars, item.context_expr
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            yield node.target, node.iter


def _targets(target: ast.AST):
    if isinstance(target, (ast.Tuple, ast.List)):
        for t in target.elts:
            yield from _targets(t)
    else:
        chain = _chain(target)
        if chain is not None:
            yield chain


def private_uses(source: str, filename: str = "<source>") -> list[str]:
    """Every private use of the watched packages in ``source``, as ``file:line: what``."""
    tree = ast.parse(source, filename)
    found: list[tuple[int, str]] = []
    followed: set[str] = set()
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _watched(alias.name):
                    if any(_private(p) for p in alias.name.split(".")):
                        found.append((node.lineno, f"imports private module {alias.name}"))
                    followed.add(alias.asname or alias.name.split(".")[0])
                    imported.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and _watched(node.module):
            if any(_private(p) for p in node.module.split(".")):
                found.append((node.lineno, f"imports from private module {node.module}"))
            for alias in node.names:
                if _private(alias.name):
                    found.append((node.lineno, f"imports private name {node.module}.{alias.name}"))
                followed.add(alias.asname or alias.name)
                imported.add(alias.asname or alias.name)
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    classes = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    while True:  # follow assignments, returns and subclasses until nothing new is found
        before = len(followed)
        for target, value in _bindings(tree):
            if _followed(value, followed):
                followed.update(_targets(target))
        for fn in functions:
            if any(isinstance(r, ast.Return) and r.value is not None and _followed(r.value, followed)
                   for r in ast.walk(fn)):
                followed.add(fn.name)
        for cls in classes:
            if any(_followed(base, followed) for base in cls.bases):
                followed.add(cls.name)
        if len(followed) == before:
            break
    for cls in classes:
        if cls.name in followed:
            for item in cls.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and _private(item.name):
                    found.append((item.lineno, f"class {cls.name} overrides private method {item.name}"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr) and _followed(node.value, followed):
            found.append((node.lineno, f"uses private attribute {_chain(node) or node.attr}"))
        targets = (node.targets if isinstance(node, (ast.Assign, ast.Delete))
                   else [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
        for target in targets:
            if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                    and target.value.id in imported):
                found.append((node.lineno, f"replaces {target.value.id}.{target.attr}"))
    return [f"{filename}:{line}: {what}" for line, what in sorted(set(found))]


def test_takingstock_uses_no_private_attribute_of_its_browser_and_notebook_packages():
    sources = sorted((ROOT / "takingstock").rglob("*.py"))
    assert len(sources) > 20
    problems = [p for path in sources
                for p in private_uses(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))]
    assert problems == []


# What takingstock/report/figures.py did before it used public interfaces only (abridged from its history).
OLD_FIGURES = '''
import kaleido
import plotly.io as pio
from choreographer.browsers.chromium import Chromium

def _kaleido_class():
    stock = kaleido.Kaleido
    class ReusedPageKaleido(stock):
        async def _return_kaleido_tab(self, tab):
            await self.tabs_ready.put(tab)
    return ReusedPageKaleido

class Session:
    async def _serve(self):
        async with _kaleido_class()(n=1) as k:
            self._kaleido, self._stop = k, None

    async def _draw(self, specs):
        from kaleido._kaleido_tab import _devtools_utils
        tab = await self._kaleido.tabs_ready.get()
        await _devtools_utils.exec_js_fn(tab.tab, tab._current_js_id, "f")
        return pio._kaleido
'''


def test_the_check_catches_what_figures_did_before():
    problems = private_uses(OLD_FIGURES, "old_figures.py")
    assert [p.split(": ", 1)[1] for p in problems] == [
        "class ReusedPageKaleido overrides private method _return_kaleido_tab",
        "imports from private module kaleido._kaleido_tab",
        "imports private name kaleido._kaleido_tab._devtools_utils",
        "uses private attribute tab._current_js_id",
        "uses private attribute pio._kaleido",
    ]


@pytest.mark.parametrize("code, expected", [
    ("import plotly.io as pio\npio.templates.default = 'x'\npio.to_json(1)", []),
    ("import plotly\nplotly.__version__", []),  # dunders are public
    ("from nbconvert import _private_thing", ["imports private name nbconvert._private_thing"]),
    ("from playwright.sync_api import sync_playwright\nwith sync_playwright() as p:\n    p._impl_obj",
     ["uses private attribute p._impl_obj"]),
    ("import json\njson._default_decoder", []),  # not a watched package
    ("import nbconvert.exporters.html as h\nh.BeautifulSoup = object", ["replaces h.BeautifulSoup"]),
    ("import plotly.io as pio\npio.templates.default = 'ours'", []),  # a setting plotly documents
])
def test_the_check_on_small_cases(code, expected):
    assert [p.split(": ", 1)[1] for p in private_uses(code)] == expected
