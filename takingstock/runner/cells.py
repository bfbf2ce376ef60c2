"""Notebook parameters as a notebook declares them: read its ``parameters`` cell and the markers.

Reading
    The cell tagged ``parameters`` is read with Python's ``ast`` (same rules as
    ``papermill.inspect_notebook``; a test checks they agree), so a no-change run never
    imports papermill. Each top-level ``name = value`` or ``name: type = value`` line is a
    parameter; its type is the default's (bool, int, float, str, list, dict; ``None`` or an
    expression whose type cannot be read means any), or the annotation's. The ``# comment``
    after the value on the same line is its help text (a ``#`` inside the value, as in
    ``colour = "#0b4f8a"``, is not a comment).

Declaring what a value may be
    A comment may start with markers in parentheses, read before the help text::

        catalogues = str(paths.RAW / "catalogue_*.csv")  # (paths) a path, a glob or a list
        sipri_register = ""  # (path) one SIPRI export ("" = the newest in raw_dir/sipri)
        basis = "delivery"  # (one of: delivery, order, either) counting rule
        top_n = 10  # (min 1) countries shown before "other"
        year_from = 0  # (min 1800, max 2100) (0 means no bound) first year kept
        recipients = ["Iraq"]  # (recipient) SIPRI recipient(s)

    ``(path)``: a file or folder; a non-empty value is made absolute. ``(paths)``: a path, a
    glob or a non-empty list of them, each made absolute. ``(one of: a, b, c)``: the value
    (each item of a list) must be one of these. ``(min N)``, ``(max N)``, or both separated by
    a comma: inclusive bounds of a number (each item of a list). ``(V means ...)``: the value
    ``V`` is also accepted and skips the bounds and the pair check (``0`` meaning "no bound").
    Markers use no ``=``: papermill's own reader gives up on a line with two. ``(recipient)``: names that must be recipients of the run's SIPRI register
    or states of its crosswalk (:mod:`takingstock.runner.names`). A comment that starts with
    any other parenthesised text is refused, naming the notebook and line, so a typo in a
    marker does not silently turn a check off. The shared folders ``raw_dir``,
    ``processed_dir`` and ``output_dir`` are paths without a marker: the runner itself passes
    them.

Converting and checking the values given for them is :mod:`takingstock.runner.params`'.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import re
from pathlib import Path
from typing import Any, Mapping

from takingstock.runner.steps import SHARED_DIRS, ParameterError

_TYPE_NAMES = {"bool", "int", "float", "str", "list", "dict"}
NO_VALUE = object()  # Param.default_value() of a default that is not a literal
_BOUND_RE = re.compile(r"^(min|max)\s+(-?\d+(?:\.\d+)?)$")
_EXEMPT_RE = re.compile(r"^(.+?)\s+means\s+\S.*$")
KNOWN_MARKERS = "(path), (paths), (recipient), (one of: a, b), (min N), (max N), (min N, max M), (V means ...)"


@dataclasses.dataclass(frozen=True)
class Param:
    """A parameter declared in a notebook's ``parameters`` cell (see the module docstring).

    Attributes:
        default: the default's source text.
        type: bool, int, float, str, list, dict, or None (any).
        help: the comment after the markers.
        kind: ``"path"``, ``"paths"`` or ``""``.
        choices: the allowed values of ``(one of: ...)``.
        bounds: ``("min" or "max", number)`` pairs.
        exempt: the value of ``(V means ...)``, or ``None``.
        recipient: checked against the register's recipients and the crosswalk's states.
    """

    name: str
    default: str
    type: str | None
    help: str = ""
    kind: str = ""
    choices: tuple[str, ...] = ()
    bounds: tuple[tuple[str, float], ...] = ()
    exempt: Any = None
    recipient: bool = False

    @property
    def is_path(self) -> bool:
        return bool(self.kind) or self.name in SHARED_DIRS

    def default_value(self) -> Any:
        """The default as a Python value, or a sentinel when it is not a literal."""
        try:
            return ast.literal_eval(self.default)
        except (ValueError, SyntaxError, TypeError):
            return NO_VALUE


# ------------------------------------------------------------------------- reading


def read_notebook(path: str | os.PathLike) -> dict:
    """Read a notebook file as plain JSON (no nbformat import)."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def cell_source(cell: Mapping) -> str:
    """A cell's source as one string."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def parameters_cell(nb: Mapping) -> tuple[int, str] | None:
    """Return (index, source) of the first code cell tagged ``parameters``, or None."""
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            return index, cell_source(cell)
    return None


def _literal_type(node: ast.AST) -> str | None:
    if isinstance(node, ast.JoinedStr):
        return "str"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _TYPE_NAMES:
        return node.func.id
    try:
        value = ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        return None
    if value is None:
        return None
    if isinstance(value, tuple):
        return "list"
    name = type(value).__name__
    return name if name in _TYPE_NAMES else None


def _marker(inner: str, where: str) -> dict[str, Any]:
    """One parenthesised marker as :class:`Param` fields; :class:`ParameterError` if unknown."""
    text = inner.strip()
    if text in ("path", "paths"):
        return {"kind": text}
    if text == "recipient":
        return {"recipient": True}
    if text.startswith("one of:"):
        choices = tuple(c.strip().strip("\"'") for c in text[len("one of:"):].split(","))
        if all(choices):
            return {"choices": choices}
    bounds = [_BOUND_RE.match(part.strip()) for part in text.split(",")]
    if all(bounds):
        return {"bounds": tuple((m.group(1), float(m.group(2))) for m in bounds)}
    exempt = _EXEMPT_RE.match(text)
    if exempt:
        try:
            return {"exempt": ast.literal_eval(exempt.group(1).strip())}
        except (ValueError, SyntaxError):
            pass
    raise ParameterError(f"{where}: unknown marker ({inner}) in the comment; known markers: {KNOWN_MARKERS}")


def parse_comment(comment: str, where: str) -> dict[str, Any]:
    """Split a parameter's comment into markers (as :class:`Param` fields) and its help text."""
    fields: dict[str, Any] = {}
    text = comment.strip()
    while text.startswith("("):
        end = text.find(")")
        if end < 0:
            raise ParameterError(f"{where}: unclosed marker {text!r} in the comment")
        for key, value in _marker(text[1:end], where).items():
            fields[key] = fields.get(key, ()) + value if key == "bounds" else value
        text = text[end + 1:].strip()
    fields["help"] = text
    return fields


