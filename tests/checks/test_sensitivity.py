"""The sensitivity table's variants each change one thing from the study's settings."""

from __future__ import annotations

from evaluation.checks.sensitivity import describe_settings, sensitivity_variants
from evaluation.settings.model import StudySettings


def test_each_variant_changes_one_matching_setting(tmp_path):
    base = StudySettings(data_dir=tmp_path, out_dir=tmp_path / "o")
    variants = dict(sensitivity_variants(base))
    assert list(variants) == ["caliper 0.1 SD", "caliper 0.5 SD", "3 comparisons per participant", "with replacement",
                              "without the prior-offence detail"]
    for variant in variants.values():
        changed = {k for k, v in variant.flat().items() if v != base.flat()[k]}
        assert len(changed) == 1 and changed <= {"caliper", "ratio", "replace", "covariates"}
    assert describe_settings(base).startswith("as analysed (caliper 0.2 SD, 1 comparison per participant")
