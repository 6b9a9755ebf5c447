"""reoffend reproduce reads the manifests of earlier versions too: their settings record
was flat (before the settings were nested by concern)."""

from __future__ import annotations

import json
from dataclasses import replace

from evaluation.pipeline.runner import run_evaluation
from evaluation.provenance.reproduce import reproduce
from evaluation.settings.model import StudySettings
from synthetic_data import SOUTHAMPTON, generate


def test_a_flat_settings_record_from_an_older_manifest_reproduces(tmp_path):
    data, out = tmp_path / "data", tmp_path / "out"
    generate(replace(SOUTHAMPTON, people=3000, participants=60), data, seed=4)
    settings = StudySettings(data_dir=data, out_dir=out, bootstrap_resamples=100, robustness=False,
                             programme_cost_per_participant=500)
    run_evaluation(settings)
    manifest = json.loads((out / "manifest.json").read_text())
    flat = {k: (str(v) if hasattr(v, "resolve") else v) for k, v in settings.flat().items()}
    flat.update(programmes=[], covariates=list(flat["covariates"]), exact=list(flat["exact"]), mahalanobis=[],
                unit_cost_overrides={})
    manifest["settings"] = flat  # as a manifest written before the settings were nested holds them
    (out / "manifest.json").write_text(json.dumps(manifest))
    report = reproduce(out / "manifest.json")
    assert report.identical, report.summary()
