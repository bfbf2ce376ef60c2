"""Where a chart's words land once drawn: plotly.js in headless Chromium, text boxes measured.

``text_boxes(page, fig, width, height)`` draws a plotly figure (a ``go.Figure`` or its JSON
dict) with the plotly.js bundled in the plotly package, at a fixed size, and returns the
on-screen box of every piece of text a reader must be able to read: the title, axis titles,
tick labels, legend entries, colour-bar title and annotations (the source line, period-band
labels). ``collisions(boxes)`` lists every pair of those boxes that overlap, except two tick
labels of one axis that are turned (the box of a turned label is wider than its glyphs, so
neighbours' boxes always touch; level ones are checked). Given the figure's size, it also lists
any text that runs off the figure (a long axis title cut at the edge).

A box is the bounding rectangle of the SVG ``<text>`` element (of a rotated label, the upright
rectangle around it): two boxes that do not overlap hold words that do not overlap.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import plotly

PLOTLYJS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
#: Overlap (px, both ways) below which two boxes count as touching, not colliding.
TOLERANCE_PX = 1.0

_MEASURE = r"""
([figure, width, height]) => {
  const div = document.getElementById('chart');
  const layout = Object.assign({}, figure.layout || {}, {width: width, height: height});
  return Plotly.newPlot(div, figure.data || [], layout, {staticPlot: true}).then(() => {
    const kinds = [
      ['title', '.g-gtitle text'], ['x-title', '.g-xtitle text'], ['y-title', '.g-ytitle text'],
      ['x-tick', '.xaxislayer-above .xtick text'], ['y-tick', '.yaxislayer-above .ytick text'],
      ['legend', '.legendtext'], ['colorbar-title', '.cbtitle text'],
      ['colorbar-tick', '.cbaxis text'], ['annotation', '.annotation-text'],
    ];
    const out = [];
    for (const [kind, sel] of kinds) {
      div.querySelectorAll(sel).forEach((el) => {
        const r = el.getBoundingClientRect();
        const text = (el.textContent || '').trim();
        const rotated = /rotate\((?!0[ ,)])/.test(el.getAttribute('transform') || '');
        if (text && r.width > 0 && r.height > 0) {
          out.push({kind, text, rotated, left: r.left, top: r.top, right: r.right, bottom: r.bottom});
        }
      });
    }
    return out;
  });
}
"""


@dataclass(frozen=True)
class Box:
    kind: str
    text: str
    rotated: bool
    left: float
    top: float
    right: float
    bottom: float

    def overlaps(self, other: "Box", tolerance: float = TOLERANCE_PX) -> bool:
        dx = min(self.right, other.right) - max(self.left, other.left)
        dy = min(self.bottom, other.bottom) - max(self.top, other.top)
        return dx > tolerance and dy > tolerance


def figure_json(fig) -> dict:
    """A figure as plain JSON (a dict is taken as already JSON)."""
    return fig if isinstance(fig, dict) else json.loads(fig.to_json())


def open_page(browser):
    """A page holding plotly.js and one empty ``<div id="chart">``."""
    page = browser.new_page()
    page.set_content('<!DOCTYPE html><html><body style="margin:0"><div id="chart"></div></body></html>')
    page.add_script_tag(path=str(PLOTLYJS))
    return page


def text_boxes(page, fig, width: int = 900, height: int | None = None) -> list[Box]:
    """The boxes of the figure's words, drawn at ``width`` x ``height`` px (height: the figure's
    own, else 560)."""
    spec = figure_json(fig)
    h = height or (spec.get("layout", {}).get("height") or 560)
    return [Box(**b) for b in page.evaluate(_MEASURE, [spec, width, h])]


def collisions(boxes: list[Box], width: float | None = None, height: float | None = None) -> list[tuple[Box, Box]]:
    """Every pair of overlapping boxes (two turned tick labels of one axis excepted), and, when
    the figure's size is given, every box that runs off the figure (paired with itself)."""
    pairs = []
    for i, a in enumerate(boxes):
        if width is not None and (a.left < -TOLERANCE_PX or a.right > width + TOLERANCE_PX):
            pairs.append((a, a))
        elif height is not None and (a.top < -TOLERANCE_PX or a.bottom > height + TOLERANCE_PX):
            pairs.append((a, a))
        for b in boxes[i + 1:]:
            if a.kind == b.kind and a.kind.endswith("tick") and (a.rotated or b.rotated):
                continue
            if a.overlaps(b):
                pairs.append((a, b))
    return pairs


def describe(pairs: list[tuple[Box, Box]]) -> str:
    return "; ".join(f"{a.kind} {a.text[:40]!r} off the figure" if a is b
                     else f"{a.kind} {a.text[:40]!r} over {b.kind} {b.text[:40]!r}" for a, b in pairs)


def figure_height(fig) -> int:
    """The height a page draws the figure at (its own, else plotly's 560 px default here)."""
    return int(figure_json(fig).get("layout", {}).get("height") or 560)


#: Sizes a chart is drawn at: a briefing page's figure (856 px wide: the page's 56rem less its
#: padding; the figure's own height) and the static images of the PDF (900 x 560, fixed).
SIZES = ((856, None), (900, 560))


def problems(page, fig, sizes=SIZES) -> str:
    """Overlaps and texts off the figure at each size (height ``None``: the figure's own);
    "" when there are none."""
    found = []
    for width, height in sizes:
        h = height or figure_height(fig)
        pairs = collisions(text_boxes(page, fig, width, h), width, h)
        if pairs:
            found.append(f"at {width}x{h}: {describe(pairs)}")
    return " | ".join(found)
