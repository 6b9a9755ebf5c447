"""The matcher against a brute-force reference, hand-worked balance, and its options."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from evaluation.match.balance import balance_table
from evaluation.match.matcher import PropensityMatcher, _greedy_nearest, fit_propensity


def brute_force_greedy(order, t_score, c_score, ratio, width, fill="rounds"):
    """The obvious O(treated x controls) greedy matcher, to check the sorted search against:
    in rounds (every participant's first match, then every second) or each in turn."""
    available = np.ones(len(c_score), dtype=bool)
    chosen = {int(t): [] for t in order}
    done = set()

    def nearest(t):
        dist = np.where(available, np.abs(c_score - t_score[t]), np.inf)
        j = int(np.argmin(dist))  # ties: lowest index, as in the sorted search
        return None if not np.isfinite(dist[j]) or dist[j] > width else j

    turns = [(r, int(t)) for r in range(ratio) for t in order] if fill == "rounds" else \
        [(r, int(t)) for t in order for r in range(ratio)]
    for _r, t in turns:
        if t in done:
            continue
        j = nearest(t)
        if j is None:
            done.add(t)
            continue
        chosen[t].append(j)
        available[j] = False
    return [(t, c) for t, c in chosen.items() if c]


@pytest.mark.parametrize("fill", ["rounds", "participant"])
@pytest.mark.parametrize("ratio", [1, 2, 3])
@pytest.mark.parametrize("width", [np.inf, 0.05, 0.2])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sorted_search_equals_brute_force(ratio, width, seed, fill):
    rng = np.random.default_rng(seed)
    t_score = rng.normal(0.3, 1, 60)
    c_score = np.sort(rng.normal(0, 1, 250))  # the matcher receives controls sorted
    for order in (np.argsort(-t_score, kind="stable"), rng.permutation(60)):
        fast = _greedy_nearest(order, t_score, c_score, ratio, width, None, None, None, fill)
        slow = brute_force_greedy(order, t_score, c_score, ratio, width, fill)
        assert fast == slow


def test_hand_worked_greedy_match():
    # (binary fractions, so distances are exact) descending order: 0.875 takes 0.8125
    # (0.0625 away); 0.5 is exactly 0.125 from both 0.375 and 0.625 and takes the lower
    t = np.array([0.875, 0.5])
    c = np.array([0.375, 0.625, 0.8125])
    assert _greedy_nearest(np.array([0, 1]), t, c, 1, np.inf, None, None, None) == [(0, [2]), (1, [0])]
    # a caliper of 0.1 keeps the first pair and leaves 0.5 unmatched
    assert _greedy_nearest(np.array([0, 1]), t, c, 1, 0.1, None, None, None) == [(0, [2])]
    # ascending order: 0.5 goes first, takes 0.375; 0.875 still takes 0.8125
    assert _greedy_nearest(np.array([1, 0]), t, c, 1, np.inf, None, None, None) == [(1, [0]), (0, [2])]


def frame_with_confounding(seed=0, n_t=300, n_c=3000):
    rng = np.random.default_rng(seed)
    x1 = np.r_[rng.normal(0.6, 1, n_t), rng.normal(0, 1, n_c)]
    x2 = np.r_[rng.binomial(1, 0.6, n_t), rng.binomial(1, 0.3, n_c)].astype(float)
    group = np.r_[rng.integers(0, 3, n_t), rng.integers(0, 3, n_c)]
    return pl.DataFrame({"treat": np.r_[np.ones(n_t), np.zeros(n_c)].astype(np.int8), "x1": x1, "x2": x2, "g": group})


def test_matching_improves_balance_and_reports_counts():
    m = PropensityMatcher(caliper=0.2).fit(frame_with_confounding(), treatment="treat", covariates=["x1", "x2"])
    assert m.balance_.max_abs_smd_before > 0.4
    assert m.balance_.max_abs_smd_after < 0.1
    c = m.counts_
    assert c.treated == 300 and c.matched + c.no_match_within_caliper + c.outside_common_support == 300
    assert c.comparison_units == c.comparison_rows == c.matched  # 1:1 without replacement
    assert set(m.matches_["weight"].to_list()) == {1.0}


def test_without_replacement_uses_each_comparison_once_and_with_replacement_may_reuse():
    frame = frame_with_confounding(n_t=200, n_c=250)
    m = PropensityMatcher(caliper=None, ratio=1).fit(frame, treatment="treat", covariates=["x1", "x2"])
    controls = m.matches_.filter(pl.col("treat") == 0)["row"]
    assert controls.n_unique() == controls.len()
    r = PropensityMatcher(caliper=None, ratio=1, replace=True).fit(frame, treatment="treat", covariates=["x1", "x2"])
    controls = r.matches_.filter(pl.col("treat") == 0)["row"]
    assert controls.n_unique() < controls.len()
    assert r.weights_[frame["treat"].to_numpy() == 0].max() > 1


def test_ratio_weights_sum_to_one_per_set():
    m = PropensityMatcher(caliper=None, ratio=3).fit(frame_with_confounding(), treatment="treat", covariates=["x1", "x2"])
    per_set = m.matches_.filter(pl.col("treat") == 0).group_by("subclass").agg(pl.col("weight").sum())
    assert np.allclose(per_set["weight"].to_numpy(), 1.0)


def test_exact_matching_never_crosses_groups():
    frame = frame_with_confounding()
    m = PropensityMatcher(exact=["g"]).fit(frame, treatment="treat", covariates=["x1", "x2"])
    g = frame["g"].to_numpy()
    sets = m.matches_.with_columns(g=pl.Series(g[m.matches_["row"].to_numpy()]))
    assert (sets.group_by("subclass").agg(pl.col("g").n_unique())["g"] == 1).all()


def test_mahalanobis_within_caliper_balances_its_covariates():
    frame = frame_with_confounding()
    m = PropensityMatcher(mahalanobis=["x1"]).fit(frame, treatment="treat", covariates=["x1", "x2"])
    assert m.counts_.matched > 250
    assert abs(m.balance_.rows[0].smd_after) < 0.1


def test_random_order_is_deterministic_for_a_seed():
    frame = frame_with_confounding()
    a = PropensityMatcher(order="random", seed=4, caliper=0.05).fit(frame, treatment="treat", covariates=["x1", "x2"])
    b = PropensityMatcher(order="random", seed=4, caliper=0.05).fit(frame, treatment="treat", covariates=["x1", "x2"])
    assert a.matches_.equals(b.matches_)


def test_matchit_defaults_match_on_probability_without_caliper():
    frame = frame_with_confounding()
    m = PropensityMatcher(distance="probability", caliper=None).fit(frame, treatment="treat", covariates=["x1", "x2"])
    assert m.counts_.matched == 300
    assert np.allclose(m.distance_, m.propensity_)


def test_balance_hand_worked_smd():
    # treated x = 1, 2, 3 (mean 2, SD 1); comparisons 0, 0, 3 (mean 1): SMD = 1.0
    x = np.array([[1.0], [2.0], [3.0], [0.0], [0.0], [3.0]])
    treat = np.array([1, 1, 1, 0, 0, 0])
    table = balance_table(x, ["x"], treat, np.ones(6))
    assert table.rows[0].smd_before == pytest.approx(1.0)
    assert table.rows[0].variance_ratio_before == pytest.approx(1.0 / 3.0)
    assert table.rows[0].ecdf_max_before == pytest.approx(2 / 3)
    # binary: treated p = 0.5 -> denominator sqrt(0.25) = 0.5; comparisons p = 0 -> SMD 1.0
    b = balance_table(np.array([[1.0], [0.0], [0.0], [0.0]]), ["b"], np.array([1, 1, 0, 0]), np.ones(4))
    assert b.rows[0].binary and b.rows[0].smd_before == pytest.approx(1.0)
    assert b.rows[0].variance_ratio_before is None


def test_balance_after_uses_weights_and_the_unmatched_denominator():
    x = np.array([[1.0], [3.0], [0.0], [4.0], [10.0]])
    treat = np.array([1, 1, 0, 0, 0])
    weights = np.array([1.0, 1.0, 0.5, 1.5, 0.0])  # comparison mean after = (0*0.5 + 4*1.5) / 2 = 3
    table = balance_table(x, ["x"], treat, weights)
    sd_treated = np.std([1.0, 3.0], ddof=1)
    assert table.rows[0].smd_after == pytest.approx((2.0 - 3.0) / sd_treated)


def test_clear_errors():
    from evaluation.errors import SettingsError

    frame = frame_with_confounding()
    with pytest.raises(SettingsError, match="not in the data"):
        PropensityMatcher().fit(frame, treatment="treat", covariates=["nope"])
    with pytest.raises(SettingsError, match="both treated"):
        PropensityMatcher().fit(frame.filter(pl.col("treat") == 1), treatment="treat", covariates=["x1"])


def test_balance_flags_a_bad_variance_ratio_and_ecdf_and_reports_ecdf_mean():
    # means equal, spreads very different: |SMD| small, variance ratio 16, eCDF gaps large
    treat = np.r_[np.ones(200), np.zeros(200)].astype(bool)
    x = np.r_[np.linspace(-4, 4, 200), np.linspace(-1, 1, 200)]
    table = balance_table(x[:, None], ["spread"], treat, np.ones(400))
    row = table.rows[0]
    assert abs(row.smd_after) < 0.1 and row.variance_ratio_after == pytest.approx(16.0, rel=1e-6)
    assert row.flags == ["variance ratio outside 0.5-2", "eCDF max > 0.15"]
    assert table.imbalanced == ["spread"] and "variance ratio outside 0.5-2" in table.imbalance_text()
    # eCDF mean: the mean gap over the pooled values; hand-worked on two points each
    small = balance_table(np.array([[0.0], [1.0], [1.0], [2.0]]), ["x"], np.array([1, 1, 0, 0], bool), np.ones(4))
    # pooled values 0, 1, 2: F_t = 0.5, 1, 1; F_c = 0, 0.5, 1 -> gaps 0.5, 0.5, 0
    assert small.rows[0].ecdf_mean_after == pytest.approx(1 / 3) and small.rows[0].ecdf_max_after == 0.5
    assert "eCDF mean" in table.summary() and table.to_dict()["variance_ratio_range"] == [0.5, 2.0]


def test_the_overlap_histogram_takes_a_score_that_barely_varies():
    """A propensity model with no real predictor gives a score constant to 1e-16 (a CSV in
    tests/e2e/test_fail_fast.py did); numpy cannot cut that range into 30 bins, and the match
    failed with an internal error. Every unit is still counted, in one bar."""
    from evaluation.match.matcher import PropensityOverlap

    distance = np.full(60, -0.693147) + np.r_[np.zeros(59), 1e-16]
    treat = np.arange(60) % 3 == 0
    overlap = PropensityOverlap.of(distance, treat, np.ones(60), scale="logit")
    assert sum(overlap.treated_before) == 20 and sum(overlap.comparison_before) == 40
    assert max(overlap.treated_before) == 20 and overlap.edges[0] < distance.min() <= distance.max() < overlap.edges[-1]


def test_a_kind_of_unit_no_participant_is_leaves_the_propensity_fit_and_it_converges():
    """With referral dates every participant's triggering event is a conviction, none a
    release, while the comparison pool holds releases: index_after_release then separated
    the groups perfectly, Newton's method ran to its 100-iteration limit without converging
    (8 s of the 9-s match step at a quarter of national scale) and the run reported a
    propensity model that had not converged. Rows whose exact-matching values no
    participant shares can never be matched; they are left out of the fit, and the scores
    of the rest are those of a fit on the rows that can be matched."""
    rng = np.random.default_rng(5)
    n = 4_000
    released = rng.random(n) < 0.3
    x = rng.normal(size=n)
    treat = (~released) & (rng.random(n) < 1 / (1 + np.exp(-(x - 2.5))))
    frame = pl.DataFrame({"treat": treat.astype(int), "x": x, "released": released.astype(float)})
    fit = fit_propensity(frame, treatment="treat", covariates=["x", "released"], exact=["released"])
    assert fit.converged and fit.left_out == int(released.sum())
    assert "released" not in fit.coef  # constant among the rows fitted on
    alone = fit_propensity(frame.filter(~pl.Series(released)), treatment="treat", covariates=["x"])
    assert np.allclose(fit.linear[~released], alone.linear, atol=1e-8)
    matcher = PropensityMatcher(caliper=None, replace=True, exact=["released"]).fit(
        frame, treatment="treat", covariates=["x", "released"])
    assert matcher.converged_ and matcher.counts_.matched == int(treat.sum())
    assert not released[matcher.matches_["row"].to_numpy()].any()


def test_a_standardised_caliper_is_in_sample_standard_deviations_of_the_distance():
    """Found (issue 36, 6): the caliper's SD with ddof=0 instead of 1 went unnoticed. MatchIt
    takes sd() of the distance over the whole sample, which divides by n - 1: on 5 units the
    two differ by 12%."""
    import polars as pl

    frame = pl.DataFrame({"treat": [1, 0, 1, 0, 0], "x": [0.5, 0.1, 0.9, 0.4, 0.2]})
    matcher = PropensityMatcher(caliper=0.25, ratio=1, replace=False, seed=1)
    matcher.fit(frame, treatment="treat", covariates=["x"])
    d = np.asarray(matcher.distance_, dtype=float)
    hand = 0.25 * np.sqrt(((d - d.mean()) ** 2).sum() / (len(d) - 1))
    assert abs(matcher.caliper_width_ - hand) < 1e-12


def test_the_three_ways_in_agree_on_what_a_caliper_is():
    """Found (issue 36, 3): the caliper was validated in three places (the settings, the
    command line's --caliper, the matcher), each in its own words; the matcher compared a
    text with 0 and raised a TypeError. One definition now (match/caliper.py)."""
    import polars as pl

    from evaluation.errors import SettingsError
    from evaluation.match.matcher import parse_caliper
    from evaluation.settings.model import StudySettings

    frame = pl.DataFrame({"treat": [1, 0, 1, 0, 0, 0], "x": [0.5, 0.1, 0.9, 0.4, 0.2, 0.7]})

    def outcomes(value):
        out = []
        for check in (lambda v: StudySettings(data_dir=".", out_dir="o", caliper=v).matching.caliper,
                      parse_caliper,
                      lambda v: PropensityMatcher(caliper=v).fit(frame, treatment="treat", covariates=["x"])):
            try:
                got = check(value)
                if isinstance(got, PropensityMatcher):  # it keeps the setting as given; its width says what it used
                    got = None if got.caliper_width_ == np.inf else float(value)
                out.append(("accepted", None if got is None else float(got)))
            except SettingsError as exc:
                out.append(("refused", str(exc).rsplit("caliper", 1)[-1]))  # the settings name the field first
        return out

    for value in (0, -1, "x", float("inf"), True, "none", None, 0.2, "0.2"):
        got = outcomes(value)
        assert len(set(got)) == 1, (value, got)
