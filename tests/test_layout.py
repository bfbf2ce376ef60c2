"""The package's layout holds its house rules (``python -m takingstock.layout``), and the check
finds each kind of breach when one is planted in a small package of its own."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from takingstock import layout


def test_the_package_holds_the_rules():
    modules = layout.read_modules()
    assert layout.problems(modules) == []
    # every layer is there and has modules; nothing stands outside a layer but the top few
    layers = {m.layer for m in modules.values()}
    assert set(layout.LAYERS) <= layers
    top = sorted(name for name, m in modules.items() if m.layer == layout.TOP)
    assert top == ["takingstock", "takingstock.__main__", "takingstock.command", "takingstock.layout",
                   "takingstock.pipeline_steps"]


def test_the_command_prints_each_layer_with_line_counts():
    done = subprocess.run([sys.executable, "-m", "takingstock.layout"], capture_output=True, text=True,
                          cwd=Path(layout.PACKAGE_DIR).parent, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for layer in layout.LAYERS:
        assert f"takingstock.{layer}: " in out
    sipri_lines = len((layout.PACKAGE_DIR / "data" / "sipri.py").read_text(encoding="utf-8").splitlines())
    assert any(line.split() == ["sipri", str(sipri_lines)] for line in out.splitlines())
    assert "The layout holds" in out


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "takingstock"
    for name, text in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    for layer in layout.LAYERS:
        init = root / layer / "__init__.py"
        if not init.exists():
            init.parent.mkdir(parents=True, exist_ok=True)
            init.write_text("", encoding="utf-8")
    return root


def _problems(tmp_path, files, **kw):
    return layout.problems(layout.read_modules(_package(tmp_path, files)), **kw)


def test_a_clean_small_package_passes(tmp_path):
    assert _problems(tmp_path, {
        "core/paths.py": "ROOT = 1\n",
        "data/reader.py": "from takingstock.core import paths\n",
        "analysis/sums.py": "from takingstock.data import reader\nfrom takingstock.core.paths import ROOT\n",
        "report/charts.py": "def f():\n    import json  # lazy: only one path needs it\n    return json\n",
    }) == []


def test_an_import_of_a_layer_above_is_named(tmp_path):
    found = _problems(tmp_path, {
        "data/reader.py": "from takingstock.analysis import sums\n",
        "analysis/sums.py": "X = 1\n",
    })
    assert found == ["takingstock/data/reader.py:1: the data layer imports takingstock.analysis.sums "
                     "(layer analysis, above it)"]


def test_a_cycle_is_found_even_through_imports_inside_functions(tmp_path):
    found = _problems(tmp_path, {
        "data/a.py": "from takingstock.data import b\n",
        "data/b.py": "def f():\n    from takingstock.data import a  # lazy: planted\n    return a\n",
    })
    assert found == ["import cycle: takingstock.data.a -> takingstock.data.b -> takingstock.data.a"]


def test_an_unmarked_import_inside_a_function_is_named(tmp_path):
    found = _problems(tmp_path, {"core/x.py": "def f():\n    import json\n    return json\n"})
    assert found == ["takingstock/core/x.py:2: import inside a function without a '# lazy:' reason: import json"]


def test_a_long_module_and_a_lazy_getattr_are_named(tmp_path):
    found = _problems(tmp_path, {
        "core/long.py": "X = 1\n" * 30,
        "core/lazy.py": "def __getattr__(name):\n    raise AttributeError(name)\n",
    }, max_lines=20)
    assert found == ["takingstock/core/lazy.py: a module-level __getattr__ builds attributes lazily",
                     "takingstock/core/long.py: 30 lines (the limit is 20): split it along its seams"]


@pytest.mark.parametrize("module, layer", [
    ("takingstock.data.sipri", "data"), ("takingstock.runner.cli", "runner"),
    ("takingstock.analysis.claims.spec", "analysis"), ("takingstock.command", "top"), ("takingstock", "top"),
])
def test_layer_of(module, layer):
    assert layout.layer_of(module) == layer
