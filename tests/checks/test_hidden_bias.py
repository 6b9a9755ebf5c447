"""Hidden bias (Rosenbaum bounds) against hand-worked cases, scipy at Gamma = 1 and its properties."""

from __future__ import annotations

import pytest

# --- Rosenbaum bounds ------------------------------------------------------------------
LEAD_EXPOSED = [38, 23, 41, 18, 37, 36, 23, 62, 31, 34, 24, 14, 21, 17, 16, 20, 15,
                10, 45, 39, 22, 35, 49, 48, 44, 35, 43, 39, 34, 13, 73, 25, 27]
LEAD_CONTROL = [16, 18, 18, 24, 19, 11, 10, 15, 16, 18, 18, 13, 19, 10, 16, 16, 24,
                13, 9, 14, 21, 19, 7, 18, 19, 12, 11, 22, 25, 16, 13, 11, 13]


def test_sign_test_bound_hand_worked():
    """Ten pairs, every difference positive. Under hidden bias Gamma the chance a pair's
    difference is positive is at most p+ = Gamma / (1 + Gamma) (Rosenbaum 2002, 4.3.2), so the
    upper-bound p-value is p+^10; it reaches 0.05 when p+ = 0.05^(1/10) = 0.741134, that is at
    Gamma = 0.741134 / 0.258866 = 2.8630."""
    from evaluation.checks.hidden_bias import rosenbaum_bounds, sign_test_upper_p

    d = [1.0] * 10
    assert sign_test_upper_p(d, 1.0) == pytest.approx(0.5**10)
    assert sign_test_upper_p(d, 3.0) == pytest.approx(0.75**10)
    bounds = rosenbaum_bounds(d, test="sign")
    assert bounds.gamma == pytest.approx(2.8630, abs=1e-3)


def test_wilcoxon_bound_hand_worked():
    """Five pairs with differences 1..5, all positive: ranks 1..5, T = 15, sum of ranks 15,
    sum of squared ranks 55. At Gamma = 1, E(T) = 7.5 and Var(T) = 13.75, z = 2.0226,
    p = 0.02156. The bound reaches 0.05 when (15 - 15 p+) / sqrt(55 p+ (1 - p+)) = 1.644854,
    i.e. 225 (1 - p+) = 55 x 1.644854^2 x p+ = 148.805 p+, so Gamma = p+ / (1 - p+) = 225 / 148.805
    = 1.5120."""
    from evaluation.checks.hidden_bias import rosenbaum_bounds, wilcoxon_upper_p

    d = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert wilcoxon_upper_p(d, 1.0) == pytest.approx(0.02156, abs=2e-5)
    bounds = rosenbaum_bounds(d)
    assert bounds.gamma == pytest.approx(1.5120, abs=1e-3)
    assert wilcoxon_upper_p(d, bounds.gamma) == pytest.approx(0.05, abs=1e-6)
    # zero differences are dropped and do not change the answer
    assert rosenbaum_bounds([0.0, 0.0, *d]).gamma == pytest.approx(bounds.gamma)


def test_wilcoxon_bound_agrees_with_scipy_without_hidden_bias():
    """Rosenbaum's lead example (Observational Studies, 2002, chapter 4; the data of R's
    rbounds::psens example): at Gamma = 1 the bound is scipy's Wilcoxon signed-rank p-value
    (normal approximation, no continuity correction), and it grows with Gamma."""
    import numpy as np
    from scipy import stats

    from evaluation.checks.hidden_bias import rosenbaum_bounds, wilcoxon_upper_p

    d = np.array(LEAD_EXPOSED) - np.array(LEAD_CONTROL)
    expected = stats.wilcoxon(d, alternative="greater", method="approx", correction=False).pvalue
    assert wilcoxon_upper_p(d, 1.0) == pytest.approx(expected, rel=1e-9)
    ps = [wilcoxon_upper_p(d, g) for g in (1, 2, 3, 4, 5, 6)]
    assert ps == sorted(ps) and ps[-1] > 0.05
    bounds = rosenbaum_bounds(d)
    assert wilcoxon_upper_p(d, bounds.gamma) == pytest.approx(0.05, abs=1e-6)
    assert 3 < bounds.gamma < 5  # significant at Gamma = 3 (p 0.013), not at 5 (p 0.069)


def test_rosenbaum_not_significant_gives_no_gamma():
    from evaluation.checks.hidden_bias import plain_reading, rosenbaum_bounds

    bounds = rosenbaum_bounds([1.0, -1.0, 2.0, -2.0, 0.5])
    assert bounds.gamma is None and bounds.p_value_no_bias > 0.05
    assert "not significant" in plain_reading(bounds)
    with pytest.raises(ValueError):
        rosenbaum_bounds([1.0], test="t")


def test_rosenbaum_bound_properties():
    """For any differences: at Gamma = 1 the bound is scipy's Wilcoxon p-value, it never falls
    as Gamma grows, and at the reported Gamma it is 0.05."""
    import numpy as np
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from scipy import stats

    from evaluation.checks.hidden_bias import rosenbaum_bounds, wilcoxon_upper_p

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.integers(-6, 6), min_size=8, max_size=80))
    def check(values):
        d = np.array(values, dtype=float)
        if np.count_nonzero(d) < 2:
            return
        expected = stats.wilcoxon(d, alternative="greater", method="approx", correction=False,
                                  zero_method="wilcox").pvalue
        assert wilcoxon_upper_p(d, 1.0) == pytest.approx(expected, rel=1e-7, abs=1e-12)
        ps = [wilcoxon_upper_p(d, g) for g in (1.0, 1.5, 2.0, 4.0, 8.0)]
        assert all(b >= a - 1e-12 for a, b in zip(ps, ps[1:]))
        bounds = rosenbaum_bounds(d)
        if bounds.gamma is not None and not bounds.beyond_search:
            assert wilcoxon_upper_p(d, bounds.gamma) == pytest.approx(0.05, abs=1e-5)

    check()
