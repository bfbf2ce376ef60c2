"""The lines of a SIPRI export after its header, split into deals, and the checks on them.

Each deal becomes its 16 text fields (:func:`split_records`); typing and checking the values is
:mod:`takingstock.data.sipri_columns`' job. Every refusal raises
:class:`takingstock.data.sipri_format.SipriFormatError` naming the file and the line(s).

What is refused here
--------------------
* **Split deals.** Only a break inside Comments is a known SIPRI artefact, and only its shape
  is joined: a first piece of 13 fields (it ends inside Comments), middle lines without a
  comma, a last piece of 4 fields. Any other short line is a deal split inside another field
  (or cut) and is refused naming both lines (so a deal split inside its last field no longer
  swallows the next deal's recipient).
* **Pasted exports.** A second header or a preamble line among the deals; a recipient whose
  deals start again after another's, or recipients out of alphabetical order (checked
  ignoring case and accents, :func:`order_key`: both real releases and the subsets are in that
  order); two consecutive deals that repeat two earlier consecutive deals exactly (a block
  pasted twice; a single repeated deal is legitimate, SIPRI has a few).
* **Quoted lines** among the deals (see :mod:`takingstock.data.sipri_format`), and lines with
  too many fields.

Caveat: within a recipient SIPRI's deals follow no order, so a cut at a line break inside the
last recipient's rows cannot be seen from the rows (see :mod:`takingstock.data.sipri_releases`
for what is checked instead).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from takingstock.data.sipri_format import (
    HEADER_START,
    N_COLUMNS,
    QUOTED_MESSAGE,
    RAW_COLUMNS,
    SipriFormatError,
    strip_padding,
)

__all__ = ["split_records", "order_key", "check_order", "check_duplicate_blocks", "record_keys"]

# SIPRI's Comments is column 13: a line broken inside it has 13 fields, its last piece 4.
_COMMENTS_POS = 13
_COMMENT_TAIL = N_COLUMNS - _COMMENTS_POS + 1
_PREAMBLE_RE = re.compile(
    r"^\s*(Transfers of major conventional arms from |Data generated:|Source: SIPRI Arms "
    r"Transfers Database|A '\?' in a column indicates)"
)


_PIECE_PADDING_RE = re.compile(r";{2,}[ \t\r]*$")


def _strip_piece_padding(line: str) -> str:
    """Like :func:`strip_padding` for a piece of a deal broken inside Comments, whose text
    may itself end with one ``;`` (SIPRI separates remarks with ``; ``): only a run of two or
    more ``;`` is padding there."""
    return _PIECE_PADDING_RE.sub("", line.rstrip(" \t\r")).rstrip(" \t\r")


def _is_quoted(line: str) -> bool:
    """A deal line whose fields a spreadsheet put in double quotes: its first field (a
    recipient name, never quoted by SIPRI) starts with one. A quote inside Comments is text."""
    return line.lstrip("\ufeff").startswith('"')


def _check_not_pasted(line: str, lineno: int, header_lineno: int, path: Path) -> None:
    """Refuse a second header, a preamble line or a quoted line among the deals."""
    if line.startswith(HEADER_START):
        raise SipriFormatError(
            f"{path}, line {lineno}: a second header line (the first is on line "
            f"{header_lineno}): two exports pasted together; use one export"
        )
    if _PREAMBLE_RE.match(line):
        raise SipriFormatError(
            f"{path}, line {lineno}: a line of a SIPRI preamble after the header on line "
            f"{header_lineno} ({line[:60]!r}): two exports pasted together; use one export"
        )
    if _is_quoted(line):
        raise SipriFormatError(f"{path}, line {lineno}: {QUOTED_MESSAGE}")


def _n_fields(lines: list[str], i: int) -> int:
    """Number of fields of line ``i`` (0 for a blank line or past the end)."""
    if i < 0 or i >= len(lines):
        return 0
    line = strip_padding(lines[i])
    return len(line.split(",")) if line.strip() else 0


def _split_refused(lines: list[str], i: int, k: int, path: Path) -> SipriFormatError:
    """The error for a short line at index ``i`` (``k`` fields) that is no Comments break."""
    nxt = _n_fields(lines, i + 1)
    if k == 1:
        prev = _n_fields(lines, i - 1)
        return SipriFormatError(
            f"{path}, line {i + 1}: 1 of {N_COLUMNS} fields (no comma), between line {i} "
            f"({prev} fields) and line {i + 2} ({nxt} fields): a deal split across lines "
            f"{i}-{i + 1} or {i + 1}-{i + 2} inside a field; only a line break inside "
            f"Comments is a known SIPRI artefact. The export is damaged: use a complete copy"
        )
    column = RAW_COLUMNS[k - 1]
    return SipriFormatError(
        f"{path}, line {i + 1}: {k} of {N_COLUMNS} fields, and line {i + 2} has {nxt}: a deal "
        f"split across lines {i + 1} and {i + 2} inside column {k} ({column!r}); only a line "
        f"break inside Comments (column {_COMMENTS_POS}: pieces of {_COMMENTS_POS} and "
        f"{_COMMENT_TAIL} fields) is a known SIPRI artefact. The export is damaged: use a "
        f"complete copy"
    )


def _join_comment_break(lines: list[str], i: int, fields: list[str], path: Path) -> tuple[list[str], list[int]]:
    """Join a deal broken inside Comments: its first piece (line ``i``) has 13 fields,
    zero or more middle lines have no comma, the last piece has 4 fields.

    Returns (the 16 fields, the file line numbers of the continuation lines). Raises
    :class:`SipriFormatError` naming both lines for any other shape (a split inside
    another field, or a cut).
    """
    n = len(lines)
    if len(fields) != _COMMENTS_POS:
        if i + 1 >= n or all(not strip_padding(l).strip() for l in lines[i + 1:]):
            raise SipriFormatError(
                f"{path}, line {i + 1}: the last deal has {len(fields)} of {N_COLUMNS} "
                f"fields; the file looks truncated"
            )
        raise _split_refused(lines, i, len(fields), path)
    fields = _strip_piece_padding(lines[i]).split(",")  # keeps a ';' ending the piece
    parts, cont = [fields[-1].rstrip()], []
    j = i + 1
    while j < n:
        piece = strip_padding(lines[j])
        k = len(piece.split(",")) if piece.strip() else 0
        if k == 1 and not _PREAMBLE_RE.match(piece) and not piece.startswith(HEADER_START):
            parts.append(_strip_piece_padding(lines[j]).strip())
            cont.append(j + 1)
            j += 1
            continue
        if k == _COMMENT_TAIL:
            tail = piece.split(",")
            parts.append(tail[0].strip())
            cont.append(j + 1)
            comment = " ".join(p for p in parts if p)
            return fields[:-1] + [comment] + tail[1:], cont
        break
    if j >= n:
        raise SipriFormatError(
            f"{path}, line {i + 1}: the last deal has {len(fields)} of {N_COLUMNS} fields; "
            f"the file looks truncated"
        )
    raise SipriFormatError(
        f"{path}, line {i + 1}: {len(fields)} of {N_COLUMNS} fields (it ends inside Comments), "
        f"and line {j + 1} does not end that deal (it has {_n_fields(lines, j)} fields, "
        f"a line continuing Comments has {_COMMENT_TAIL}, or 1 in the middle): the deal is "
        f"cut or split inside another field. The export is damaged: use a complete copy"
    )


def split_records(lines: list[str], start: int, path: Path) -> tuple[list[list[str]], list[int], list[int]]:
    """Split data lines into 16-field records, joining deals broken inside Comments.

    ``start`` is the index of the first line after the header. Only one kind of line break
    inside a deal is accepted, the one SIPRI's exports really have: inside Comments
    (:func:`_join_comment_break`; the pieces are joined with a space). Any other short line,
    a second header or preamble, or a quoted line raises :class:`SipriFormatError`.

    Returns:
        (records, file line number of each record, file line numbers of joined lines).
    """
    records: list[list[str]] = []
    linenos: list[int] = []
    joined: list[int] = []
    i, n = start, len(lines)
    while i < n:
        line = strip_padding(lines[i])
        if not line.strip():
            i += 1
            continue
        _check_not_pasted(line, i + 1, start, path)
        fields = line.split(",")
        first = i
        if len(fields) < N_COLUMNS:
            fields, cont = _join_comment_break(lines, i, fields, path)
            joined.extend(cont)
            i = cont[-1] - 1
        elif len(fields) > N_COLUMNS:
            extra = fields[N_COLUMNS:]
            if all(not f.strip(" ;") for f in extra):
                fields = fields[:N_COLUMNS]
            else:
                raise SipriFormatError(
                    f"{path}, line {first + 1}: {len(fields)} fields where a SIPRI deal has "
                    f"{N_COLUMNS} (an unexpected comma inside a field?)"
                )
        records.append(fields)
        linenos.append(first + 1)
        i += 1
    return records, linenos, joined


def order_key(name: str) -> str:
    """The key recipients are in alphabetical order by: case and accents ignored (``Côte
    d'Ivoire`` sorts as ``Cote d'Ivoire``, where SIPRI puts it, between Congo and Croatia)."""
    plain = unicodedata.normalize("NFKD", name)
    return "".join(c for c in plain if not unicodedata.combining(c)).casefold()


def _order_problem(records: list[list[str]], linenos: list[int], col: int) -> str | None:
    """Why the deals are not grouped by column ``col`` in alphabetical order (None if they are).

    SIPRI's exports list each recipient's deals together, recipients in alphabetical order
    (case-insensitive); checked on both real releases and the subsets.
    """
    spans: dict[str, tuple[int, int]] = {}
    prev_key, prev_name = None, ""
    for rec, ln in zip(records, linenos):
        name = rec[col].strip()
        key = order_key(name)
        if key == prev_key:
            spans[key] = (spans[key][0], ln)
            continue
        if key in spans:
            a, b = spans[key]
            return (f"line {ln}: the deals of {name!r} start again (they were on lines {a}-{b}, "
                    f"then came {prev_name!r})")
        if prev_key is not None and key < prev_key:
            return (f"line {ln}: {name!r} comes after {prev_name!r}, out of alphabetical "
                    f"order")
        spans[key] = (ln, ln)
        prev_key, prev_name = key, name
    return None


def check_order(records: list[list[str]], linenos: list[int], path: Path) -> None:
    """Refuse deals whose recipients restart or leave alphabetical order (a register laid
    out by supplier, grouped and sorted by supplier instead, is accepted)."""
    problem = _order_problem(records, linenos, 0)
    if problem is None or _order_problem(records, linenos, 1) is None:
        return
    raise SipriFormatError(
        f"{path}, {problem}: a SIPRI export lists each recipient's deals together, recipients "
        f"in alphabetical order; two exports were pasted together or the rows re-ordered. "
        f"Use one export as SIPRI made it"
    )


def check_duplicate_blocks(keys: list[str], linenos: list[int], path: Path) -> None:
    """Refuse two consecutive deals that repeat two consecutive earlier deals exactly.

    A single repeated deal is legitimate (SIPRI has a few identical rows); a repeated run
    of two or more is a block pasted twice (none in either real release).
    """
    seen: dict[tuple[str, str], int] = {}
    for i in range(len(keys) - 1):
        pair = (keys[i], keys[i + 1])
        j = seen.get(pair)
        if j is not None and j + 1 < i:
            raise SipriFormatError(
                f"{path}, lines {linenos[i]}-{linenos[i + 1]}: these deals repeat lines "
                f"{linenos[j]}-{linenos[j + 1]} exactly: a block of deals appears twice "
                f"(pasted twice?). Use one export as SIPRI made it"
            )
        seen.setdefault(pair, i)


def record_keys(records: list[list[str]]) -> list[str]:
    """Each deal as one string: its trimmed fields joined with U+001F (computed once per read
    for the content checksum, the repeated-block check and the deal ids)."""
    return ["\x1f".join([f.strip() for f in rec]) for rec in records]
