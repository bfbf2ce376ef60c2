"""Page bodies rendered ahead, and kept between runs, so a page is rendered once per notebook version.

Method
------
* **Ahead, in the run.** The runner renders a notebook's body as soon as the notebook is done
  (:func:`prerender_body`, while the next notebooks run); the page takes it
  (:func:`prerendered_body`) only if the notebook file is unchanged and every download link
  the render consulted (:class:`Consulted`) is the same in the final
  :class:`~takingstock.publish.downloads.Downloads`; otherwise it renders again.
* **Between runs.** Given a folder (the publish step passes ``output/.cache/bodies``), each
  body rendered is also written there, one JSON file per notebook stem: the SHA-256 of the
  executed notebook it came from, the renderer it came from (:func:`renderer_version`: the
  source of the modules that shape a body and the versions of nbconvert, nbformat, mistune,
  jinja2, bleach, tinycss2 and BeautifulSoup), the links it consulted, and the body. A later run whose publish step reruns
  (a grid over new recipients, one notebook edited) takes the bodies of the notebooks that did
  not rerun from there instead of rendering them again. A file that does not match in every
  one of these is ignored, and so is one that is damaged.
* **Nothing planted is published.** A body is HTML that our sanitiser made safe; read back from
  a folder that may have been copied from someone else, it would reach the page and the
  browser that prints the PDF without passing through the sanitiser again. So every file
  carries an HMAC-SHA256 of its content under a key of this user's
  (``$XDG_CACHE_HOME/taking-stock/body-key``, else ``~/.cache/...``, made on first use, mode
  600), and a file whose MAC does not verify is ignored: bodies rendered on another machine, or
  written by hand, are rendered again. Without a usable key folder nothing is kept on disk.

Caveats: the memo in memory is per process, the one on disk per output folder; a body depends
on the notebook, the renderer and the download links, never on the page's masthead (lead,
headlines, build stamp), which is rendered for every page on every run. An upgrade of another
library that changes how a body renders is not seen; ``--force`` reruns the notebooks (new
executed files, so new bodies), and deleting ``output/.cache/bodies`` is always safe.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

import nbformat

from takingstock.core import atomic
from takingstock.publish.downloads import Downloads, collect_downloads, outputs_of_pages
from takingstock.publish.body import render_body

#: The modules whose source shapes a body, and the packages whose versions do (:func:`renderer_version`).
_RENDERER_MODULES = ("body", "sanitise", "downloads")
_RENDERER_PACKAGES = ("nbconvert", "nbformat", "mistune", "jinja2", "bleach", "tinycss2", "beautifulsoup4")


class Consulted(Downloads):
    """The same links as ``downloads`` (none for ``None``), recording every lookup a render makes."""

    def __init__(self, downloads: "Downloads | None"):
        if downloads is None:
            super().__init__({}, {})
        else:
            super().__init__(downloads.tables, downloads.figures, downloads.records)
        self.seen: dict[tuple[str, str], tuple[str, ...]] = {}

    def links(self, kind: str, name: str) -> list[dict[str, str]]:
        got = super().links(kind, name)
        self.seen[(kind, name)] = tuple(link["href"] for link in got)
        return got


def _links_hold(seen: dict[tuple[str, str], tuple[str, ...]], downloads: "Downloads | None") -> bool:
    """Every link a render consulted is the same in ``downloads``."""
    final = Consulted(downloads)
    return all(tuple(h["href"] for h in final.links(kind, name)) == hrefs for (kind, name), hrefs in seen.items())


@functools.lru_cache(maxsize=1)
def renderer_version() -> str:
    """SHA-256 of what shapes a body besides the notebook: our renderer modules' source, the
    findings' markers and the versions of the packages that render, sanitise and parse it."""
    import importlib.metadata as metadata  # lazy: only when a body is kept or looked up on disk

    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in _RENDERER_MODULES:
        digest.update((here / f"{name}.py").read_bytes())
    digest.update((here.parent / "report" / "findings.py").read_bytes())
    for package in _RENDERER_PACKAGES:
        try:
            digest.update(f"{package}={metadata.version(package)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package}=?".encode())
    return digest.hexdigest()


def _key_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "taking-stock" / "body-key"


def _read_key(path: Path) -> bytes | None:
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def _user_key() -> bytes | None:
    """This user's key for the bodies' MACs (made on first use), or None when it cannot be had."""
    path = _key_file()
    key = _read_key(path)
    if key is None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_hex(32))
        except OSError:  # another process made it first, or no writable home
            pass
        key = _read_key(path)
    return key


