"""Value for money: offences avoided, what they would have cost, and the net benefit.

Offences avoided are counted per matched set (the comparison units' weighted mean minus
the participant, by offence category), so that

    offences avoided = (comparison offences per person - participants') x participants.

Each category is costed at a Home Office unit cost of crime (``data/unit_costs.toml``:
source, price year and the mapping from this project's categories), times a price-year
uplift, with per-study overrides. 95% intervals come from a BCa bootstrap over matched
sets (scipy.stats.bootstrap); the programme cost is a fixed number, so the interval for
net benefit is the savings interval less the cost, and the benefit-cost ratio's is the
savings interval over the cost.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import polars as pl
from scipy import stats

from evaluation.cohorts.build import CohortSummary
from evaluation.db.connection import opened
from evaluation.db.queries import run_sql
from evaluation.estimate.impact import ImpactResult, MatchedData
from evaluation.estimate.resampling import bca_interval, leave_one_out_mean
from evaluation.estimate.significance import CONFIDENCE
from evaluation.estimate.types import Estimate, clean_number
from evaluation.load.contract import CATEGORIES
from evaluation.match.sample import load_matched
from evaluation.settings.model import StudySettings


@dataclass(frozen=True)
class UnitCosts:
    """The cost per offence of each category, in the report's prices.

    ``costs`` holds every costed category; ``uncosted`` the categories with no figure;
    ``rows`` the Home Office row (or "study override") each costed category took;
    ``to_verify`` the categories whose figure is marked for checking against the source.
    """

    costs: dict[str, float]
    uncosted: tuple[str, ...]
    rows: dict[str, str]
    to_verify: tuple[str, ...]
    source: str
    table_price_year: str
    price_year: str
    uplift: float

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "table_price_year": self.table_price_year,
            "price_year": self.price_year,
            "uplift": self.uplift,
            "per_offence": {k: clean_number(v) for k, v in self.costs.items()},
            "rows": dict(self.rows),
            "uncosted_categories": list(self.uncosted),
            "to_verify": list(self.to_verify),
        }


def load_unit_costs(
    *, uplift: float = 1.0, price_year: str | None = None, overrides: Mapping[str, float] | None = None
) -> UnitCosts:
    """The shipped Home Office table mapped to the project's categories, uplifted, with overrides.

    ``overrides`` maps an offence category to its cost per offence in the table's price
    year; it replaces the mapped figure or costs a category the table leaves out.
    """
    raw = tomllib.loads(resources.files("evaluation.checks").joinpath("data/unit_costs.toml").read_text(encoding="utf-8"))
    table, mapping = raw["unit_costs"], raw["categories"]
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(CATEGORIES))
    if unknown:
        raise ValueError(f"unknown offence categories in unit cost overrides: {', '.join(unknown)}")
    costs, rows, to_verify = {}, {}, []
    for category in CATEGORIES:
        if category in overrides:
            costs[category], rows[category] = float(overrides[category]) * uplift, "study override"
        elif mapping.get(category):
            row = table[mapping[category]]
            costs[category], rows[category] = float(row["cost"]) * uplift, mapping[category]
            if row.get("verify"):
                to_verify.append(category)
    return UnitCosts(
        costs=costs,
        uncosted=tuple(c for c in CATEGORIES if c not in costs),
        rows=rows,
        to_verify=tuple(to_verify),
        source=raw["source"],
        table_price_year=raw["price_year"],
        price_year=price_year or raw["price_year"],
        uplift=float(uplift),
    )


@dataclass(frozen=True)
class CostResult:
    """Offences avoided and their value, for the matched participants."""

    participants: int
    offences_avoided: Estimate
    avoided_by_category: dict[str, float]
    savings: Estimate
    programme_cost: float | None
    net_benefit: Estimate | None
    benefit_cost_ratio: Estimate | None
    unit_costs: UnitCosts
    uncosted_offences_avoided: float
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def savings_interval_includes_zero(self) -> bool:
        lo, hi = self.savings.ci95
        return lo <= 0 <= hi

    def to_dict(self) -> dict:
        def est(e: Estimate | None) -> dict | None:
            return None if e is None else e.to_dict(with_method=False, with_p_value=False)
        return {
            "participants": self.participants,
            "offences_avoided": est(self.offences_avoided),
            "offences_avoided_by_category": {k: clean_number(v) for k, v in self.avoided_by_category.items()},
            "uncosted_offences_avoided": clean_number(self.uncosted_offences_avoided),
            "savings": est(self.savings),
            "programme_cost": clean_number(self.programme_cost),
            "net_benefit": est(self.net_benefit),
            "benefit_cost_ratio": est(self.benefit_cost_ratio),
            "savings_interval_includes_zero": self.savings_interval_includes_zero,
            "unit_costs": self.unit_costs.to_dict(),
            "method": self.offences_avoided.method,
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        def line(label: str, e: Estimate | None, fmt: str) -> str:
            if e is None:
                return f"{label}: not estimated (no programme cost given)"
            return f"{label}: {fmt.format(e.estimate)} (95% CI {fmt.format(e.ci95[0])} to {fmt.format(e.ci95[1])})"
        return "\n".join([
            f"value for money for {self.participants:,} matched participants ({self.unit_costs.price_year} prices)",
            line("  offences avoided", self.offences_avoided, "{:,.0f}"),
            line("  cost of crime avoided", self.savings, "£{:,.0f}"),
            line("  net benefit", self.net_benefit, "£{:,.0f}"),
            line("  benefit-cost ratio", self.benefit_cost_ratio, "{:.2f}"),
        ])


def _bootstrap_total(values: np.ndarray, *, n_resamples: int, seed: int) -> tuple[float, float]:
    """95% BCa interval for the sum of per-set values, resampling matched sets."""
    n = len(values)
    if n < 2 or np.all(values == values[0]):
        total = float(values.sum())
        return total, total
    # scipy's BCa, with the jackknife of a mean in closed form (O(n), not O(n²))
    lo, hi = bca_interval((values,), np.mean, leave_one_out_mean(values), n_resamples=n_resamples, seed=seed,
                          confidence_level=CONFIDENCE)
    if not (np.isfinite(lo) and np.isfinite(hi)):  # BCa can fail on very skewed data
        res = stats.bootstrap(
            (values,), np.mean, n_resamples=n_resamples, confidence_level=CONFIDENCE, method="percentile",
            vectorized=True, random_state=np.random.default_rng(seed),
        )
        lo, hi = res.confidence_interval
    return float(lo) * n, float(hi) * n


def estimate_costs(
    avoided: np.ndarray,
    *,
    categories: tuple[str, ...],
    unit_costs: UnitCosts,
    programme_cost_per_participant: float | None,
    n_resamples: int = 2000,
    seed: int = 0,
) -> CostResult:
    """Offences avoided, savings, net benefit and benefit-cost ratio with bootstrap intervals.

    Parameters
    ----------
    avoided : one row per matched set (participant) and one column per category in
        ``categories``: the comparison units' weighted mean offences in the after
        window minus the participant's.
    programme_cost_per_participant : pounds, in the report's price year; None leaves net
        benefit and the benefit-cost ratio out.
    """
    avoided = np.asarray(avoided, dtype=float)
    if avoided.ndim != 2 or avoided.shape[1] != len(categories):
        raise ValueError("avoided needs one column per category")
    n = avoided.shape[0]
    if n == 0:
        raise ValueError("no matched sets to cost")
    price = np.array([unit_costs.costs.get(c, 0.0) for c in categories])
    costed = np.array([c in unit_costs.costs for c in categories])
    per_set_offences = avoided.sum(axis=1)
    per_set_savings = avoided @ price
    method = f"matched sets resampled {n_resamples:,} times (BCa bootstrap, scipy)"
    lo, hi = _bootstrap_total(per_set_offences, n_resamples=n_resamples, seed=seed)
    offences = Estimate(float(per_set_offences.sum()), (lo, hi), None, method)
    lo, hi = _bootstrap_total(per_set_savings, n_resamples=n_resamples, seed=seed + 1)
    savings = Estimate(float(per_set_savings.sum()), (lo, hi), None, method)
    net = ratio = cost = None
    notes = []
    if programme_cost_per_participant is not None:
        cost = float(programme_cost_per_participant) * n
        net = Estimate(savings.estimate - cost, (savings.ci95[0] - cost, savings.ci95[1] - cost), None,
                       "cost of crime avoided less programme cost (a fixed amount)")
        if cost > 0:
            ratio = Estimate(savings.estimate / cost, (savings.ci95[0] / cost, savings.ci95[1] / cost), None,
                             "cost of crime avoided over programme cost (a fixed amount)")
        else:
            notes.append("the programme cost is zero, so there is no benefit-cost ratio")
    uncosted = float(avoided[:, ~costed].sum())
    if unit_costs.uncosted:
        notes.append("offences in " + ", ".join(c.replace("_", " ") for c in unit_costs.uncosted)
                     + " have no unit cost and are not in the savings, which are therefore a lower bound")
    return CostResult(
        participants=n,
        offences_avoided=offences,
        avoided_by_category={c: float(avoided[:, i].sum()) for i, c in enumerate(categories)},
        savings=savings,
        programme_cost=cost,
        net_benefit=net,
        benefit_cost_ratio=ratio,
        unit_costs=unit_costs,
        uncosted_offences_avoided=uncosted,
        notes=tuple(notes),
    )


def programme_cost_per_participant(settings: StudySettings, submitted: int) -> float | None:
    if settings.costs.programme_cost_per_participant is not None:
        return float(settings.costs.programme_cost_per_participant)
    if settings.costs.programme_cost_total is not None:
        return float(settings.costs.programme_cost_total) / submitted if submitted else None
    return None


def avoided_by_set(data: MatchedData, offences: pl.DataFrame) -> pl.DataFrame:
    """Per matched set and category: the comparisons' weighted mean offences minus the
    participant's. A comparison's offence counts with its matching weight, and an offence
    it committed after its own later start counts 1 / (the estimated rate ratio), its
    untreated equivalent, as in the headline (the structural model); without that model
    (a sample matched outside the pipeline) every offence counts once."""
    t = data.treat == 1
    participants = pl.DataFrame({"unit_id": data.unit[t], "subclass": data.subclass[t]})
    comparisons = pl.DataFrame({"unit_id": data.unit[~t], "subclass": data.subclass[~t], "m": data.weight[~t],
                                "start_day": (data.start_day[~t] if data.start_day is not None
                                              else np.full(int((~t).sum()), np.nan))})
    given = participants.join(offences, on="unit_id").select("subclass", "category", avoided=pl.lit(-1.0))
    taken = comparisons.join(offences, on="unit_id")
    if data.structural is not None and data.structural.psi is not None:
        w = data.structural.offence_weights(taken["start_day"].cast(pl.Float64).fill_null(np.nan).to_numpy(),
                                            taken["days_from_index"].cast(pl.Float64).to_numpy())
        taken = taken.with_columns(w=pl.Series(w))
    else:
        taken = taken.with_columns(w=pl.lit(1.0))
    taken = taken.select("subclass", "category", avoided=pl.col("m") * pl.col("w"))
    return (pl.concat([given.with_columns(pl.col("category").cast(pl.String)),
                       taken.with_columns(pl.col("category").cast(pl.String))])
            .group_by("subclass", "category").agg(pl.col("avoided").sum()).sort("subclass", "category"))


def run_costs(settings: StudySettings, cohorts: CohortSummary, estimate: ImpactResult, context=None) -> CostResult:
    """Offences avoided by category and their cost, with intervals over the matched sets
    that ``estimate`` was made on (the programme cost is spread over everyone submitted)."""
    data, _ = load_matched(settings, context)
    with opened(settings.db_path, read_only=True) as con:
        offences = run_sql(con, "outcomes/matched_after_offences").pl()
        sets = run_sql(con, "outcomes/matched_set_ids").pl()["subclass"].to_numpy()
    rows = avoided_by_set(data, offences)
    avoided = np.zeros((sets.size, len(CATEGORIES)))
    if rows.height:
        row = np.searchsorted(sets, rows["subclass"].to_numpy())  # sets are sorted
        col = rows["category"].replace_strict({c: i for i, c in enumerate(CATEGORIES)}, return_dtype=pl.Int64)
        avoided[row, col.to_numpy()] = rows["avoided"].to_numpy()
    unit_costs = load_unit_costs(uplift=settings.costs.uplift, price_year=settings.costs.price_year,
                                 overrides=dict(settings.costs.unit_costs))
    return estimate_costs(
        avoided, categories=CATEGORIES, unit_costs=unit_costs,
        programme_cost_per_participant=programme_cost_per_participant(settings, cohorts.submitted),
        n_resamples=settings.checks.bootstrap_resamples, seed=settings.seed,
    )
