"""The headline: a structural estimate of the effect of starting versus not starting,
which uses comparisons who start later instead of weighting them away.

Matched comparisons are people who had not started the programme at their index date;
some start during their own follow-up year. From then on their offending is a
participant's. Two ways to recover the contrast "starting versus not starting within the
follow-up year":

- *Censoring and weighting* (:mod:`evaluation.estimate.censoring`): stop counting a
  comparison at the referral that led to its start, and weight the comparisons who were
  not referred by 1 / P(not referred). This needs every comparison to have a real chance
  of not being referred (positivity). When referral is common the most prolific
  offenders are referred almost surely, the weights explode, and on the project's
  known-truth data the intervals covered the truth in only 11 of 20 seeds.
- *A structural model of the programme's effect* (this module), as trials handle
  control-arm patients who switch to the treatment: the rank-preserving structural failure
  time model (Robins and Tsiatis 1991) and g-estimation of structural nested models
  (Robins 1992; NICE DSU TSD 16, Latimer and Abrams 2014). The model: the programme
  multiplies the rate of offending by ``psi`` while a person is on it, whether they started
  at their index date (a participant) or later (a comparison). A comparison's offences after
  its own start, divided by ``psi``, are then what it would have committed without the
  programme, so the comparisons' untreated offences are ``O_pre + O_post / psi`` over the
  whole year. ``psi`` solves

      rate(participants) = psi * (O_pre + O_post / psi) / D

  with O_pre, O_post and D the comparisons' (matching-weighted) mean offences before and
  after their own start and days at risk; so ``psi = (r_t * D - O_post) / O_pre``, in
  closed form. No model of who starts is needed (a comparison may start *because* it was
  offending: the comparison is made at the index date, where matching made the groups
  alike), and no one is weighted up. The assumption is the model's: a comparison who
  starts later gains the same proportional effect for the rest of its year. It is the
  programme's own effect that is assumed common, not anything about who is referred.

Its calibration on the project's known-truth data is tests/e2e/test_calibration.py (the
runs and their coverage are in docs/methodology.md, "The estimand").

The variance is the stacked sandwich of the group means
(:func:`evaluation.estimate.stacked.weighted_group_means`), clustered on matched set and
on person, carried to ``psi`` and the other measures by the delta method (statsmodels'
numerical derivative).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from statsmodels.tools.numdiff import approx_fprime

from evaluation.estimate.stacked import GroupMeans, normal_estimate, weighted_group_means
from evaluation.estimate.types import Estimate

#: The group means the structural estimate is made of, per person.
#: offences: participants' offences in the after window; comparisons' offences before their own start
#: on_programme: comparisons' offences after their own start (participants: 0, all their year counts above)
NAMES = ("offences", "on_programme", "days_at_risk", "offences_before")
#: Where each mean is in the stacked vector [participants' means..., comparisons' means...]:
#: by name, never by a position that a change of NAMES would silently shift.
T = {name: i for i, name in enumerate(NAMES)}
C = {name: len(NAMES) + i for i, name in enumerate(NAMES)}

METHOD = ("structural model of the programme's effect (g-estimation; comparisons who start later count their "
          "offences after their start divided by the estimated rate ratio); sandwich SE clustered on matched set "
          "and person, delta method")

ASSUMPTION = ("a comparison who starts the programme later in its follow-up year gains the same proportional "
              "change in offending for the rest of that year as a participant")


def _psi(mu: np.ndarray) -> float:
    """(r_t * D_c - O_post) / O_pre from the stacked means [treated..., comparison...]."""
    t_off, t_days = mu[T["offences"]], mu[T["days_at_risk"]]
    c_pre, c_post, c_days = mu[C["offences"]], mu[C["on_programme"]], mu[C["days_at_risk"]]
    return (t_off / t_days * c_days - c_post) / c_pre


def _untreated(mu: np.ndarray) -> float:
    """The comparisons' mean offences without the programme: O_pre + O_post / psi."""
    return mu[C["offences"]] + mu[C["on_programme"]] / _psi(mu)


def _as_observed(mu: np.ndarray) -> float:
    """The comparisons' mean offences as observed, O_pre + O_post (when psi is not estimable)."""
    return mu[C["offences"]] + mu[C["on_programme"]]


NOT_SCALED = "; the rate ratio is not estimable, so comparisons' offences after their own start count as observed"


