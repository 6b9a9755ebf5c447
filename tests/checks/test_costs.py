"""Value for money: unit costs, offences avoided and their cost, against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.checks.costs import estimate_costs, load_unit_costs
from evaluation.errors import SettingsError
from evaluation.settings.model import load_study


def test_unit_costs_come_from_the_shipped_table_with_source_and_price_year():
    costs = load_unit_costs()
    assert costs.table_price_year == costs.price_year == "2015/16"
    assert "Research Report 99" in costs.source
    assert costs.costs["robbery"] == 11320  # the Home Office row
    assert costs.costs["violence"] == 5930  # violence without injury: the cheaper row, a lower bound
    assert "theft" in costs.uncosted and "drugs" in costs.uncosted
    assert set(costs.to_verify) == {"violence", "burglary"}  # rows the reference says to check


def test_uplift_and_overrides():
    costs = load_unit_costs(uplift=1.2, price_year="2024/25", overrides={"theft": 1000, "robbery": 10000})
    assert costs.costs["burglary"] == pytest.approx(5930 * 1.2)
    assert costs.costs["theft"] == pytest.approx(1200)  # overrides are in the table's prices, then uplifted
    assert costs.costs["robbery"] == pytest.approx(12000)
    assert costs.rows["theft"] == "study override" and "theft" not in costs.uncosted
    assert costs.price_year == "2024/25"
    with pytest.raises(ValueError, match="unknown offence categories"):
        load_unit_costs(overrides={"shoplifting": 1})


def test_cost_arithmetic_hand_case():
    """Three matched sets, two categories: violence (Home Office, 5,930) and theft (override 1,000).
    Offences avoided per set (comparison minus participant): [1, 2], [0, -1], [2, 0].
    Avoided: violence 3, theft 1, total 4. Savings 3 x 5,930 + 1 x 1,000 = 18,790.
    Programme cost 2,000 per participant x 3 = 6,000: net benefit 12,790, benefit-cost ratio 3.1317."""
    unit_costs = load_unit_costs(overrides={"theft": 1000})
    avoided = np.array([[1.0, 2.0], [0.0, -1.0], [2.0, 0.0]])
    result = estimate_costs(avoided, categories=("violence", "theft"), unit_costs=unit_costs,
                            programme_cost_per_participant=2000, n_resamples=500, seed=1)
    assert result.offences_avoided.estimate == 4
    assert result.avoided_by_category == {"violence": 3, "theft": 1}
    assert result.savings.estimate == pytest.approx(18790)
    assert result.programme_cost == 6000
    assert result.net_benefit.estimate == pytest.approx(12790)
    assert result.benefit_cost_ratio.estimate == pytest.approx(18790 / 6000)
    lo, hi = result.savings.ci95
    assert lo <= 18790 <= hi
    # the programme cost is fixed: net benefit and ratio intervals are the savings interval moved and scaled
    assert result.net_benefit.ci95 == pytest.approx((lo - 6000, hi - 6000))
    assert result.benefit_cost_ratio.ci95 == pytest.approx((lo / 6000, hi / 6000))
    d = result.to_dict()
    assert set(d) >= {"offences_avoided", "savings", "net_benefit", "benefit_cost_ratio"}
    assert all(set(d[k]) == {"estimate", "ci95"} for k in ("offences_avoided", "savings", "net_benefit",
                                                            "benefit_cost_ratio"))
    assert "£18,790" in result.summary()


def test_uncosted_categories_are_counted_but_not_valued():
    unit_costs = load_unit_costs()
    avoided = np.array([[0.0, 5.0], [1.0, 5.0]])  # robbery, drugs (no unit cost)
    result = estimate_costs(avoided, categories=("robbery", "drugs"), unit_costs=unit_costs,
                            programme_cost_per_participant=None, n_resamples=200, seed=1)
    assert result.offences_avoided.estimate == 11
    assert result.savings.estimate == pytest.approx(11320)
    assert result.uncosted_offences_avoided == 10
    assert result.net_benefit is None and result.benefit_cost_ratio is None
    assert any("lower bound" in n for n in result.notes)


def test_interval_including_zero_is_flagged():
    rng = np.random.default_rng(3)
    avoided = rng.normal(0, 1, size=(200, 1)).round()
    result = estimate_costs(avoided, categories=("robbery",), unit_costs=load_unit_costs(),
                            programme_cost_per_participant=100, n_resamples=500, seed=2)
    assert result.savings_interval_includes_zero
    assert result.savings.ci95[0] < 0 < result.savings.ci95[1]


def test_study_file_costs_section(tmp_path):
    study = tmp_path / "s.toml"
    study.write_text('[study]\ndata_dir = "d"\nout_dir = "o"\n[study.costs]\nprogramme_cost_total = 750000\n'
                     'uplift = 1.1\nprice_year = "2019/20"\nunit_costs = { theft = 900 }\n')
    s = load_study(study)
    assert (s.costs.programme_cost_total, s.costs.uplift, s.costs.price_year) == (750000, 1.1, "2019/20")
    assert dict(s.costs.unit_costs) == {"theft": 900}
    assert s.to_dict()["unit_cost_overrides"] == {"theft": 900}
    for bad, message in (
        ('programme_cost_total = 1\nprogramme_cost_per_participant = 1', "not both"),
        ("uplift = 1.1", "price_year"),
        ("unit_costs = { shoplifting = 1 }", "unknown offence category"),
        ("programme_cost_total = -5", "programme_cost_total: Input should be greater than or equal to 0"),
        ("bananas = 1", "unknown setting"),
    ):
        study.write_text(f'[study]\ndata_dir = "d"\nout_dir = "o"\n[study.costs]\n{bad}\n')
        with pytest.raises(SettingsError, match=message):
            load_study(study)
