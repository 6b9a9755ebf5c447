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


def test_a_manifest_from_before_the_referral_window_reproduces_with_the_rule_it_ran_with(tmp_path):
    """Issue 39: the referral window changed results on data without referral dates. A run
    recorded before it (no referral_window_days in its manifest or results.json) is re-run
    with the rule it used (a window of 0 days) and reproduces; the default window would not."""
    data, out = tmp_path / "data", tmp_path / "out"
    generate(replace(SOUTHAMPTON, people=3000, participants=120, with_referral_date=False), data, seed=6)
    run_evaluation(StudySettings(data_dir=data, out_dir=out, bootstrap_resamples=100, robustness=False,
                                 referral_window_days=0))
    manifest, results = (json.loads((out / name).read_text()) for name in ("manifest.json", "results.json"))
    assert results["cohort"]["record_measured_at"] == "start date"
    del manifest["settings"]["windows"]["referral_window_days"], results["study"]["referral_window_days"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    (out / "results.json").write_text(json.dumps(results))
    report = reproduce(out / "manifest.json")
    assert report.identical, report.summary()
    # ... and says so: a hand-edited manifest that drops the setting is re-run under the old rule, openly
    assert "re-run with the rule of its time: referral_window_days = 0" in report.summary()
    # the same run with today's default window differs: the rule matters on these data
    run_evaluation(StudySettings(data_dir=data, out_dir=tmp_path / "now", bootstrap_resamples=100, robustness=False))
    now = json.loads((tmp_path / "now" / "results.json").read_text())
    assert now["matched"]["rate_ratio"] != results["matched"]["rate_ratio"]
