"""The house rules of the package's layout, checked: ``python -m takingstock.layout``.

The package is built in layers, each a subpackage, lowest first:

    core       where a project's files are, writing files whole, what a run records
    data       reading and checking raw data (SIPRI register, catalogues, countries, provenance)
    analysis   the findings, computed on the frames ``data`` hands over (and the claims ledger)
    report     what a notebook publishes: chart style, tables, labels, the Briefing
    publish    the site and the PDF rendered from executed notebooks
    runner     running notebooks as steps: parameters, plan, cache, schedule, kernels

and the few modules at the package's top (the ``taking-stock`` command and the declaration of
the project's steps), which may use every layer. The check reads every module's source (it
imports nothing) and fails on:

- a module longer than :data:`MAX_LINES` lines;
- an import cycle between modules, counting every ``takingstock`` import wherever it stands;
- an import of a layer above the importing module's own (``data`` never imports ``analysis``);
- an import placed inside a function or class without a ``# lazy:`` comment on its line or in
  the comment lines right above it saying why (a measured cost, or a dependency only one path needs), so a module's
  dependencies can be read at its top;
- a module-level ``__getattr__`` (attributes built lazily hide what a module offers).

Caveat: ``importlib.import_module("takingstock.x")`` with a string is not seen as an import.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = "takingstock"
PACKAGE_DIR = Path(__file__).resolve().parent
#: The layers, lowest first; a module may import its own layer and those before it.
LAYERS = ("core", "data", "analysis", "report", "publish", "runner")
#: Where the package's top-level modules stand: above every layer.
TOP = "top"
MAX_LINES = 600
LAZY_MARK = "# lazy:"


@dataclass
class Module:
    """One module of the package: its dotted name, file, layer, lines and imports."""

    name: str
    path: Path
    layer: str
    lines: int
    imports: dict[str, int] = field(default_factory=dict)  # imported module -> line number
    unmarked_inner: list[tuple[int, str]] = field(default_factory=list)
    lazy_getattr: bool = False


def layer_of(name: str) -> str:
    """The layer of a dotted module name (``takingstock.data.sipri`` -> ``data``)."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else TOP


def rank(layer: str) -> int:
    """The height of a layer: core 0, data 1, ..., runner 5, the top modules 6."""
    return LAYERS.index(layer) if layer in LAYERS else len(LAYERS)


def module_name(path: Path, package_dir: Path = PACKAGE_DIR) -> str:
    rel = path.relative_to(package_dir.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(node: ast.ImportFrom, current: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = current.split(".") if is_package else current.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _targets(node: ast.AST, current: str, is_package: bool, known: set[str]) -> list[str]:
    """The package modules an import statement loads (a ``from x import y`` names module
    ``x.y`` when that is a module, else ``x``)."""
    out = []
    if isinstance(node, ast.Import):
        out = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = _resolve(node, current, is_package)
        for alias in node.names:
            full = f"{base}.{alias.name}"
            out.append(full if full in known else base)
    return [name for name in out if name == PACKAGE or name.startswith(PACKAGE + ".")]


def _is_module_level(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    parent = parents.get(node)
    while parent is not None and not isinstance(parent, ast.Module):
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            return False
        parent = parents.get(parent)
    return True


def _marked(lines: list[str], lineno: int) -> bool:
    """Whether the import on line ``lineno`` (1-based) carries the lazy mark: on its own line or
    in the block of comment lines right above it."""
    if LAZY_MARK in lines[lineno - 1]:
        return True
    i = lineno - 2
    while i >= 0 and lines[i].lstrip().startswith("#"):
        if LAZY_MARK in lines[i]:
            return True
        i -= 1
    return False


def read_modules(package_dir: Path = PACKAGE_DIR) -> dict[str, Module]:
    """Every module of the package under ``package_dir``, parsed (not imported)."""
    files = sorted(p for p in package_dir.rglob("*.py") if "__pycache__" not in p.parts)
    known = {module_name(p, package_dir) for p in files}
    modules = {}
    for path in files:
        name = module_name(path, package_dir)
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        tree = ast.parse(source, filename=str(path))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        module = Module(name, path, layer_of(name), len(lines))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                at_top = _is_module_level(node, parents)
                for target in _targets(node, name, path.name == "__init__.py", known):
                    if target != name:
                        module.imports.setdefault(target, node.lineno)
                if not at_top:
                    marked = _marked(lines, node.lineno)
                    if not marked:
                        module.unmarked_inner.append((node.lineno, lines[node.lineno - 1].strip()))
            elif isinstance(node, ast.FunctionDef) and node.name == "__getattr__" and node in tree.body:
                module.lazy_getattr = True
        modules[name] = module
    return modules


def find_cycles(modules: dict[str, Module]) -> list[list[str]]:
    """Import cycles between the package's modules (each strongly connected group of two or
    more modules, and any module importing itself), by Tarjan's algorithm."""
    graph = {name: [t for t in m.imports if t in modules] for name, m in modules.items()}
    index, low, stack, on_stack, groups = {}, {}, [], set(), []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return groups


def _is_ancestor_package(target: str, name: str) -> bool:
    """Importing ``takingstock.data.sipri`` runs ``takingstock/__init__`` and
    ``takingstock/data/__init__``: a package on the way is not an upward import."""
    return name.startswith(target + ".")


def problems(modules: dict[str, Module], max_lines: int = MAX_LINES) -> list[str]:
    """Every breach of the house rules, one line each, naming the file and line."""
    out = []
    root = modules[PACKAGE].path.parent.parent if PACKAGE in modules else PACKAGE_DIR.parent
    for name, m in sorted(modules.items()):
        where = m.path.relative_to(root) if m.path.is_relative_to(root) else m.path
        if m.lines > max_lines:
            out.append(f"{where}: {m.lines} lines (the limit is {max_lines}): split it along its seams")
        for target, line in sorted(m.imports.items()):
            if target in modules and not _is_ancestor_package(target, name) \
                    and rank(modules[target].layer) > rank(m.layer):
                out.append(f"{where}:{line}: the {m.layer} layer imports {target} "
                           f"(layer {modules[target].layer}, above it)")
        for line, text in m.unmarked_inner:
            out.append(f"{where}:{line}: import inside a function without a '{LAZY_MARK}' reason: {text}")
        if m.lazy_getattr:
            out.append(f"{where}: a module-level __getattr__ builds attributes lazily")
    for group in find_cycles(modules):
        out.append("import cycle: " + " -> ".join(group) + " -> " + group[0])
    return out


def report(modules: dict[str, Module]) -> str:
    """Each layer with its modules and their line counts, lowest layer first."""
    lines = []
    for layer in (*LAYERS, TOP):
        members = sorted((m for m in modules.values() if m.layer == layer), key=lambda m: m.name)
        if not members:
            continue
        total = sum(m.lines for m in members)
        title = f"{PACKAGE}.{layer}" if layer != TOP else f"{PACKAGE} (top: the command and the steps)"
        lines.append(f"{title}: {len(members)} modules, {total:,} lines")
        for m in members:
            short = m.name.split(".", 2)[-1] if layer != TOP else m.name
            lines.append(f"  {short:<34} {m.lines:>5}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    modules = read_modules()
    print(report(modules))
    found = problems(modules)
    if found:
        print(f"\n{len(found)} problem(s) with the layout:")
        print("\n".join(f"  {p}" for p in found))
        return 1
    print(f"\nThe layout holds: no module over {MAX_LINES} lines, no import cycle, "
          f"no import of a layer above, every import at the top or marked '{LAZY_MARK}'.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
