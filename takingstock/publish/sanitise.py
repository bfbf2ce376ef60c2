"""Making the HTML of notebook outputs safe to publish, with plotly figures still working.

Method
------
Strings from data files reach a page through table outputs, figure data, printed text and our
own header. We do not trust the HTML in outputs blindly, and we cannot use nbconvert's
``sanitize_html`` (it strips the plotly ``<script>`` and table ``<th>`` cells). Instead
:func:`sanitize_output_html`

(a) recognises each plotly figure script, checks that it is exactly a
    ``Plotly.newPlot(id, data, layout, config)`` call whose arguments parse as JSON
    (:func:`parse_plotly_script`), and re-emits it from that JSON with ``<``, ``>``, ``&`` and
    ``/`` escaped (:func:`plotly_script`), and
(b) passes all other markup through an allow-list cleaner (bleach, :func:`clean_markup`) that
    escapes anything else, so a ``<script>`` hidden in a designation shows as text. On the way
    each table becomes a keyboard-focusable scrolling region named after its caption.

plotly.js itself and plotly's notebook set-up snippet are dropped (the page loads the one shared
``plotly.min.js``). An output that carries only plotly's JSON (no HTML) is drawn from that JSON
by :func:`figure_from_json`. JavaScript and widget outputs are dropped by the body renderer
(:mod:`takingstock.publish.body`); text, errors and LaTeX are escaped by nbconvert.

Caveats: a script that is not a plotly figure call is escaped (it shows as text and never runs)
and an :class:`UnsafeOutputWarning` is issued; headings inside HTML outputs are not demoted.
"""

from __future__ import annotations

import functools
import html as _html
import json
import re
import uuid
import warnings
from typing import Any, Mapping

from bleach.css_sanitizer import CSSSanitizer
from bleach.html5lib_shim import Filter
from bleach.sanitizer import Cleaner
from bs4 import BeautifulSoup

PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json"

#: Tags an output's HTML may keep (everything else is escaped and shows as text).
ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del",
        "details", "div", "dl", "dt", "em", "figcaption", "figure", "h2", "h3", "h4", "h5",
        "h6", "hr", "i", "img", "li", "ol", "p", "pre", "small", "span", "strong", "sub",
        "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
    }
)
ALLOWED_ATTRIBUTES = {
    "*": ["class", "id", "role", "title", "lang", "style", "aria-label", "aria-describedby",
          "aria-labelledby", "aria-hidden", "data-alt"],
    "a": ["href", "class", "id", "title"],
    "img": ["src", "alt", "width", "height", "class"],
    "th": ["scope", "colspan", "rowspan", "class", "id", "style"],
    "td": ["colspan", "rowspan", "class", "id", "style", "headers"],
    "table": ["class", "id", "summary", "style", "data-table"],
}
ALLOWED_PROTOCOLS = ["http", "https", "mailto", "data"]

_PLOTLY_HEAD_RE = re.compile(
    r"^\s*(?:window\.PLOTLYENV\s*=\s*window\.PLOTLYENV\s*\|\|\s*\{\};\s*)?"
    r"if\s*\(\s*document\.getElementById\(\s*\"(?P<id>[A-Za-z0-9_-]+)\"\s*\)\s*\)\s*\{\s*"
    r"Plotly\.newPlot\(\s*\"(?P<id2>[A-Za-z0-9_-]+)\"\s*,",
    re.DOTALL,
)
_PLACEHOLDER = "TAKINGSTOCKPLOTLYSCRIPT{}X"


class UnsafeOutputError(ValueError):
    """An output carried a script that is not a plain plotly figure call."""


class UnsafeOutputWarning(UserWarning):
    """A script in an output was escaped instead of run."""


