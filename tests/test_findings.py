"""The notebooks' publishing API (takingstock.report.findings): each call saves, shows with its marker and
returns what it was given; a briefing without a lead is refused; the ledger's compact view."""

from __future__ import annotations

import json

import pandas as pd
import plotly.graph_objects as go
import pytest

from takingstock.report import charts, findings
from takingstock.report.findings import Briefing, LeadMissingError
from takingstock.data.runcontext import RunContext

XSS = "<script>alert(1)</script>"


@pytest.fixture()
def shown(monkeypatch):
    """Every bundle a Briefing displays, with its output metadata."""
    seen = []
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda bundle, raw, metadata: seen.append((bundle, metadata)))
    return seen


def _brief(tmp_path, **kw) -> Briefing:
    return Briefing(RunContext(output_dir=tmp_path, **kw), "04_supply_chains", title="Supply chains: Iraq")


def _figure() -> go.Figure:
    fig = go.Figure(go.Bar(x=["a", "b"], y=[1, 2]))
    return charts.finish(fig, title="Invented", x_title="Kind", y_title="Items", source="Source: invented")


def test_each_call_saves_shows_and_returns_what_it_was_given(tmp_path, shown):
    brief = _brief(tmp_path, static_figures=False)
    frame = pd.DataFrame({"supplier": ["United States", XSS], "tiv": [1803.135, 2.0]})
    assert brief.table(frame, "iraq_suppliers", "Suppliers", source="Source: invented") is frame
    fig = _figure()
    assert brief.figure(fig, "iraq_imports", alt="Bar chart of invented items") is fig
    assert brief.headline("Suppliers", 14) == 14
    assert pd.read_csv(tmp_path / "tables" / "04_iraq_suppliers.csv")["tiv"].tolist() == [1803.135, 2.0]
    assert (tmp_path / "figures" / "04_iraq_imports.json").is_file()
    assert not (tmp_path / "figures" / "04_iraq_imports.svg").exists()  # no static images unless asked
    kinds = [meta[findings.MARKER]["finding"] for _, meta in shown]
    assert kinds == ["table", "figure", "headline"]
    html = shown[0][0]["text/html"]
    assert 'data-table="04_iraq_suppliers"' in html and XSS not in html and "&lt;script&gt;" in html


def test_notes_and_the_lead_are_escaped_and_marked(tmp_path, shown):
    brief = _brief(tmp_path)
    brief.note(f"A designation: {XSS}")
    brief.lead("One.", "  Two  sentences. ", "")
    assert [m[findings.MARKER]["finding"] for _, m in shown] == ["note", "lead"]
    assert XSS not in shown[0][0]["text/html"] and shown[1][0]["text/plain"] == "One. Two sentences."
    assert findings.finding_kind({"metadata": shown[1][1]}) == "lead"
    assert findings.finding_kind({"metadata": {}}) is None and findings.finding_kind({}) is None


def test_close_writes_the_lead_and_refuses_a_briefing_without_one(tmp_path, shown):
    brief = _brief(tmp_path)
    brief.headline("Suppliers", 14)
    with pytest.raises(LeadMissingError, match="brief.lead"):
        brief.close()
    brief.lead("Fourteen states delivered.", "TIV is not money.")
    heads = brief.close({"recipients": ["Iraq"]})
    assert heads.to_dict("records") == [{"label": "Suppliers", "value": "14"}]
    summary = json.loads((tmp_path / "summaries" / "04_supply_chains.json").read_text())
    assert summary["title"] == "Supply chains: Iraq" and summary["summary"] == "Fourteen states delivered."
    assert summary["lead"] == ["Fourteen states delivered.", "TIV is not money."]


def test_names_carry_the_variant_unless_it_is_the_recipient(tmp_path):
    assert _brief(tmp_path).name("iraq_bloc_shares") == "04_iraq_bloc_shares"
    run = RunContext(output_dir=tmp_path, recipients=("Yemen",), variant="yemen")
    assert Briefing(run, "04_supply_chains", "t").name("yemen_bloc_shares") == "04_yemen_bloc_shares"
    run = RunContext(output_dir=tmp_path, variant="order")
    assert Briefing(run, "04_supply_chains", "t").name("iraq_bloc_shares") == "04_iraq_bloc_shares__order"


def test_a_catalogue_column_shows_titles_and_the_file_keeps_ids(tmp_path, shown):
    frame = pd.DataFrame({"catalogue": ["amnesty_2015"], "rows": [48]})
    _brief(tmp_path).table(frame, "rows", "Rows per catalogue")
    assert "Amnesty International (2015)" in shown[0][0]["text/html"]
    assert "amnesty_2015" not in shown[0][0]["text/html"].replace('data-table="04_rows"', "")
    assert pd.read_csv(tmp_path / "tables" / "04_rows.csv")["catalogue"].tolist() == ["amnesty_2015"]


def test_the_compact_view_puts_each_rows_detail_one_click_away():
    ledger = pd.DataFrame({"claim": ["At least 25 countries", "28 states"], "stated": ["25", "28"],
                           "verdict": ["differs", "differs"], "rule": ["computed >= stated", ""],
                           "detail": [XSS, "Bulgaria, China"]})
    html = findings.compact_html(ledger, ["claim", "stated", "verdict"], "Claims", "05_claims_ledger")
    head = html[: html.index("</thead>")]
    # headers and detail labels in words (labels.header)
    assert [c for c in ("Claim", "Stated", "Verdict", "Rule", "Detail") if f">{c}</th>" in head] == [
        "Claim", "Stated", "Verdict", "Detail"]
    assert html.count("<details>") == 2 and html.count('class="ts-detail-block"') == 2
    assert "<dt>Rule</dt><dd>computed &gt;= stated</dd>" in html
    assert "<dt>Rule</dt><dd></dd>" not in html  # empty cells are left out of the detail
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'data-table="05_claims_ledger"' in html
