"""Helpers for the briefing tests: an invented fixture notebook, executed for real.

The fixture holds a Markdown title and findings, a plotly figure shown through
``takingstock.figures.show``, an escaped table through ``takingstock.tables.show``, a printed
catalogue-like designation ``<script>alert(1)</script>``, cells tagged ``remove-cell`` and
``remove-output``, and a summary written through ``publish.write_summary``. The first figure and
the table are also saved (``save_figure`` / ``save_table``, as ``<stem>_designations`` and
``<stem>_items``), so a briefing built with ``tables_dir`` / ``figures_dir`` links their
downloads; the second figure is only shown. All data invented.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from takingstock import paths

XSS = "<script>alert(1)</script>"
CODE_MARKER = "FIXTURE_CODE_MARKER"
REMOVED_CELL_MARKER = "REMOVED_CELL_MARKER"
REMOVED_OUTPUT_MARKER = "REMOVED_OUTPUT_MARKER"
FIGURE_COUNT = 2
FIGURE_ALT = "Bar chart: 5 invented AK-47 rifles and 3 of a second item."
TABLE_CAPTION = "Invented items by designation"


def fixture_notebook(stem_title: str = "Fixture briefing: invented deals") -> nbformat.NotebookNode:
    """The source notebook (unexecuted), with a parameters cell of working defaults."""
    params = new_code_cell(
        f"# {CODE_MARKER} parameters\n"
        "from takingstock import paths\n"
        "output_dir = str(paths.OUTPUT)\n"
        f"designation = {XSS!r}\n"
        "stem = 'fixture'\n"
    )
    params.metadata["tags"] = ["parameters"]
    removed = new_code_cell(f"print('{REMOVED_CELL_MARKER}')  # {CODE_MARKER}")
    removed.metadata["tags"] = ["remove-cell"]
    quiet = new_code_cell(f"print('{REMOVED_OUTPUT_MARKER}')  # {CODE_MARKER}")
    quiet.metadata["tags"] = ["remove-output"]
    figure_code = (
        f"# {CODE_MARKER} figure\n"
        "import plotly.graph_objects as go\n"
        "from takingstock import figures\n"
        "fig = go.Figure(go.Bar(x=[designation, 'AK-47 (invented)'], y=[3, 5]))\n"
        "figures.finish(fig, title='Invented items by designation', x_title='Designation',\n"
        "               y_title='Items', source='Source: invented test data')\n"
        "from pathlib import Path\n"
        f"figures.save_figure(fig, stem + '_designations', alt={FIGURE_ALT!r},\n"
        "                    figures_dir=Path(output_dir) / 'figures')\n"
        f"figures.show(fig, alt={FIGURE_ALT!r})\n"
    )
    line_code = (
        f"# {CODE_MARKER} second figure\n"
        "fig2 = go.Figure(go.Scatter(x=[1975, 1985, 1995], y=[1, 4, 2], mode='lines'))\n"
        "figures.finish(fig2, title='Invented items by decade', x_title='Year',\n"
        "               y_title='Items', source='Source: invented test data')\n"
        "figures.show(fig2, alt='Line chart: items peak at 4 in 1985.')\n"
    )
    table_code = (
        f"# {CODE_MARKER} table\n"
        "import pandas as pd\n"
        "from takingstock import tables\n"
        "items = pd.DataFrame({'designation': [designation, 'PKM'], 'items': [3, 7]})\n"
        f"tables.save_table(items, stem + '_items', tables_dir=Path(output_dir) / 'tables',\n"
        f"                  caption={TABLE_CAPTION!r}, source='Source: invented test data')\n"
        f"tables.show(items, caption={TABLE_CAPTION!r})\n"
    )
    summary_code = (
        f"# {CODE_MARKER} summary\n"
        "from pathlib import Path\n"
        "from takingstock import publish\n"
        "publish.write_summary(Path(output_dir) / 'summaries', stem, title='Fixture summary',\n"
        "    summary='Ten invented items, ' + designation + ' among them.',\n"
        "    headlines=[{'label': 'invented items', 'value': '10'},\n"
        "               {'label': 'designation', 'value': designation}],\n"
        "    parameters={'designation': designation})\n"
    )
    cells = [
        new_markdown_cell(f"# {stem_title}\n\nA small invented notebook for the tests."),
        params,
        new_markdown_cell("## Most invented items are rifles"),
        new_code_cell(figure_code),
        new_markdown_cell("## Items peak in the 1980s"),
        new_code_cell(line_code),
        new_markdown_cell("## The items, as a table\n\n### Detail"),
        new_code_cell(table_code),
        new_markdown_cell("## A designation printed as text"),
        new_code_cell(f"print(designation)  # {CODE_MARKER}"),
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

    from takingstock import figures, tables

    nb = fixture_notebook(title)
    fig = go.Figure(go.Bar(x=[XSS, "AK-47 (invented)"], y=[3, 5]))
    figures.finish(fig, title="Invented items by designation", x_title="Designation",
                   y_title="Items", source="Source: invented test data")
    fig.layout.meta = {"alt": FIGURE_ALT, "name": "fixture_designations"}  # as save_figure sets
    fig2 = go.Figure(go.Scatter(x=[1975, 1985, 1995], y=[1, 4, 2], mode="lines"))
    figures.finish(fig2, title="Invented items by decade", x_title="Year", y_title="Items",
                   source="Source: invented test data")

    def bundle(f, alt):
        return new_output("display_data", data={
            "application/vnd.plotly.v1+json": f.to_plotly_json(),
            "text/html": figures.figure_html(f, alt),
            "text/plain": f"[figure] {alt}",
        })

    df = pd.DataFrame({"designation": [XSS, "PKM"], "items": [3, 7]})
    outputs = {
        3: [bundle(fig, "Bar chart: 5 invented AK-47 rifles and 3 of a second item.")],
        5: [bundle(fig2, "Line chart: items peak at 4 in 1985.")],
        7: [new_output("display_data", data={
            "text/html": tables.to_html(df, TABLE_CAPTION, name="fixture_items"),
            "text/plain": "table"})],
        9: [new_output("stream", name="stdout", text=XSS + "\n")],
        10: [new_output("stream", name="stdout", text=REMOVED_CELL_MARKER + "\n")],
        11: [new_output("stream", name="stdout", text=REMOVED_OUTPUT_MARKER + "\n")],
    }
    for index, outs in outputs.items():
        nb.cells[index].outputs = outs
    nb.metadata["papermill"] = {"parameters": {"output_dir": "/tmp/x", "designation": XSS}}
    return nb