def _json_for_script(value: Any) -> str:
    """JSON text that cannot end a ``<script>`` element or open a comment."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("/", "\\/"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


def parse_plotly_script(script: str) -> tuple[str, list, dict, dict]:
    """Parse plotly's own figure script into ``(div_id, data, layout, config)``.

    Only the exact shape plotly's ``to_html`` writes (or :func:`plotly_script`, which leaves out
    the ``PLOTLYENV`` line) is accepted: the ``PLOTLYENV`` line, a ``getElementById`` guard and one ``Plotly.newPlot(id, data, layout[, config])`` call whose
    arguments are JSON literals. Anything else (an extra statement, a function, a variable)
    raises :class:`UnsafeOutputError`.
    """
    match = _PLOTLY_HEAD_RE.match(script)
    if not match or match["id"] != match["id2"]:
        raise UnsafeOutputError("script is not a plotly figure call")
    decoder = json.JSONDecoder()
    pos = match.end()
    args = []
    while True:
        while pos < len(script) and script[pos] in " \t\r\n":
            pos += 1
        try:
            value, pos = decoder.raw_decode(script, pos)
        except json.JSONDecodeError as exc:
            raise UnsafeOutputError(f"plotly call argument {len(args) + 2} is not JSON") from exc
        args.append(value)
        while pos < len(script) and script[pos] in " \t\r\n":
            pos += 1
        if pos < len(script) and script[pos] == ",":
            pos += 1
            continue
        break
    rest = script[pos:]
    if not re.fullmatch(r"\)\s*;?\s*\}\s*;?\s*", rest):
        raise UnsafeOutputError("unexpected code after the plotly call")
    if len(args) not in (2, 3) or not isinstance(args[0], list):
        raise UnsafeOutputError("plotly call must have data, layout and optional config")
    data, layout = args[0], args[1]
    config = args[2] if len(args) == 3 else {}
    if not isinstance(layout, dict) or not isinstance(config, dict):
        raise UnsafeOutputError("plotly layout and config must be JSON objects")
    return match["id"], data, layout, config


def plotly_script(div_id: str, data: list, layout: dict, config: dict) -> str:
    """Our own, canonical figure script (JSON escaped so it cannot break out)."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", div_id):
        raise UnsafeOutputError(f"bad plotly div id {div_id!r}")
    return (
        "<script>\n"
        f'if (document.getElementById("{div_id}")) {{\n'
        f'  Plotly.newPlot("{div_id}", {_json_for_script(data)}, {_json_for_script(layout)}, '
        f"{_json_for_script(config)});\n"
        "}\n</script>"
    )


def clean_markup(markup: str) -> str:
    """Allow-list clean of HTML (bleach): disallowed tags are escaped (shown as text), not
    executed; each table is made a scrolling region on the way (:func:`_table_scroll_filter`)."""
    return Cleaner(tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, protocols=ALLOWED_PROTOCOLS,
                   css_sanitizer=CSSSanitizer(), strip=False, strip_comments=True,
                   filters=[_table_scroll_filter()]).clean(markup)


@functools.lru_cache(maxsize=1)
def _table_scroll_filter():
    """A bleach filter (html5lib's token stream, after the allow-list) that wraps each
    outermost table in a keyboard-focusable scrolling region named after its caption.

    Wide tables scroll sideways instead of breaking the page; a scrolling region must be
    reachable by keyboard (axe rule ``scrollable-region-focusable``), hence ``tabindex="0"``
    and a label. The tokens of a table are held until its caption (its first child, if any)
    has been read, so the label is known when the region opens.
    """
    def region(label: str) -> dict:
        attrs = {"class": "table-scroll", "role": "region", "tabindex": "0", "aria-label": label.strip() or "Table"}
        return {"type": "StartTag", "name": "div", "namespace": None, "data": {(None, k): v for k, v in attrs.items()}}

    class TableScroll(Filter):
        def __iter__(self):
            depth, held, caption, in_caption = 0, None, [], False
            for token in super().__iter__():
                kind, name = token["type"], token.get("name")
                opens, closes = kind == "StartTag" and name == "table", kind == "EndTag" and name == "table"
                depth += opens - closes
                if held is None and not (opens and depth == 1):
                    yield token
                elif held is None:  # an outermost table: hold it until its label is known
                    held, caption, in_caption = [token], [], False
                    continue
                else:
                    held.append(token)
                    if in_caption:
                        if kind in ("Characters", "SpaceCharacters"):
                            caption.append(token["data"])
                        elif kind == "Entity":  # bleach hands &lt; and the like on as entities
                            caption.append(_html.unescape(f"&{name};"))
                        in_caption = not (kind == "EndTag" and name == "caption")
                        if in_caption:
                            continue
                    elif kind == "SpaceCharacters" or (kind == "StartTag" and name == "caption" and all(
                            t["type"] == "SpaceCharacters" for t in held[1:-1])):
                        in_caption = kind == "StartTag"
                        continue
                    yield region("".join(caption))
                    yield from held
                    held = None
                if closes and depth == 0:
                    yield {"type": "EndTag", "name": "div", "namespace": None}

    return TableScroll


