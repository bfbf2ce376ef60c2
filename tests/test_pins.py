"""Every third-party package that takingstock/, pipeline.py, bench/, scripts/ or tests/ import
directly is pinned to an exact version in requirements.txt, and that version is the one installed."""

from __future__ import annotations

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Our own modules: the package, the front door, and the helper modules of tests/ and bench/.
OURS = {"takingstock", "pipeline", *(p.stem for folder in ("tests", "bench") for p in (ROOT / folder).glob("*.py"))}


def _pins(path: Path = ROOT / "requirements.txt") -> dict[str, str]:
    """Exact pins of a requirements file, following its ``-r other.txt`` includes."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("-r "):
            pins.update(_pins(path.parent / line[3:].strip()))
        elif line:
            match = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[a-z,]+\])?==([A-Za-z0-9.]+)", line)
            assert match, f"{path.name}: {line!r} is not an exact pin"
            pins[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return pins


def _top_level_imports() -> dict[str, str]:
    """{top-level module: first file importing it} for every absolute import."""
    files = [ROOT / "pipeline.py", *sorted((ROOT / "takingstock").rglob("*.py")),
             *sorted((ROOT / "bench").glob("*.py")), *sorted((ROOT / "tests").glob("*.py")),
             *sorted((ROOT / "scripts").glob("*.py"))]
    found = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                     else [])
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def test_every_package_imported_directly_is_pinned_and_installed_at_its_pin():
    pins = _pins()
    distributions = metadata.packages_distributions()
    unpinned = []
    for module, where in sorted(_top_level_imports().items()):
        if module in sys.stdlib_module_names or module in OURS or module == "__future__":
            continue
        dists = distributions.get(module)
        assert dists, f"{where} imports {module}, which no installed package provides"
        names = {re.sub(r"[-_.]+", "-", d).lower() for d in dists}
        pinned = names & set(pins)
        if not pinned:
            unpinned.append(f"{module} ({where}; package {', '.join(sorted(names))})")
            continue
        for name in pinned:
            assert metadata.version(name) == pins[name], f"{name}: installed {metadata.version(name)}, pinned {pins[name]}"
    assert unpinned == []