_CODE_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def _segment(lines: list[str], node: ast.AST) -> str:
    """The source text of ``node`` in ``lines`` (the source's lines with their ends): what
    ``ast.get_source_segment`` gives, without splitting the source again for every node. The
    column offsets are UTF-8 byte offsets, as ast gives them."""
    first, last = node.lineno - 1, node.end_lineno - 1
    if first == last:
        return lines[first].encode()[node.col_offset:node.end_col_offset].decode()
    parts = [lines[first].encode()[node.col_offset:].decode(), *lines[first + 1:last],
             lines[last].encode()[:node.end_col_offset].decode()]
    return "".join(parts)


def notebook_parameters(path: str | os.PathLike | Mapping, nb: Mapping | None = None) -> dict[str, Param]:
    """Parameters declared by a notebook: name -> :class:`Param`, in cell order.

    Args:
        path: the notebook file (named in error messages), or the parsed notebook itself.
        nb: the notebook already parsed from ``path`` (it is then not read again).

    Raises:
        ParameterError: the cell is not valid Python, or a comment has an unknown marker.
    """
    if isinstance(path, Mapping):
        path, nb = "<notebook>", path
    found = parameters_cell(nb if nb is not None else read_notebook(path))
    if found is None:
        return {}
    source = found[1]
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ParameterError(f"{path}: the parameters cell is not valid Python: {exc}") from exc
    lines = source.splitlines()
    code_lines = _CODE_LINE.findall(source)  # by ast's own line ends (a form feed is not one), kept
    out: dict[str, Param] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, value, annotation = node.targets[0].id, node.value, None
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name, value, annotation = node.target.id, node.value, node.annotation
        else:
            continue
        kind = _literal_type(value)
        if annotation is not None and isinstance(annotation, ast.Name) and annotation.id in _TYPE_NAMES:
            kind = annotation.id
        line = lines[node.end_lineno - 1] if node.end_lineno else ""
        # end_col_offset counts UTF-8 bytes: what follows the value on its last line
        after = line.encode("utf-8")[node.end_col_offset or 0:].decode("utf-8", "replace")
        comment = after.split("#", 1)[1] if "#" in after else ""
        fields = parse_comment(comment, f"{path}: parameters cell, line {node.end_lineno} ({name})")
        out[name] = Param(name, _segment(code_lines, value), kind, **fields)
    return out


def source_cell_number(notebook: Path, cell_index: int, injected: bool) -> int:
    """1-based number, in the source notebook, of cell ``cell_index`` of its parameterised copy.

    papermill inserts its ``injected-parameters`` cell right after the ``parameters`` cell (or
    first when there is none) whenever parameters are passed; 0 means that injected cell.
    """
    if not injected:
        return cell_index + 1
    found = parameters_cell(read_notebook(notebook))
    injected_at = found[0] + 1 if found else 0
    if cell_index == injected_at:
        return 0
    return cell_index + 1 if cell_index < injected_at else cell_index