def _is_plotly_library(script: str) -> bool:
    """True for plotly.js itself or plotly's notebook set-up snippet (both dropped)."""
    head = script.lstrip()[:400]
    return (
        head.startswith("window.PlotlyConfig")
        or ("plotly.js v" in head and len(script) > 100_000)
    )


def sanitize_output_html(markup: str) -> str:
    """Make one ``text/html`` output safe to publish, keeping plotly figures working.

    The markup is read with an HTML parser (BeautifulSoup, Python's ``html.parser``). Each
    ``<script>`` must be a plotly figure call (see :func:`parse_plotly_script`); it is replaced
    by our own script rebuilt from the parsed JSON. Everything else goes through
    :func:`clean_markup` (bleach's allow-list, which also makes each table a scrolling region).

    A script that is not a plotly figure call is escaped (it shows as text and never runs)
    and an :class:`UnsafeOutputWarning` is issued.
    """
    scripts: list[str] = []
    rejected: list[str] = []
    if "<script" not in markup.lower():  # nothing to take out: the allow-list alone
        return clean_markup(markup)
    soup = BeautifulSoup(markup, "html.parser")
    for script in soup.find_all("script"):
        text = script.string or ""
        try:
            if script.attrs not in ({}, {"type": "text/javascript"}):
                raise UnsafeOutputError(f"script with attributes {script.attrs!r} is not allowed")
            scripts.append(plotly_script(*parse_plotly_script(text)))
        except UnsafeOutputError as exc:
            if _is_plotly_library(text):
                script.decompose()  # the page loads the one shared plotly.min.js instead
                continue
            rejected.append(str(exc))
            script.replace_with(str(script))  # a text node: escaped when written, never run
            continue
        script.replace_with(_PLACEHOLDER.format(len(scripts) - 1))
    cleaned = clean_markup(str(soup))
    for i, script in enumerate(scripts):
        token = _PLACEHOLDER.format(i)
        if cleaned.count(token) != 1:
            raise UnsafeOutputError("a plotly script sat where it cannot be restored")
        cleaned = cleaned.replace(token, script)
    for reason in rejected:
        warnings.warn(f"an output script was escaped, not run: {reason}", UnsafeOutputWarning,
                      stacklevel=2)
    return cleaned


def figure_from_json(fig_json: Mapping) -> str:
    """A plotly div for an output that carries only the plotly mimetype (no HTML)."""
    layout = dict(fig_json.get("layout") or {})
    title = layout.get("title")
    if isinstance(title, Mapping):
        title = title.get("text")
    alt = str(title or "Chart (no text alternative was given)")
    div_id = str(uuid.uuid4())
    return (
        f'<figure class="ts-figure" role="group" aria-label="{_html.escape(alt)}">'
        f'<div id="{div_id}" class="plotly-graph-div" style="height:100%; width:100%;"></div>'
        + plotly_script(div_id, list(fig_json.get("data") or []), layout,
                        {"responsive": True})
        + f"<figcaption>{_html.escape(alt)}</figcaption></figure>"
    )
