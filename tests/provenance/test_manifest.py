"""The manifest records the run; the partner's copy holds no path, size or hash."""

from __future__ import annotations

import json
from dataclasses import replace

from evaluation.pipeline.runner import run_evaluation
from evaluation.settings.model import StudySettings
from synthetic_data import SOUTHAMPTON, generate


def test_analyst_manifest_records_paths_and_hashes_and_the_partner_copy_none(tmp_path):
    data = tmp_path / "data"
    generate(replace(SOUTHAMPTON, people=3000, participants=60), data, seed=3)
    for audience in ("analyst", "partner"):
        run_evaluation(StudySettings(data_dir=data, out_dir=tmp_path / audience, audience=audience,
                                     bootstrap_resamples=100, robustness=False))
    analyst = json.loads((tmp_path / "analyst" / "manifest.json").read_text())
    assert analyst["settings"]["data"]["folder"] == str(data.resolve())
    assert all(len(entry["sha256"]) == 64 for entry in analyst["inputs"])
    partner_text = (tmp_path / "partner" / "manifest.json").read_text()
    assert str(tmp_path) not in partner_text and "sha256" not in partner_text and '"bytes"' not in partner_text
    partner = json.loads(partner_text)
    assert "folder" not in partner["settings"]["data"] and "out_dir" not in partner["settings"]
