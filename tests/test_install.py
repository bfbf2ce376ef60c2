"""The package installs like a library and runs the notebooks of a project folder.

Fast: how the project folder is found (:func:`takingstock.core.paths.find_root`) and the
``taking-stock`` command's own option and errors. Slow: a wheel built from the package's files,
installed into a fresh virtual environment (no network: the shared environment's packages are
reached through a ``.pth`` file, added after the install), then ``taking-stock --help``, ``list``
and a run of step 01 from a project folder that holds no code.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from takingstock import command
from takingstock.core import paths

# What setuptools builds the wheel from (pyproject.toml and the files it names).
BUILD_FILES = ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in", "requirements-runtime.txt")


def _project(dest: Path) -> Path:
    """A project folder as a user of the installed package has one: notebooks and raw data, no code."""
    shutil.copytree(paths.NOTEBOOKS, dest / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copytree(paths.RAW, dest / "data" / "raw", ignore=shutil.ignore_patterns("sipri"))
    (dest / "data" / "raw" / "sipri").mkdir()
    return dest


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", paths.PROJECT_ENV)}
    env["CI"] = "1"
    return env


# ------------------------------------------------------------------ the project folder (fast)


def test_the_project_folder_comes_from_the_variable_then_the_working_folder(tmp_path, monkeypatch):
    project = _project(tmp_path / "mine")
    assert paths.find_root({paths.PROJECT_ENV: str(project)}, cwd=paths.ROOT) == project
    # the working folder, or the nearest project above it (Jupyter starts in notebooks/)
    assert paths.find_root({}, cwd=project) == project
    assert paths.find_root({}, cwd=project / "notebooks") == project
    # elsewhere: a checkout's root (the package's parent is a project) ...
    (tmp_path / "elsewhere").mkdir()
    assert paths.find_root({}, cwd=tmp_path / "elsewhere") == paths.PACKAGE_DIR.parent
    # ... but never an installed package's folder: then the working folder itself
    monkeypatch.setattr(paths, "PACKAGE_DIR", tmp_path / "venv" / "site-packages" / "takingstock")
    assert paths.find_root({}, cwd=tmp_path / "elsewhere") == tmp_path / "elsewhere"
    assert paths.find_root({}, cwd=project) == project


def test_project_dir_option_is_taken_out_of_the_arguments():
    assert command.take_project_dir(["--only", "clean", "--project-dir", "p", "-j", "1"]) == (
        ["--only", "clean", "-j", "1"], "p")
    assert command.take_project_dir(["list", "--project-dir=some/where"]) == (["list"], "some/where")
    assert command.take_project_dir(["--force"]) == (["--force"], None)
    with pytest.raises(ValueError, match="--project-dir needs a folder"):
        command.take_project_dir(["--project-dir", "--force"])


def test_the_command_refuses_a_folder_that_is_not_a_project(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "takingstock", "--project-dir", str(tmp_path), "list"],
                          cwd=tmp_path, env={**_env(), "PYTHONPATH": str(paths.PACKAGE_DIR.parent)},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"error: {tmp_path} is not a taking-stock project folder (it needs notebooks/ and data/raw/): "
        f"run taking-stock in one, or name it with --project-dir DIR or $TAKINGSTOCK_PROJECT")


def test_the_command_lists_the_steps_of_the_project_it_is_given(tmp_path):
    project = _project(tmp_path / "mine")
    (project / "notebooks" / "03_eras.ipynb").unlink()  # so the listing shows it reads this folder
    proc = subprocess.run([sys.executable, "-m", "takingstock", "--project-dir", str(project), "list"],
                          cwd=tmp_path, env={**_env(), "PYTHONPATH": str(paths.PACKAGE_DIR.parent)},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "  notebook: notebooks/03_eras.ipynb  (missing)" in proc.stdout
    assert "  notebook: notebooks/02_country_of_origin.ipynb\n" in proc.stdout


# ------------------------------------------------------------------ the wheel (slow)


def _build_wheel(tmp_path: Path) -> Path:
    """Build the wheel from a copy of the package's files (the checkout gets no build/ folder)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in BUILD_FILES:
        shutil.copy(paths.PACKAGE_DIR.parent / name, src / name)
    shutil.copytree(paths.PACKAGE_DIR, src / "takingstock", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "--disable-pip-version-check", "-w", str(tmp_path / "dist"), str(src)],
                          env=_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return next((tmp_path / "dist").glob("takingstock-*.whl"))


def _fresh_venv(tmp_path: Path, wheel: Path) -> Path:
    """A new environment with the wheel installed, then the shared environment's packages on its path."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                           "--no-index", "--disable-pip-version-check", str(wheel)],
                          env=_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # the dependencies, without a download: the shared environment's folder, after the venv's own
    (Path(site) / "shared_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


@pytest.mark.slow
def test_the_wheel_installs_every_module_and_runs_a_project(tmp_path):
    wheel = _build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    package = paths.PACKAGE_DIR
    ours = {str(p.relative_to(package.parent)) for p in package.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert ours - names == set()  # every module of every subpackage, and every template
    assert {f"takingstock/{sub}/__init__.py" for sub in ("runner", "analysis/claims")} <= names
    assert any(n.startswith("takingstock/publish/templates/") for n in names)
    meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
    requires = [line.split(": ", 1)[1] for line in zipfile.ZipFile(wheel).read(meta).decode().splitlines()
                if line.startswith("Requires-Dist: ")]
    runtime = [line.strip() for line in (package.parent / "requirements-runtime.txt").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    assert requires == runtime and "pytest" not in " ".join(requires)

    venv = _fresh_venv(tmp_path, wheel)
    project = _project(tmp_path / "project")
    exe = venv / "bin" / "taking-stock"
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import takingstock; print(takingstock.__file__)"],
                           cwd=project, env=_env(), capture_output=True, text=True, timeout=60)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout + where.stderr

    shown = subprocess.run([str(exe), "--help"], cwd=project, env=_env(), capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert f"  project folder now: {project}\n" in shown.stdout and "--only STEP" in shown.stdout

    listed = subprocess.run([str(exe), "list"], cwd=project / "notebooks", env=_env(), capture_output=True,
                            text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert "clean: validate every raw catalogue row" in listed.stdout  # found from notebooks/, one up

    wrong = subprocess.run([str(exe), "-p", "top_m", "3"], cwd=project, env=_env(), capture_output=True, text=True,
                           timeout=120)
    assert wrong.returncode == 2 and wrong.stderr.splitlines()[-1] == "every step's parameters: taking-stock list"

    run = subprocess.run([str(exe), "--only", "clean", "--no-progress"], cwd=project, env=_env(),
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "clean     ran" in run.stdout
    assert (project / "data" / "processed" / "catalogue.parquet").is_file()
    executed = json.loads((project / "output" / "notebooks" / "01_clean_catalogue.ipynb").read_text())
    injected = next(c for c in executed["cells"] if "injected-parameters" in c["metadata"].get("tags", []))
    assert f"raw_dir = \"{project}/data/raw\"" in "".join(injected["source"])
    # the cache indexed the installed package (the code the kernel ran), not a checkout's
    memo = json.loads((project / "output" / ".cache" / "imports.json").read_text())
    modules = [k for k in memo if k.startswith("/")]  # "cells <notebook>", "function <name> <file>": the others
    assert modules and all(Path(m).is_relative_to(venv) for m in modules)
    cells = [k.split(" ", 1)[1] for k in memo if k.startswith("cells ")]
    assert cells and all(Path(c).is_relative_to(project / "notebooks") for c in cells)
    assert not (project / "takingstock").exists()