@dataclass(frozen=True)
class StructuralFit:
    """The structural estimate on a matched sample.

    Attributes
    ----------
    means : the group means it is made of (:data:`NAMES`) with their joint covariance.
    psi : the estimated rate ratio (None when not estimable).
    """

    means: GroupMeans
    psi: float | None

    @property
    def _mu(self) -> np.ndarray:
        return np.r_[self.means.treated, self.means.comparison]

    def _delta(self, f, log: bool = False) -> tuple[float, float]:
        mu = self._mu
        g = approx_fprime(mu, (lambda v: np.log(f(v))) if log else f, centered=True)
        value = float(np.log(f(mu)) if log else f(mu))
        return value, float(g @ self.means.cov @ g)

    def rate_ratio(self) -> Estimate:
        """psi with a 95% interval on the log scale."""
        if self.psi is None:
            return Estimate(None, (None, None), None, METHOD + "; not estimable (no offences in a group)")
        log_psi, var = self._delta(_psi, log=True)
        e = normal_estimate(log_psi, var, METHOD)
        if e.ci95[0] is None:
            return Estimate(self.psi, (None, None), None, e.method)
        return Estimate(float(np.exp(log_psi)), (float(np.exp(e.ci95[0])), float(np.exp(e.ci95[1]))), e.p_value,
                        METHOD)

    def untreated_offences(self) -> float:
        """The comparisons' mean offences in the after window without the programme (as
        observed when the rate ratio is not estimable)."""
        return float((_as_observed if self.psi is None else _untreated)(self._mu))

    def frequency_difference(self, minus_before: bool = False, label: str = "") -> Estimate:
        """Participants' mean offences minus the comparisons' untreated mean (less each
        group's before-window mean when ``minus_before``)."""
        method = f"{label}: {METHOD}" + (NOT_SCALED if self.psi is None else "")
        untreated = _as_observed if self.psi is None else _untreated

        def diff(v):
            out = v[T["offences"]] - untreated(v)
            return out - (v[T["offences_before"]] - v[C["offences_before"]]) if minus_before else out

        value, var = self._delta(diff)
        return normal_estimate(value, var, method)

    def offence_weights(self, start_day: np.ndarray, days_from_index: np.ndarray) -> np.ndarray:
        """Each comparison offence's weight in the comparisons' untreated count: 1 before the
        comparison's own start (``start_day`` NaN: it never started), 1 / psi on or after it."""
        on = ~np.isnan(start_day) & (days_from_index >= np.nan_to_num(start_day, nan=np.inf))
        return np.where(on, 1.0 / self.psi if self.psi else 1.0, 1.0)

    def to_dict(self) -> dict:
        return {"method": METHOD, "assumption": ASSUMPTION}


def fit_structural(data) -> StructuralFit | None:
    """The structural estimate on a :class:`~evaluation.estimate.impact.MatchedData`
    (None when it carries no record of comparisons' offences after their own start)."""
    if data.offences_after_start is None:
        return None
    t, c = data.treat == 1, data.treat == 0
    clusters = data.clusters()
    on = data.offences_after_start[c].astype(float)
    treated_columns = {"offences": data.offences_after[t], "on_programme": np.zeros(int(t.sum())),
                       "days_at_risk": data.days_at_risk_after[t], "offences_before": data.offences_before[t]}
    comparison_columns = {"offences": data.offences_after[c] - on, "on_programme": on,
                          "days_at_risk": data.days_at_risk_after[c], "offences_before": data.offences_before[c]}
    treated = np.column_stack([treated_columns[name] for name in NAMES]).astype(float)
    comparison = np.column_stack([comparison_columns[name] for name in NAMES]).astype(float)
    means = weighted_group_means(
        names=NAMES, treated_values=treated, treated_clusters=clusters[t],
        comparison_weight=data.weight[c], comparison_base=comparison, comparison_clusters=clusters[c],
        interval_group=np.zeros(0, dtype=np.int64), interval_values=np.zeros((0, len(NAMES))), censoring=None,
    )
    mu = np.r_[means.treated, means.comparison]
    psi = None
    if min(mu[T["offences"]], mu[T["days_at_risk"]], mu[C["offences"]], mu[C["days_at_risk"]]) > 0:
        value = _psi(mu)
        psi = float(value) if np.isfinite(value) and value > 0 else None
    return StructuralFit(means, psi)
