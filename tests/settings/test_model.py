"""Study settings: nested by concern, validated and serialised in one place."""

from __future__ import annotations

import json

import pytest

from evaluation.errors import SettingsError
from evaluation.settings.model import FLAT, StudySettings, load_study

#: results.json's ``study`` record, key for key, as it was before the settings were nested.
RECORD_KEYS = ["programmes", "before_days", "after_days", "waiting_days", "cutoff", "seed", "name", "title",
               "bootstrap_resamples", "comparison_pool", "max_comparison_units", "index_shift_days", "referral_window_days",
               "covariates",
               "caliper", "distance", "ratio", "replace", "order", "fill", "exact", "mahalanobis", "audience",
               "suppression_threshold", "programme_cost_per_participant", "programme_cost_total",
               "programme_cost_price_year", "cost_uplift",
               "cost_price_year", "unit_cost_overrides", "robustness", "programme_type", "programme_setting", "council"]


def test_flat_and_nested_construction_agree(tmp_path):
    flat = StudySettings(data_dir=tmp_path, out_dir=tmp_path / "o", caliper=0.1, before_days=200, audience="partner")
    nested = StudySettings(data={"folder": tmp_path}, out_dir=tmp_path / "o", matching={"caliper": 0.1},
                           windows={"before_days": 200}, audience={"kind": "partner"})
    assert flat == nested
    assert flat.matching.caliper == 0.1 and flat.windows.before_days == 200 and flat.audience.kind == "partner"


def test_the_results_record_keeps_its_keys_and_order(tmp_path):
    assert list(StudySettings(data_dir=tmp_path, out_dir=tmp_path / "o").to_dict()) == RECORD_KEYS


def test_record_round_trips_through_json(tmp_path):
    s = StudySettings(data_dir=tmp_path, out_dir=tmp_path / "o", programmes=("A",), cutoff="2010-09-30",
                      unit_cost_overrides={"theft": 900}, cost_uplift=1.1, cost_price_year="2019/20")
    again = StudySettings.model_validate(json.loads(json.dumps(s.record())))
    assert again == s and again.to_dict() == s.to_dict()


def test_updated_validates_again(tmp_path):
    s = StudySettings(data_dir=tmp_path, out_dir=tmp_path / "o")
    assert s.updated(ratio=3).matching.ratio == 3 and s.matching.ratio == 1
    with pytest.raises(SettingsError, match="ratio: Input should be less than or equal to 20"):
        s.updated(ratio=99)


@pytest.mark.parametrize("values, message", [
    ({"before_days": 0}, "before_days: Input should be greater than or equal to 1"),
    ({"caliper": "wide"}, "caliper: caliper 'wide' is not a number of standard deviations or 'none'"),
    ({"covariates": ("shoe_size",)}, "unknown covariate"),
    ({"audience": "press"}, "audience: Input should be 'analyst' or 'partner'"),
    ({"programme_cost_per_participant": float("inf")}, "programme_cost_per_participant: Input should be a finite number"),
    ({"calliper": 0.1}, "unknown setting: calliper (did you mean caliper?)"),
])
def test_each_mistake_is_one_line_naming_the_setting(tmp_path, values, message):
    with pytest.raises(SettingsError) as info:
        StudySettings(data_dir=tmp_path, out_dir=tmp_path / "o", **values)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_study_file_takes_settings_at_the_top_or_in_their_section(tmp_path):
    study = tmp_path / "s.toml"
    study.write_text('[study]\ndata_dir = "d"\nout_dir = "o"\nratio = 2\n[study.windows]\nafter_days = 300\n'
                     '[study.matching]\ncaliper = "none"\n[study.costs]\nuplift = 1.2\nprice_year = "2024/25"\n')
    s = load_study(study)
    assert (s.matching.ratio, s.windows.after_days, s.matching.caliper, s.costs.uplift) == (2, 300, None, 1.2)
    assert s.data_dir == (tmp_path / "d").resolve()
    study.write_text('[study]\ndata_dir = "d"\nout_dir = "o"\n[study.windows]\nafter_dayz = 300\n')
    with pytest.raises(SettingsError, match=r"\[study.windows\]: after_dayz \(did you mean after_days\?\)"):
        load_study(study)


def test_every_flat_name_reaches_a_field(tmp_path):
    s = StudySettings(data_dir=tmp_path, out_dir=tmp_path / "o")
    assert set(s.flat()) == set(FLAT)


def test_exact_matching_defaults_to_the_kind_of_triggering_event_and_none_turns_it_off(tmp_path):
    """The default compares someone just released with others just released (issue 15);
    "none", on the command line or in a study file, is no exact matching."""
    base = dict(data_dir=tmp_path, out_dir=tmp_path / "o")
    assert StudySettings(**base).matching.exact == ("index_after_release",)
    for off in ("none", ["none"], [], "NONE"):
        assert StudySettings(**base, exact=off).matching.exact == ()
    assert StudySettings(**base, mahalanobis="none").matching.mahalanobis == ()
