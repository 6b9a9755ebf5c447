"""Hostile names in the data and settings: report.html runs no script from them, summary.md
carries no HTML tag, and no CSV cell is a spreadsheet formula (safety issue, finding 2)."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest

from evaluation.pipeline.runner import run_evaluation
from evaluation.report.build import csv_cell, markdown_text
from evaluation.settings.model import StudySettings
from synthetic_data import SOUTHAMPTON, generate

SCRIPT_NAME = "<script>alert('study')</script>"
IMG_PROGRAMME = "<img src=x onerror=alert(1)>"
FORMULA_PROGRAMME = '=HYPERLINK("http://example.invalid","click")'


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


@pytest.fixture(scope="module", params=["analyst", "partner"])
def hostile_run(request, tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("hostile") / "data"
    generate(replace(SOUTHAMPTON, people=6000, participants=160), data, seed=3)
    participants = pl.read_csv(data / "participants.csv", infer_schema_length=0)
    names = sorted(participants["programme"].unique().to_list())
    renamed = {names[0]: IMG_PROGRAMME, names[1]: FORMULA_PROGRAMME}
    participants = participants.with_columns(pl.col("programme").replace(renamed))
    participants.write_csv(data / "participants.csv")
    out = tmp_path_factory.mktemp("hostile-out") / request.param
    run_evaluation(StudySettings(data_dir=data, out_dir=out, name=SCRIPT_NAME, audience=request.param,
                                 bootstrap_resamples=100))
    return out


def test_report_html_runs_no_script_from_the_data(hostile_run):
    html = (hostile_run / "report.html").read_text()
    parser = _Tags()
    parser.feed(html)
    assert not [t for t, _ in parser.tags if t in ("script", "img", "iframe", "object", "embed")]
    handlers = [(t, name) for t, attrs in parser.tags for name, _ in attrs if name.lower().startswith("on")]
    assert handlers == []
    assert "&lt;script&gt;" in html  # the study's name is shown, as text


def test_summary_md_carries_no_tag(hostile_run):
    summary = (hostile_run / "summary.md").read_text()
    assert "<script" not in summary and "<img" not in summary
    assert "&lt;script>" in summary


def test_no_csv_cell_is_a_formula(hostile_run):
    cells = []
    for path in (hostile_run / "tables").glob("*.csv"):
        cells += [cell for row in csv.reader(io.StringIO(path.read_text())) for cell in row]
    assert any("HYPERLINK" in c for c in cells), "the hostile programme should appear, neutralised"
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]
    assert not [c for c in cells if c.startswith("-") and not _number(c)]


def _number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


@pytest.mark.parametrize("value", ["=1+1", "+1", "-cmd", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cell_neutralises_each_formula_start(value):
    assert csv_cell(value) == "'" + value
    assert csv_cell(-1.5) == -1.5 and csv_cell("<5") == "<5" and csv_cell(None) == ""


def test_markdown_text_keeps_suppression_markers_readable():
    assert markdown_text("<5 people") == "<5 people"
    assert markdown_text("<b>x</b>") == "&lt;b>x&lt;/b>"
