"""The run context: one object, built once from a run's parameters, that names every file it uses.

Method
------
Every file a run reads or writes is chosen here and nowhere else: the runner fills its step
templates from a :class:`RunContext`, each notebook builds one from its parameters cell
(``RunContext.from_params``) and asks it for the register, the crosswalk, the periods, the
windows and its output folders, the claims ledger builds its contexts from it and the publisher
reads the SIPRI release from it. A newcomer looking for "which file is used" reads this module.

Folders. ``raw_dir``, ``processed_dir`` and ``output_dir`` default to the project's own
(:mod:`takingstock.core.paths`); everything else is derived from them: the SIPRI folder is
``raw_dir/sipri``, the crosswalk ``raw_dir/country_crosswalk.csv``, figures
``output_dir/figures`` and so on. The reference tables a run's raw folder may lack (periods,
windows, country groups, weapon types) are then the committed ones in ``data/raw``; the
crosswalk, sources and claims are always the raw folder's own. A path given explicitly (``sipri_register``, ``catalogues``, ``crosswalk``,
``periods``, ``sources``, ``claims_path``) replaces its default.

The SIPRI register. ``sipri_register`` names one export; otherwise every ``*.csv`` in the SIPRI
folder is *at hand* (:attr:`RunContext.registers`), and the *primary* one, which notebooks 03
and 04 analyse and the ledger puts first, is the newest release by the ``Data generated:`` date
of its preamble (read without reading the deals), then the larger file, then the name. The
claims ledger computes every register at hand, a column each.

Windows and periods are data. A *window* (``data/raw/windows.csv``) is a named range of whole
years with the recipients it applies to (the Iran-Iraq war applies to Iraq and Iran, the UN
embargo to Iraq): notebooks and ``claims.yml`` name windows by id, and a section whose window
does not apply to the run's recipient is left out with a sentence saying so
(:meth:`RunContext.window_for`). Historical periods (``periods.csv``) are read the same way.

Parsed registers. :meth:`RunContext.read_register` and :meth:`RunContext.register` read exports
through :func:`takingstock.data.sipri_cache.read_register_cached`, whose cache lives in
``output_dir/.cache/registers`` (:attr:`RunContext.register_cache_dir`): each export is parsed
once for all the kernels of a run, and of the runs after it, until the file or the reader
changes.

Static figures. ``static_figures`` says whether a notebook draws the SVG and PNG of its figures
itself. A notebook run by hand does not unless asked (``static_figures = True`` in its
parameters cell; ``from_params`` defaults to ``False``), and the pipeline's ``figures`` step draws
every figure in one browser session (the runner passes ``False`` too).

Runs by hand. The notebooks' parameters cells default ``output_dir`` to ``notebooks/.scratch``
(:data:`takingstock.core.paths.SCRATCH`, git-ignored): only ``pipeline.py``, which passes
``output_dir``, writes ``output/``.

Briefing stems. :meth:`RunContext.stem` names a notebook's summary, executed notebook and page:
the notebook's stem for the default recipient, ``<stem>__<variant>`` in a grid, and
``<stem>__<recipient tag>`` for a run for another recipient, so such runs add pages beside the
default ones instead of replacing them.
"""

from __future__ import annotations

import csv
import datetime as _dt
import glob
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping

from takingstock.core import paths
from takingstock.data.sipri_format import SipriFormatError, read_release_date
from takingstock.data.sipri_terms import missing_register_message
from takingstock.data.catalogue_names import catalogue_titles

# The readers of the processed catalogue and of the periods table (takingstock.data.cleaning,
# takingstock.data.periods) are imported in the methods that use them, not here, for a measured
# cost: they import pandas and pyarrow, and the runner imports this module before any kernel
# starts, so at the top they made `pipeline.py --help` (and every parameter error) take 1.3-1.6 s
# instead of 0.45 s on two shared cores. The fork server still imports them for the kernels.

__all__ = ["RunContext", "Window", "WindowError", "load_windows_table", "DEFAULT_RECIPIENTS"]

