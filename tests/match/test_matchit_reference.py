"""k:1 matching reproduces R MatchIt 4.7.2's pairs on lalonde (no R needed).

The reference pairs in tests/data/matchit/ were made with MatchIt 4.7.2 (see the README
there, copied from the project's shared reference). With ``ratio = 2`` MatchIt fills
matches in rounds: every participant's first comparison, then every participant's second.
The project filled each participant's two in turn until 2026-12, which agreed on 4 of 370
pairs, and with a 0.2 caliper matched 86 participants against MatchIt's 117.
"""

from pathlib import Path

import polars as pl
import pytest

from evaluation.match.matcher import PropensityMatcher

REF = Path(__file__).parents[1] / "data" / "matchit"
COVARIATES = ["age", "educ", "black", "hispan", "married", "nodegree", "re74", "re75"]


@pytest.fixture(scope="module")
def lalonde() -> pl.DataFrame:
    return pl.read_csv(REF / "lalonde.csv", infer_schema_length=None)


def pairs(matcher: PropensityMatcher) -> set[tuple[int, int]]:
    m = matcher.matches_
    treated = m.filter(pl.col("treat") == 1).select("subclass", treated="row")
    control = m.filter(pl.col("treat") == 0).select("subclass", control="row")
    return set(treated.join(control, on="subclass").select("treated", "control").iter_rows())


def reference(name: str) -> set[tuple[int, int]]:
    return set(pl.read_csv(REF / name).iter_rows())


@pytest.mark.parametrize(
    ("name", "settings", "treated_matched"),
    [
        ("pairs_ratio2.csv", dict(ratio=2, distance="probability", caliper=None), 185),
        ("pairs_ratio2_caliper02_logit.csv", dict(ratio=2, distance="logit", caliper=0.2), 117),
        ("pairs_ratio2_replace.csv", dict(ratio=2, distance="probability", caliper=None, replace=True), 185),
    ],
)
def test_ratio_two_reproduces_matchit_pairs(lalonde, name, settings, treated_matched):
    matcher = PropensityMatcher(**settings).fit(lalonde, treatment="treat", covariates=COVARIATES)
    expected = reference(name)
    assert pairs(matcher) == expected
    assert matcher.counts_.matched == treated_matched
    assert matcher.counts_.comparison_rows == len(expected)


def test_filling_each_participant_in_turn_is_kept_as_an_option_and_differs(lalonde):
    rounds = PropensityMatcher(ratio=2, distance="logit", caliper=0.2).fit(
        lalonde, treatment="treat", covariates=COVARIATES)
    turn = PropensityMatcher(ratio=2, distance="logit", caliper=0.2, fill="participant").fit(
        lalonde, treatment="treat", covariates=COVARIATES)
    # each participant's k in turn lets early participants take later ones' close comparisons
    assert turn.counts_.matched < rounds.counts_.matched == 117
    assert pairs(turn) != pairs(rounds)


def test_an_unknown_fill_is_refused():
    from evaluation.errors import SettingsError

    frame = pl.DataFrame({"treat": [1, 0, 0], "x": [1.0, 2.0, 3.0]})
    with pytest.raises(SettingsError, match="fill"):
        PropensityMatcher(fill="sideways").fit(frame, treatment="treat", covariates=["x"])