def _mac(key: bytes, fields: dict) -> str:
    return hmac.new(key, json.dumps(fields, sort_keys=True).encode(), hashlib.sha256).hexdigest()


def _entry_file(cache_dir: Path, nb_path: Path) -> Path:
    return Path(cache_dir) / f"{nb_path.stem}.json"


def keep_body(cache_dir: str | os.PathLike | None, nb_path: Path, seen: dict, body: str) -> None:
    """Write a rendered body to ``cache_dir`` for later runs (nothing without a folder or key)."""
    key = _user_key() if cache_dir is not None else None
    if key is None:
        return
    fields = {"notebook": atomic.sha256_file(nb_path), "renderer": renderer_version(),
              "consulted": sorted([kind, name, list(hrefs)] for (kind, name), hrefs in seen.items()), "body": body}
    atomic.write_text(_entry_file(Path(cache_dir), nb_path), json.dumps({**fields, "mac": _mac(key, fields)}))


def kept_body(cache_dir: str | os.PathLike | None, nb_path: Path, downloads: "Downloads | None") -> str | None:
    """The body a run before kept for this very notebook file and renderer, if its MAC verifies
    and its links still hold; else None."""
    if cache_dir is None:
        return None
    try:
        entry = json.loads(_entry_file(Path(cache_dir), nb_path).read_text(encoding="utf-8"))
        mac = entry.pop("mac")
        key = _user_key()
        if key is None or not hmac.compare_digest(str(mac), _mac(key, entry)):
            return None
        if entry["notebook"] != atomic.sha256_file(nb_path) or entry["renderer"] != renderer_version():
            return None
        seen = {(kind, name): tuple(hrefs) for kind, name, hrefs in entry["consulted"]}
        body = entry["body"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # damaged or foreign: render again
    return body if isinstance(body, str) and _links_hold(seen, downloads) else None


#: Bodies rendered ahead in this process, by notebook file: (size, mtime_ns, the download links
#: the render consulted, the body).
_BODIES: dict[str, tuple[int, int, dict, str]] = {}


def _file_version(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def prerender_body(nb_path: str | os.PathLike, summaries_dir, tables_dir=None, figures_dir=None,
                   cache_dir: str | os.PathLike | None = None) -> None:
    """Render an executed notebook's body now (while the run goes on) for its page.

    The links it would carry are taken from the files present now; the page uses the body only
    if the notebook file is unchanged and every link the render consulted is the same in the
    final :class:`Downloads` (:func:`prerendered_body`). With ``cache_dir`` the body is also
    kept there for later runs (:func:`keep_body`).
    """
    nb_path = Path(nb_path)
    version = _file_version(nb_path)
    records = outputs_of_pages(summaries_dir, [nb_path.stem])
    consulted = Consulted(collect_downloads(records, tables_dir=tables_dir, figures_dir=figures_dir))
    body = render_body(nbformat.read(nb_path, as_version=4), consulted)
    _BODIES[str(nb_path.resolve())] = (*version, consulted.seen, body)
    keep_body(cache_dir, nb_path, consulted.seen, body)


def prerendered_body(nb_path: Path, downloads: "Downloads | None",
                     cache_dir: str | os.PathLike | None = None) -> str | None:
    """The body rendered ahead for ``nb_path`` in this run, else the one kept by an earlier run
    (:func:`kept_body`), if it still holds; else None. A body rendered ahead that no longer
    holds is not looked up on disk: the kept one is that same render."""
    memo = _BODIES.pop(str(nb_path.resolve()), None)
    if memo is None:
        return kept_body(cache_dir, nb_path, downloads)
    return memo[3] if memo[:2] == _file_version(nb_path) and _links_hold(memo[2], downloads) else None


def body_for_page(nb_path: Path, nb, downloads: "Downloads | None",
                  cache_dir: str | os.PathLike | None = None) -> str:
    """A page's body: rendered ahead or kept (:func:`prerendered_body`), else rendered now and
    kept for later runs."""
    body = prerendered_body(nb_path, downloads, cache_dir)
    if body is None:
        consulted = Consulted(downloads) if downloads is not None else None
        body = render_body(nb, consulted)
        keep_body(cache_dir, nb_path, consulted.seen if consulted is not None else {}, body)
    return body