#: The recipient a run is for when none is given (the report's subject); a run for others is
#: told apart by its briefing stem (:meth:`RunContext.stem`).
DEFAULT_RECIPIENTS = ("Iraq",)
#: Between a notebook's stem and a run's name in a briefing stem (:meth:`RunContext.stem`):
#: ``04_supply_chains__yemen`` is the Yemen run of a grid.
GRID_STEM_SEP = "__"


class WindowError(ValueError):
    """The windows file is malformed, or a window id is unknown (names file, row, id)."""


@dataclass(frozen=True)
class Window:
    """A named range of whole years and the recipients it applies to (empty = any)."""

    id: str
    label: str
    first: int
    last: int
    recipients: tuple[str, ...] = ()
    source_url: str = ""

    def applies_to(self, names: list[str] | tuple[str, ...]) -> bool:
        """True when the window is defined for at least one of ``names`` (or for any recipient)."""
        return not self.recipients or any(n.casefold() in {r.casefold() for r in self.recipients} for n in names)

    @property
    def years(self) -> list[int]:
        """``[first, last]``."""
        return [self.first, self.last]


def load_windows_table(path: str | Path) -> dict[str, Window]:
    """Read ``windows.csv`` into ``{id: Window}``; raise :class:`WindowError` naming row and column."""
    path = Path(path)
    try:
        handle = open(path, newline="", encoding="utf-8")
    except FileNotFoundError as exc:
        raise WindowError(f"{path}: file not found") from exc
    out: dict[str, Window] = {}
    with handle:
        reader = csv.DictReader(handle)
        need = {"window_id", "label", "first", "last", "recipients", "source_url"}
        if not need <= set(reader.fieldnames or []):
            raise WindowError(f"{path}: needs columns {', '.join(sorted(need))}")
        for n, row in enumerate(reader, start=2):
            wid = row["window_id"].strip()
            try:
                first, last = int(row["first"]), int(row["last"])
            except ValueError as exc:
                raise WindowError(f"{path}, row {n}, columns 'first'/'last': not whole years") from exc
            if first > last:
                raise WindowError(f"{path}, row {n}: first {first} is after last {last}")
            if not row["source_url"].strip():
                raise WindowError(f"{path}, row {n}, column 'source_url': empty")
            if wid in out:
                raise WindowError(f"{path}, row {n}, column 'window_id': duplicate {wid!r}")
            recipients = tuple(r.strip() for r in row["recipients"].split(";") if r.strip())
            out[wid] = Window(wid, row["label"].strip(), first, last, recipients, row["source_url"].strip())
    return out


def _path(value: Any, default: Path) -> Path:
    return Path(value) if value not in (None, "") else default


def _release_key(path: Path) -> tuple:
    try:
        date = read_release_date(path)
    except (SipriFormatError, OSError):
        date = None
    return (date or _dt.date.min, path.stat().st_size, path.name)


