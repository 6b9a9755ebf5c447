"""The one definition of a caliper (match/caliper.py), shared by the settings, the CLI and the matcher."""

from __future__ import annotations

import pytest

from evaluation.errors import SettingsError
from evaluation.match.caliper import check_caliper
from evaluation.match.matcher import PropensityMatcher
from evaluation.settings.model import StudySettings


@pytest.mark.parametrize(("given", "kept"), [(0.2, 0.2), ("0.25", 0.25), (1, 1.0), (None, None), ("none", None),
                                             (" None ", None)])
def test_a_positive_number_or_none_is_a_caliper(given, kept):
    assert check_caliper(given) == kept


@pytest.mark.parametrize("given", [0, -0.1, float("nan"), float("inf"), "abc", True, [0.2]])
def test_anything_else_is_refused_in_one_line_by_every_user_of_the_definition(given, tmp_path):
    with pytest.raises(SettingsError) as direct:
        check_caliper(given)
    assert "\n" not in str(direct.value) and "caliper" in str(direct.value)
    with pytest.raises(SettingsError):
        StudySettings(data_dir=tmp_path, out_dir=tmp_path / "o", caliper=given)
    import polars as pl

    frame = pl.DataFrame({"t": [1, 0, 0, 1], "x": [0.1, 0.2, 0.3, 0.4]})
    with pytest.raises(SettingsError):
        PropensityMatcher(caliper=given).fit(frame, treatment="t", covariates=["x"])
