"""Helpers for the briefing tests: an invented fixture notebook, executed for real.

The fixture holds a Markdown title and findings, declared through the notebooks' publishing API
(:class:`takingstock.report.findings.Briefing`): a plotly figure (``brief.figure``), a second one shown
without being saved the same way, an escaped table (``brief.table``), a note naming a
catalogue-like designation ``<script>alert(1)</script>``, a lead and the summary
(``brief.lead``, ``brief.close``). It also prints that designation and emits a warning, a
stderr line and a return value that no page may show, and has cells tagged ``remove-cell`` and
``remove-output``. The first figure and the table are saved (as ``<stem>_designations`` and
``<stem>_items``), so a briefing built with ``tables_dir`` / ``figures_dir`` links their
downloads. All data invented.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from takingstock.core import paths

XSS = "<script>alert(1)</script>"
CODE_MARKER = "FIXTURE_CODE_MARKER"
REMOVED_CELL_MARKER = "REMOVED_CELL_MARKER"
REMOVED_OUTPUT_MARKER = "REMOVED_OUTPUT_MARKER"
FIGURE_COUNT = 2
FIGURE_ALT = "Bar chart: 5 invented AK-47 rifles and 3 of a second item."
TABLE_CAPTION = "Invented items by designation"
NOTE = "A designation from the data: "
#: What the kernel emits besides the declared findings: never on a page.
UNDECLARED = ("UNDECLARED_STDOUT", "UNDECLARED_WARNING", "UNDECLARED_STDERR", "UNDECLARED_RETURN_VALUE")


def fixture_notebook(stem_title: str = "Fixture briefing: invented deals") -> nbformat.NotebookNode:
    """The source notebook (unexecuted), with a parameters cell of working defaults."""
    params = new_code_cell(
        f"# {CODE_MARKER} parameters\n"
        "from takingstock.core import paths\n"
        "output_dir = str(paths.OUTPUT)\n"
        f"designation = {XSS!r}\n"
        "stem = 'fixture'\n"
        f"page_title = {stem_title!r}\n"
        "static_figures = True\n"
    )
    params.metadata["tags"] = ["parameters"]
    removed = new_code_cell(f"print('{REMOVED_CELL_MARKER}')  # {CODE_MARKER}")
    removed.metadata["tags"] = ["remove-cell"]
    quiet = new_code_cell(f"print('{REMOVED_OUTPUT_MARKER}')  # {CODE_MARKER}")
    quiet.metadata["tags"] = ["remove-output"]
    setup_code = (
        f"# {CODE_MARKER} setup\n"
        "from takingstock.report.findings import Briefing\n"
        "from takingstock.data.runcontext import RunContext\n"
        "run = RunContext.from_params(globals())\n"
        "brief = Briefing(run, stem, title=page_title)\n"
        "part = stem.split('_', 1)[1]  # the names the tests expect: <stem>_designations, <stem>_items\n"
    )
    figure_code = (
        f"# {CODE_MARKER} figure\n"
        "import plotly.graph_objects as go\n"
        "from takingstock.report import charts\n"
        "fig = go.Figure(go.Bar(x=[designation, 'AK-47 (invented)'], y=[3, 5]))\n"
        "charts.finish(fig, title='Invented items by designation', x_title='Designation',\n"
        "              y_title='Items', source='Source: invented test data')\n"
        f"brief.figure(fig, part + '_designations', alt={FIGURE_ALT!r})\n"
    )
    line_code = (
        f"# {CODE_MARKER} second figure\n"
        "fig2 = go.Figure(go.Scatter(x=[1975, 1985, 1995], y=[1, 4, 2], mode='lines'))\n"
        "charts.finish(fig2, title='Invented items by decade', x_title='Year',\n"
        "              y_title='Items', source='Source: invented test data')\n"
        "brief.figure(fig2, part + '_decades', alt='Line chart: items peak at 4 in 1985.')\n"
    )
    table_code = (
        f"# {CODE_MARKER} table\n"
        "import pandas as pd\n"
        "items = pd.DataFrame({'designation': [designation, 'PKM'], 'items': [3, 7]})\n"
        f"brief.table(items, part + '_items', {TABLE_CAPTION!r}, source='Source: invented test data')\n"
    )
    noise_code = (
        f"# {CODE_MARKER} what the kernel emits besides the findings\n"
        "import sys, warnings\n"
        f"print(designation, {UNDECLARED[0]!r})\n"
        f"warnings.warn({UNDECLARED[1]!r})\n"
        f"print({UNDECLARED[2]!r}, file=sys.stderr)\n"
        f"brief.note({NOTE!r} + designation)\n"
        f"{UNDECLARED[3]!r}\n"
    )
    summary_code = (
        f"# {CODE_MARKER} summary\n"
        "brief.headline('invented items', 10)\n"
        "brief.headline('designation', designation)\n"
        "brief.lead('Ten invented items, ' + designation + ' among them.', 'All of them are invented.',\n"
        "           'Nothing here is real data.')\n"
        "brief.close({'designation': designation})\n"
    )
    cells = [
        new_markdown_cell(f"# {stem_title}\n\nA small invented notebook for the tests."),
        params,
        new_code_cell(setup_code),
        new_markdown_cell("## Most invented items are rifles"),
        new_code_cell(figure_code),
        new_markdown_cell("## Items peak in the 1980s"),
        new_code_cell(line_code),
        new_markdown_cell("## The items, as a table\n\n### Detail"),
        new_code_cell(table_code),
        new_markdown_cell("## A designation printed as text"),
        new_code_cell(noise_code),
        removed,
        quiet,
        new_code_cell(summary_code),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def execute_fixture(workdir: Path, stem: str, *, title: str | None = None) -> Path:
    """Write the fixture as ``<workdir>/src/<stem>.ipynb`` and execute it with papermill.

    The executed notebook goes to ``<workdir>/notebooks/<stem>.ipynb``; its summary to
    ``<workdir>/summaries/<stem>.json``.
    """
    import papermill as pm

    src = workdir / "src" / f"{stem}.ipynb"
    out = workdir / "notebooks" / f"{stem}.ipynb"
    src.parent.mkdir(parents=True, exist_ok=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    nb = fixture_notebook(title) if title else fixture_notebook()
    nbformat.write(nb, src)
    os.environ.setdefault("PLOTLY_RENDERER", "notebook")
    pm.execute_notebook(
        str(src),
        str(out),
        parameters={"output_dir": str(workdir), "stem": stem},
        kernel_name="python3",
        cwd=str(paths.ROOT),
        progress_bar=False,
        request_save_on_cell_execute=False,
    )
    return out


def fake_executed_notebook(title: str = "Fixture briefing: invented deals") -> nbformat.NotebookNode:
    """The fixture with outputs made in-process (no kernel): fast, for the non-slow tests.

    Figure and table outputs come from the same functions ``figures.show`` and
    ``tables.show`` use, so the HTML is what a real run would hold.
    """
    import pandas as pd
    import plotly.graph_objects as go
    from nbformat.v4 import new_output

    from takingstock.report import charts, figures, tables

    nb = fixture_notebook(title)
    fig = go.Figure(go.Bar(x=[XSS, "AK-47 (invented)"], y=[3, 5]))
    charts.finish(fig, title="Invented items by designation", x_title="Designation",
                  y_title="Items", source="Source: invented test data")
    fig.layout.meta = {"alt": FIGURE_ALT, "name": "fixture_designations"}  # as save_figure sets
    fig2 = go.Figure(go.Scatter(x=[1975, 1985, 1995], y=[1, 4, 2], mode="lines"))
    charts.finish(fig2, title="Invented items by decade", x_title="Year", y_title="Items",
                  source="Source: invented test data")

    def marked(kind, **data):
        return new_output("display_data", data=data, metadata={"takingstock": {"finding": kind}})

    def bundle(f, alt):
        return marked("figure", **{"application/vnd.plotly.v1+json": f.to_plotly_json(),
                                   "text/html": figures.figure_html(f, alt), "text/plain": f"[figure] {alt}"})

    df = pd.DataFrame({"designation": [XSS, "PKM"], "items": [3, 7]})
    note = NOTE + XSS
    outputs = {
        4: [bundle(fig, "Bar chart: 5 invented AK-47 rifles and 3 of a second item.")],
        6: [bundle(fig2, "Line chart: items peak at 4 in 1985.")],
        8: [marked("table", **{"text/html": tables.to_html(df, TABLE_CAPTION, name="fixture_items"),
                               "text/plain": "table"})],
        10: [new_output("stream", name="stdout", text=f"{XSS} {UNDECLARED[0]}\n"),
             new_output("stream", name="stderr", text=f"UserWarning: {UNDECLARED[1]}\n{UNDECLARED[2]}\n"),
             marked("note", **{"text/html": f'<p class="ts-note">{html.escape(note)}</p>', "text/plain": note}),
             new_output("execute_result", data={"text/plain": repr(UNDECLARED[3])}, execution_count=1),
             new_output("error", ename="ValueError", evalue="DELIM not in msg_list",
                        traceback=["Traceback (most recent call last):", "ValueError: DELIM not in msg_list"])],
        11: [new_output("stream", name="stdout", text=REMOVED_CELL_MARKER + "\n")],
        12: [new_output("stream", name="stdout", text=REMOVED_OUTPUT_MARKER + "\n")],
    }
    for index, outs in outputs.items():
        nb.cells[index].outputs = outs
    nb.metadata["papermill"] = {"parameters": {"output_dir": "/tmp/x", "designation": XSS}}
    return nb
