"""The prose of an evaluation (evaluation/report/wording.py), on partner views too."""

from __future__ import annotations

from dataclasses import replace

from evaluation.pipeline.runner import audience_view, run_evaluation
from evaluation.report.wording import cli_lines, headline_markdown
from evaluation.settings.model import StudySettings
from synthetic_data import SOUTHAMPTON, generate


def test_a_partner_view_with_the_impact_withheld_says_why_on_every_surface(tmp_path):
    data = tmp_path / "data"
    generate(replace(SOUTHAMPTON, people=3000, participants=12), data, seed=10)  # a draw whose matched counts are small
    settings = StudySettings(data_dir=data, out_dir=tmp_path / "o", audience="partner", bootstrap_resamples=100)
    view = audience_view(settings, run_evaluation(settings))
    assert view["matched"] is None and view["withheld"]
    lines = cli_lines(view)
    assert view["withheld"][0] in lines
    assert not any("not an impact estimate" in line for line in lines)
    assert "Withheld" in headline_markdown(view)