@dataclass(frozen=True)
class RunContext:
    """Every folder and file one run uses (see the module docstring); whole after ``__init__``.

    Attributes:
        raw_dir, processed_dir, output_dir: the three folders.
        sipri_register: the one export to use, or ``None`` for every export in :attr:`sipri_dir`.
        catalogues: the raw catalogue patterns (paths or globs).
        crosswalk, periods, sources, claims_file: the reference files.
        recipients: the run's recipient(s), as SIPRI or the crosswalk name them.
        comparison: the recipient compared with them (e.g. Iran for Iraq).
        variant: the name of one run of a grid (``""`` outside a grid); outputs are told apart by it.
        static_figures: whether notebooks draw SVG/PNG themselves.
        registers: the SIPRI exports at hand (primary first; computed on first use, as ordering
            them reads their preambles).
    """

    raw_dir: Path = paths.RAW
    processed_dir: Path = paths.PROCESSED
    output_dir: Path = paths.OUTPUT
    sipri_register: Path | None = None
    catalogues: tuple[str, ...] = ()
    crosswalk: Path | None = None
    periods: Path | None = None
    sources: Path | None = None
    claims_file: Path | None = None
    recipients: tuple[str, ...] = DEFAULT_RECIPIENTS
    comparison: str = ""
    variant: str = ""
    static_figures: bool = True

    def __post_init__(self) -> None:
        for name in ("raw_dir", "processed_dir", "output_dir"):
            object.__setattr__(self, name, Path(getattr(self, name)).resolve())
        raw = self.raw_dir
        object.__setattr__(self, "crosswalk", _path(self.crosswalk, raw / "country_crosswalk.csv"))
        object.__setattr__(self, "periods", _path(self.periods, self._reference("periods.csv")))
        object.__setattr__(self, "sources", _path(self.sources, raw / "sources.csv"))
        object.__setattr__(self, "claims_file", _path(self.claims_file, raw / "claims.yml"))
        if not self.catalogues:
            object.__setattr__(self, "catalogues", (str(raw / "catalogue_*.csv"),))
        object.__setattr__(self, "recipients", tuple(self.recipients))
        if self.sipri_register not in (None, ""):
            register = Path(self.sipri_register)
            if not register.is_file():
                raise FileNotFoundError(f"sipri_register: no file at {register}")
            object.__setattr__(self, "sipri_register", register)
        else:
            object.__setattr__(self, "sipri_register", None)

    # ------------------------------------------------------------------ building

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "RunContext":
        """A context from a notebook's (or the runner's) parameters; unknown names are ignored.

        ``""`` means "the default" for every path; ``recipients`` may be a name or a list.
        """
        recipients = params.get("recipients") or DEFAULT_RECIPIENTS
        catalogues = params.get("catalogues") or ()
        return cls(
            raw_dir=_path(params.get("raw_dir"), paths.RAW),
            processed_dir=_path(params.get("processed_dir"), paths.PROCESSED),
            output_dir=_path(params.get("output_dir"), paths.OUTPUT),
            sipri_register=params.get("sipri_register") or None,
            catalogues=(catalogues,) if isinstance(catalogues, str) else tuple(catalogues),
            crosswalk=params.get("crosswalk") or None,
            periods=params.get("periods") or None,
            sources=params.get("sources") or None,
            claims_file=params.get("claims_path") or None,
            recipients=(recipients,) if isinstance(recipients, str) else tuple(recipients),
            comparison=params.get("comparison") or "",
            variant=params.get("variant") or "",
            static_figures=bool(params.get("static_figures", False)),
        )

    # ------------------------------------------------------------------ folders and files

    @property
    def sipri_dir(self) -> Path:
        """Where exports are looked for (``raw_dir/sipri``)."""
        return self.raw_dir / paths.SIPRI_RAW.relative_to(paths.RAW)

    @property
    def figures_dir(self) -> Path:
        return paths.output_folder(self.output_dir, "figures")

    @property
    def tables_dir(self) -> Path:
        return paths.output_folder(self.output_dir, "tables")

    @property
    def summaries_dir(self) -> Path:
        return paths.output_folder(self.output_dir, "summaries")

    @property
    def notebooks_dir(self) -> Path:
        return paths.output_folder(self.output_dir, "notebooks")

    @property
    def briefings_dir(self) -> Path:
        return paths.output_folder(self.output_dir, "briefings")

    @property
    def catalogue_file(self) -> Path:
        """The processed catalogue (``processed_dir/catalogue.parquet``)."""
        return paths.processed_file(self.processed_dir, "catalogue")

    @property
    def ledger_file(self) -> Path:
        return paths.processed_file(self.processed_dir, "ledger")

    @property
    def windows_file(self) -> Path:
        return self._reference("windows.csv")

    @property
    def groups_file(self) -> Path:
        return self._reference("country_groups.csv")

    @property
    def weapon_types_file(self) -> Path:
        return self._reference("weapon_types.csv")

    @property
    def aliases_file(self) -> Path:
        return self.raw_dir / "sipri_aliases.csv"

    @property
    def sources_file(self) -> Path:
        """The sources table (the ``sources`` given, else ``raw_dir/sources.csv``)."""
        return self.sources

    def _reference(self, name: str) -> Path:
        """``raw_dir/name`` when the run's raw folder has it, else the committed one."""
        own = self.raw_dir / name
        return own if own.is_file() else paths.RAW / name

    def catalogue_files(self) -> list[Path]:
        """The raw catalogue files the patterns name, sorted."""
        found: set[Path] = set()
        for pattern in self.catalogues:
            found.update(Path(p) for p in glob.glob(str(pattern)))
        return sorted(found)

    def own_sources_files(self) -> list[Path]:
        """The ``sources.csv`` files beside the raw catalogues (a user's own sources), sorted."""
        return sorted({own for own in map(paths.sources_beside, self.catalogue_files()) if own.is_file()})

    def catalogue(self):
        """The processed catalogue (:func:`takingstock.data.cleaning.load_processed` on the run's folders)."""
        from takingstock.data.cleaning import load_processed  # lazy: pandas and pyarrow (see the note at the imports)

        return load_processed(self.processed_dir, self.raw_dir)

    def catalogue_title(self, catalogue: str, short: bool = False) -> str:
        """A catalogue's name for readers: the title its raw file has in the raw folder's data
        package (``datapackage.json``, else the committed one), up to its colon
        ("Amnesty International, Taking Stock (2015)"); a catalogue no package describes (a
        user's own ``catalogue_<id>.csv``) is "the catalogue" and its id in words
        (``field_notes_2024`` -> "the catalogue field notes 2024").

        ``short``: the publisher and year only ("Amnesty International (2015)"), for chart
        titles and the index's tiles.
        """
        title = catalogue_titles(paths.RAW / "datapackage.json", self.raw_dir / "datapackage.json").get(str(catalogue))
        if not title:
            return "the catalogue " + " ".join(str(catalogue).replace("_", " ").split())
        year = re.search(r"\((\d{4})\)", title)
        return f"{title.split(',')[0].split('(')[0].strip()} ({year.group(1)})" if short and year else title

    def tag(self, names: tuple[str, ...] | list[str] | None = None) -> str:
        """The recipients as a file-name part (``iraq``, ``iraq_syria-rebels``)."""
        names = self.recipients if names is None else names
        return "_".join(n.lower().replace(" ", "-").replace("*", "").replace("(", "").replace(")", "")
                        for n in names)

    def stem(self, notebook_stem: str) -> str:
        """A notebook's briefing stem in this run: ``04_supply_chains`` for the default recipient,
        ``04_supply_chains__yemen`` for one run of a grid (its variant) or a run for another
        recipient (its tag), so a run for Yemen never replaces the pages of Iraq."""
        if self.variant:
            return f"{notebook_stem}{GRID_STEM_SEP}{self.variant}"
        if self.recipients != DEFAULT_RECIPIENTS:
            return f"{notebook_stem}{GRID_STEM_SEP}{self.tag()}"
        return notebook_stem

    # ------------------------------------------------------------------ the SIPRI register

    def register_files(self) -> list[Path]:
        """The exports at hand, by name, without reading them (what a step that uses any depends on)."""
        if self.sipri_register is not None:
            return [self.sipri_register]
        folder = self.sipri_dir
        return sorted(p for p in folder.glob("*.csv") if p.is_file() and not p.name.startswith(".")) \
            if folder.is_dir() else []

    @cached_property
    def registers(self) -> tuple[Path, ...]:
        """The exports at hand, primary first: newest release by preamble date, then the larger
        file, then the name (reads each preamble, so it is computed on first use only)."""
        found = self.register_files()
        if len(found) > 1:
            found.sort(key=_release_key, reverse=True)
        return tuple(found)

    @property
    def primary_register(self) -> Path | None:
        """The export notebooks 03-04 analyse: the given one, else the newest release at hand."""
        return self.registers[0] if self.registers else None

    @property
    def cache_dir(self) -> Path:
        """The run's local state (``output_dir/.cache``: the runner's step cache and memos)."""
        return paths.output_folder(self.output_dir, "cache")

    @property
    def register_cache_dir(self) -> Path:
        """Where parsed exports are cached (``cache_dir/registers``; see :mod:`takingstock.data.sipri_cache`)."""
        return self.cache_dir / "registers"

    @property
    def body_cache_dir(self) -> Path:
        """Where rendered page bodies are kept between runs (``cache_dir/bodies``; see
        :mod:`takingstock.publish.rendered`)."""
        return self.cache_dir / "bodies"

    def read_register(self, path: str | Path):
        """Any export, read through the parsed-register cache (a new ``Register`` each call)."""
        # lazy: the reader loads pandas and pyarrow, measured +1.6-2.9 s (see _read_register)
        from takingstock.data.sipri_cache import read_register_cached

        return read_register_cached(path, self.register_cache_dir)

    def register(self):
        """The primary export, read (:class:`takingstock.data.sipri.Register`), or ``None``."""
        return None if self.primary_register is None else _read_register(self.primary_register, self.register_cache_dir)

    def release_date(self) -> _dt.date | None:
        """The primary export's release date, from its preamble only (cheap)."""
        return None if self.primary_register is None else read_release_date(self.primary_register)

    def missing_register(self) -> str:
        """What a notebook says when no export is at hand (the folder named relative to the
        project, or as the raw folder's ``sipri/``: never a path of the user's machine)."""
        try:
            shown = self.sipri_dir.relative_to(paths.ROOT)
        except ValueError:
            shown = "the sipri folder of the raw data"
        return missing_register_message(shown)

    # ------------------------------------------------------------------ windows, periods

    def windows(self) -> dict[str, Window]:
        """Every window of the windows file."""
        return load_windows_table(self.windows_file)

    def window(self, window_id: str) -> Window:
        """One window by id; :class:`WindowError` naming the known ids when it is not there."""
        table = self.windows()
        if window_id not in table:
            raise WindowError(f"unknown window {window_id!r} in {self.windows_file}; known: {', '.join(table)}")
        return table[window_id]

    def window_for(self, window_id: str, names: tuple[str, ...] | list[str] | None = None) -> tuple[Window | None, str]:
        """``(window, "")`` when the window applies to ``names`` (default: the run's recipients),
        else ``(None, sentence saying why the section is left out)``."""
        names = list(self.recipients if names is None else names)
        win = self.window(window_id)
        if win.applies_to(names):
            return win, ""
        return None, (f"The window {win.label!r} is defined for {', '.join(win.recipients)} only "
                      f"({self.windows_file.name}); this run is for {', '.join(names)}, so the section is left out.")

    def period_table(self):
        """The historical periods (:func:`takingstock.data.periods.load_periods`)."""
        from takingstock.data.periods import load_periods  # lazy: pandas and pyarrow (see the note at the imports)

        return load_periods(self.periods)

    # ------------------------------------------------------------------ everything, for a reader

    def files(self) -> dict[str, Any]:
        """Every input and output location of the run, by role (for tests and ``pipeline.py list``)."""
        return {
            "raw_dir": self.raw_dir, "processed_dir": self.processed_dir, "output_dir": self.output_dir,
            "catalogues": self.catalogue_files(), "crosswalk": self.crosswalk, "periods": self.periods,
            "sources": self.sources_file, "aliases": self.aliases_file, "claims": self.claims_file,
            "windows": self.windows_file, "country_groups": self.groups_file,
            "weapon_types": self.weapon_types_file,
            "sipri_dir": self.sipri_dir, "registers": list(self.registers),
            "primary_register": self.primary_register,
            "processed_catalogue": self.catalogue_file, "ledger": self.ledger_file,
            "register_cache": self.register_cache_dir,
            "figures": self.figures_dir, "tables": self.tables_dir, "summaries": self.summaries_dir,
            "notebooks": self.notebooks_dir, "briefings": self.briefings_dir,
        }


_CACHE: dict[tuple[str, int, int], Any] = {}


def _read_register(path: Path, cache_dir: Path):
    """Read an export once per process (keyed by path, size and modification time), through
    the parsed-register cache.

    The reader is imported here, not at the top: it loads pandas and pyarrow, which every
    ``pipeline.py`` command would then pay for through the runner's import of this module,
    although only the kernels read registers. Measured on the shared 2-core machine (5 runs
    each): importing ``takingstock.runner.plan`` takes 0.6-0.9 s, and 2.3-3.9 s with the reader.
    """
    # lazy: the reader loads pandas and pyarrow, measured +1.6-2.9 s (see the docstring)
    from takingstock.data.sipri_cache import read_register_cached

    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = read_register_cached(path, cache_dir)
    return _CACHE[key]
