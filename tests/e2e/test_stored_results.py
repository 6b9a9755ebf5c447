"""The stored results the report tests render (tests/report/stored.py) are what the
pipeline makes today: an evaluation of the same data with the same settings gives them
exactly. When a change moves a result on purpose, refresh them with
``.venv/bin/python -m tests.report.stored`` and commit the two files."""

from __future__ import annotations

import json

from evaluation.pipeline.runner import run_evaluation
from tests.report import stored

REFRESH = "the stored results are stale: refresh them with `.venv/bin/python -m tests.report.stored`"


def test_the_stored_results_are_what_the_pipeline_makes_today(southampton, tmp_path):
    out = tmp_path / "out"
    made = run_evaluation(stored.study_settings(southampton, out))
    assert made == stored.results(), REFRESH
    manifest = stored.placeholder_manifest(json.loads((out / "manifest.json").read_text()), southampton, out)
    kept = stored.manifest()
    assert manifest["inputs"] == kept["inputs"] and manifest["settings"] == kept["settings"], REFRESH
