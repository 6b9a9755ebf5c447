"""Propensity score matching: greedy nearest neighbour on a sorted score.

The propensity score is a logistic regression (statsmodels ``Logit``). Matching never
forms pairwise distances: controls are sorted by score once, each participant's place
among them is found by binary search, and, without replacement, used controls are
skipped with "next available" pointers (union-find with path halving), so matching
10,000 participants against 2,000,000 candidates takes well under a second. Greedy
matching is sequential by definition, so its one loop runs over participants (never
over the candidate pool); matching with replacement is fully vectorised.

Settings that reproduce R MatchIt's defaults (``method = "nearest"``): ``distance =
"probability"``, ``caliper = None``, ``order = "descending"``, ``ratio = 1``,
``replace = False``.

Examples
--------
>>> matcher = PropensityMatcher(caliper=0.2, ratio=1, seed=1)
>>> matcher.fit(frame, treatment="treat", covariates=["age", "prior_offences"])  # doctest: +SKIP
>>> matcher.balance_.max_abs_smd_after  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationError

from evaluation.cohorts.covariates import design_matrix
from evaluation.errors import SettingsError
from evaluation.estimate.types import clean_number
from evaluation.match.balance import BalanceBefore, BalanceTable, balance_before, balance_table
from evaluation.match.caliper import check_caliper


@dataclass(frozen=True)
class MatchCounts:
    """How many participants were matched and why the others were not: every unmatched
    participant is counted once, as outside common support (their score lies beyond every
    comparison's, or no comparison shares their exact-matching values) or as having no
    comparison within the caliper."""

    treated: int
    matched: int
    no_match_within_caliper: int
    outside_common_support: int
    comparison_units: int
    comparison_rows: int

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _find(parent: np.ndarray, i: int) -> int:
    """Root of i with path halving (the 'next available' pointer)."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return int(i)


def _greedy_nearest(
    order: np.ndarray,
    t_score: np.ndarray,
    c_score_sorted: np.ndarray,
    ratio: int,
    width: float,
    t_mahal: np.ndarray | None,
    c_mahal_sorted: np.ndarray | None,
    inv_cov: np.ndarray | None,
    fill: str = "rounds",
) -> list[tuple[int, list[int]]]:
    """Greedy k:1 nearest-neighbour matching; returns (treated position, [control positions]).
    Without replacement over all of ``order``; with replacement (and a Mahalanobis distance)
    it is called once per participant, so each call sees every comparison again.

    ``fill="rounds"`` is MatchIt's order: every participant (in matching order) takes its
    first comparison, then every participant still matched takes its second, and so on; a
    participant with no comparison in the first round is unmatched, and one that finds none
    in a later round keeps those it has (the pool only shrinks, so it would find none
    later either). ``fill="participant"`` gives each participant all k in turn.
    """
    n_c = len(c_score_sorted)
    right = np.arange(n_c + 1)  # right[i]: nearest available >= i (n_c = none)
    left = np.arange(n_c + 1)  # left[i]: 1 + nearest available <= i - 1 (0 = none)
    used = np.zeros(n_c, dtype=bool)
    pos = np.searchsorted(c_score_sorted, t_score)

    def nearest(t: int) -> int | None:
        score = t_score[t]
        if t_mahal is not None:
            lo = np.searchsorted(c_score_sorted, score - width, side="left")
            hi = np.searchsorted(c_score_sorted, score + width, side="right")
            idx = np.arange(lo, hi)[~used[lo:hi]]
            if len(idx) == 0:
                return None
            diff = c_mahal_sorted[idx] - t_mahal[t]
            d2 = np.einsum("ij,jk,ik->i", diff, inv_cov, diff)
            return int(idx[np.argmin(d2)])
        p = int(pos[t])
        r = _find(right, min(p, n_c))
        lft = _find(left, min(p, n_c)) - 1
        candidates = []
        if lft >= 0:
            candidates.append((score - c_score_sorted[lft], lft))
        if r < n_c:
            candidates.append((c_score_sorted[r] - score, r))
        if not candidates:
            return None
        dist, best = min(candidates)
        return None if dist > width else int(best)

    def take(best: int) -> None:
        used[best] = True
        right[best] = best + 1
        left[best + 1] = best

    chosen: dict[int, list[int]] = {int(t): [] for t in order}
    if fill == "rounds":
        active = [int(t) for t in order]
        for _ in range(ratio):
            still = []
            for t in active:
                best = nearest(t)
                if best is None:
                    continue
                take(best)
                chosen[t].append(best)
                still.append(t)
            active = still
    else:
        for t in order:
            for _ in range(ratio):
                best = nearest(int(t))
                if best is None:
                    break
                take(best)
                chosen[int(t)].append(best)
    return [(t, c) for t, c in chosen.items() if c]


def _nearest_with_replacement(
    t_score: np.ndarray, c_score_sorted: np.ndarray, ratio: int, width: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each participant's k nearest controls within the caliper, vectorised: (positions
    of the participants matched, their controls' positions as a k-column array, and
    which of those are taken), the controls of each participant nearest first.

    Candidates are the k either side of the participant's place among the sorted
    controls, taken in MatchIt's scan order (one to the left, one to the right, the next
    to the left, ...), so that of two controls at the same distance the one met first is
    chosen, as MatchIt chooses it."""
    n_c = len(c_score_sorted)
    pos = np.searchsorted(c_score_sorted, t_score)
    offsets = np.column_stack([-np.arange(1, ratio + 1), np.arange(ratio)]).ravel()  # -1, 0, -2, 1, ...
    cand = pos[:, None] + offsets[None, :]
    valid = (cand >= 0) & (cand < n_c)
    cand = np.clip(cand, 0, n_c - 1)
    dist = np.abs(c_score_sorted[cand] - t_score[:, None])
    dist[~valid] = np.inf
    pick = np.argsort(dist, axis=1, kind="stable")[:, :ratio]
    rows = np.arange(len(t_score))[:, None]
    chosen, chosen_dist = cand[rows, pick], dist[rows, pick]
    ok = np.isfinite(chosen_dist) & (chosen_dist <= width)
    matched = ok.any(axis=1)
    return np.nonzero(matched)[0], chosen[matched], ok[matched]


def _sets(first: int, treated_rows: np.ndarray, control_rows: np.ndarray, taken: np.ndarray) -> np.ndarray:
    """Matched sets as rows of (subclass, row, treat, weight), numbered from ``first`` in
    the order of ``treated_rows``: each set's participant, then its comparisons in the
    order of the columns of ``control_rows`` where ``taken``, each weighted 1/m."""
    n = len(treated_rows)
    m = taken.sum(axis=1)
    subclass = first + np.arange(n)
    out = np.empty((n + int(m.sum()), 4))
    starts = np.arange(n) + np.concatenate([[0], np.cumsum(m)[:-1]])  # each set's first row
    out[starts, 0], out[starts, 1], out[starts, 2], out[starts, 3] = subclass, treated_rows, 1, 1.0
    comp = np.ones(len(out), dtype=bool)
    comp[starts] = False
    # taken entries row by row are in set order, and a set's comparisons follow its participant
    out[comp, 0] = np.repeat(subclass, m)
    out[comp, 1] = control_rows[taken]
    out[comp, 2] = 0
    out[comp, 3] = np.repeat(1.0 / np.maximum(m, 1), m)
    return out


#: Bins of the overlap chart's histogram.
OVERLAP_BINS = 30


@dataclass(frozen=True)
class PropensityOverlap:
    """The distance measure's distribution in equal bins: people (units) per bin for
    participants and comparisons before matching, and matching weight per bin after."""

    scale: str
    edges: tuple[float, ...]
    treated_before: tuple[float, ...]
    comparison_before: tuple[float, ...]
    treated_after: tuple[float, ...]
    comparison_after: tuple[float, ...]

    @classmethod
    def of(cls, distance: np.ndarray, treat: np.ndarray, weights: np.ndarray, *, scale: str) -> PropensityOverlap:
        lo, hi = float(distance.min()), float(distance.max())
        if hi - lo <= 1e-9 * max(1.0, abs(lo), abs(hi)):  # a (nearly) constant score: one visible bar
            lo, hi = lo - 0.5, hi + 0.5
        edges = np.histogram_bin_edges(distance, bins=OVERLAP_BINS, range=(lo, hi))

        def hist(mask, w=None):  # equal bins by count and range: numpy's arithmetic binning, no sort
            return tuple(float(v) for v in np.histogram(distance[mask], bins=OVERLAP_BINS, range=(lo, hi),
                                                        weights=None if w is None else w[mask])[0])

        return cls(scale, tuple(float(e) for e in edges), hist(treat), hist(~treat),
                   hist(treat, weights), hist(~treat, weights))

    def to_dict(self) -> dict:
        """To 8 significant figures, as every number in results.json (the edges come from the
        propensity model, whose last digits vary with the BLAS library's threads)."""
        return {"scale": self.scale, **{name: [clean_number(v) for v in getattr(self, name)] for name in
                                        ("edges", "treated_before", "comparison_before", "treated_after",
                                         "comparison_after")}}


@dataclass
class FitCache:
    """What the matchings on one propensity fit share, filled by the first that needs each
    part: the unmatched side of the balance table and the balance table's columns, by
    distance measure, and the comparison rows of each exact-matching stratum ordered by
    each distance measure (stable), by (distance, stratum). The sensitivity table matches
    several ways on one fit, and each would otherwise recompute them."""

    balance_before: dict[str, BalanceBefore] = field(default_factory=dict)
    balance_columns: dict[str, np.ndarray] = field(default_factory=dict)
    comparison_order: dict[tuple[str, int], np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class PropensityFit:
    """A fitted propensity model: coefficients per SD of each design column, whether
    Newton's method converged, and every row's linear predictor and probability."""

    covariates: tuple[str, ...]
    coef: dict[str, float]
    converged: bool
    linear: np.ndarray
    probability: np.ndarray
    #: the exact-matching columns the fit was restricted by (rows whose values no
    #: participant shares are left out of it), and how many rows that left out
    exact: tuple[str, ...] = ()
    left_out: int = 0
    #: each row's exact-matching stratum (dense ranks of the exact columns' values; all 0
    #: without exact matching)
    strata: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), compare=False, repr=False)
    #: what every matching on this fit computes alike, kept by the first for the next (the
    #: fit itself never changes; see FitCache)
    cache: FitCache = field(default_factory=FitCache, compare=False, repr=False)

    @property
    def rows(self) -> int:
        return len(self.linear)


def fit_propensity(frame: pl.DataFrame, *, treatment: str, covariates: Sequence[str],
                   exact: Sequence[str] = ()) -> PropensityFit:
    """The propensity model: a logistic regression (statsmodels ``Logit``, Newton) of
    ``treatment`` on the design columns of ``covariates``.

    With ``exact`` matching columns, rows whose combination of their values no participant
    has are left out of the fit: they can never be matched, and when a whole kind of unit
    has no participants (every participant's triggering event a conviction, none a
    release, say) they separate the groups perfectly, so Newton's method runs to its
    iteration limit without converging while that coefficient heads for minus infinity.
    Their scores are still computed, from the fitted coefficients. Design columns that do
    not vary among the rows fitted on are left out of the model."""
    treat = frame[treatment].cast(pl.Int8).to_numpy().astype(bool)
    x, labels = design_matrix(frame, list(covariates))
    fit_rows = np.ones(len(frame), dtype=bool)
    strata = np.zeros(len(frame), dtype=np.int64)
    if exact:
        strata = frame.select(pl.struct(list(exact)).rank("dense").alias("k"))["k"].to_numpy()
        fit_rows = np.isin(strata, np.unique(strata[treat]))
    every = bool(fit_rows.all())
    xf = x if every else x[fit_rows]  # no copy when every row is fitted on: the very same fit, to the last bit
    # standardised columns: the same fitted scores, and Newton's method converges in a
    # few steps instead of dozens (raw columns differ in scale by thousands)
    centre, scale = xf.mean(axis=0), xf.std(axis=0)
    varies = scale > 0
    if not varies.any():
        raise SettingsError("none of the covariates varies among the units that can be matched; nothing to match on")
    if not varies.all():
        x, centre, scale = x[:, varies], centre[varies], scale[varies]
        labels = [label for label, keep in zip(labels, varies) if keep]
    exog = np.column_stack([np.ones(len(x)), (x - centre) / scale])
    try:
        with warnings.catch_warnings():  # non-convergence is recorded in converged and reported
            warnings.simplefilter("ignore", ConvergenceWarning)
            # check_rank=False: statsmodels would take a QR of the whole design only to count its
            # degrees of freedom, which the score does not use (a singular design still fails below)
            fit = sm.Logit((treat if every else treat[fit_rows]).astype(float), exog if every else exog[fit_rows],
                           check_rank=False).fit(method="newton", maxiter=100, disp=False)
    except (PerfectSeparationError, np.linalg.LinAlgError) as exc:
        raise SettingsError(f"the propensity model cannot be fitted ({exc}); drop a covariate that "
                            "separates participants from comparisons") from None
    linear = exog @ fit.params
    return PropensityFit(tuple(covariates), dict(zip(["const", *labels], map(float, fit.params))),
                         bool(fit.mle_retvals.get("converged", True)), linear, 1.0 / (1.0 + np.exp(-linear)),
                         exact=tuple(exact), left_out=int((~fit_rows).sum()), strata=strata)


class PropensityMatcher:
    """Greedy nearest-neighbour propensity score matching.

    Parameters
    ----------
    caliper : float or None, default 0.2
        Largest allowed distance, in standard deviations of the distance measure over the
        whole sample (MatchIt's standardised caliper). None: no caliper.
    distance : {"logit", "probability"}, default "logit"
        Match on the linear predictor (logit of the score) or the probability.
    ratio : int, default 1
        Comparisons per participant (k:1).
    replace : bool, default False
        Whether a comparison may be matched to more than one participant.
    order : {"descending", "ascending", "random", "data"}, default "descending"
        The order participants are matched in (by score; random is seeded).
    fill : {"rounds", "participant"}, default "rounds"
        How k:1 matches are filled without replacement. "rounds" is MatchIt's: every
        participant's first comparison, then every participant's second, so early
        participants do not take all the close comparisons of later ones. "participant"
        gives each participant its k in turn.
    exact : sequence of str
        Covariates to match exactly on (matching runs within each combination).
    mahalanobis : sequence of str
        Covariates for a Mahalanobis distance; the nearest by it within the caliper is taken.
    seed : int
        Seed for random order.

    Attributes
    ----------
    propensity_ : ndarray, the fitted probability of treatment for every row.
    propensity_fit_ : PropensityFit, the model matched on (to pass as ``propensity`` to
        another matching of the same rows and covariates).
    distance_ : ndarray, the measure matched on (logit or probability).
    coef_ : dict, the propensity model's coefficients by design column, per standard
        deviation of the column (columns are standardised before fitting).
    matches_ : polars.DataFrame with columns ``subclass``, ``row``, ``treat``, ``weight``:
        one row per unit in each matched set (a comparison reused with replacement
        appears in each of its sets); weights are 1 for participants and 1/m for each of
        a participant's m comparisons.
    weights_ : ndarray, each input row's total matching weight (0 = unmatched).
    balance_ : BalanceTable, before and after matching.
    overlap_ : PropensityOverlap, the distance measure's distribution by group, before
        and after matching, in bins (for the overlap chart).
    counts_ : MatchCounts.
    """

    def __init__(
        self,
        *,
        caliper: float | None = 0.2,
        distance: str = "logit",
        ratio: int = 1,
        replace: bool = False,
        order: str = "descending",
        fill: str = "rounds",
        exact: Sequence[str] = (),
        mahalanobis: Sequence[str] = (),
        seed: int = 0,
    ) -> None:
        self.caliper = caliper
        self.distance = distance
        self.ratio = ratio
        self.replace = replace
        self.order = order
        self.fill = fill
        self.exact = exact
        self.mahalanobis = mahalanobis
        self.seed = seed

    def _check(self) -> None:
        if self.distance not in ("logit", "probability"):
            raise SettingsError("distance must be 'logit' or 'probability'")
        if self.order not in ("descending", "ascending", "random", "data"):
            raise SettingsError("order must be descending, ascending, random or data")
        if self.fill not in ("rounds", "participant"):
            raise SettingsError("fill must be 'rounds' (MatchIt's) or 'participant'")
        if not isinstance(self.ratio, int) or self.ratio < 1:
            raise SettingsError("ratio must be a whole number of at least 1")
        check_caliper(self.caliper)  # one definition (match/caliper.py); the setting is kept as given

    def fit(
        self,
        frame: pl.DataFrame,
        *,
        treatment: str,
        covariates: Sequence[str],
        propensity: PropensityFit | None = None,
    ) -> PropensityMatcher:
        """Fit the propensity model on ``covariates`` and match; ``treatment`` is a 0/1 column.

        ``propensity`` is a fit from :func:`fit_propensity` on the same rows and covariates
        to match on instead of fitting again (as MatchIt's ``distance`` takes a vector of
        scores): matchings that differ only in their settings then share one model."""
        self._check()
        missing = [c for c in (treatment, *covariates, *self.exact, *self.mahalanobis) if c not in frame.columns]
        if missing:
            raise SettingsError(f"column(s) not in the data: {', '.join(missing)}")
        treat = frame[treatment].cast(pl.Int8).to_numpy().astype(bool)
        if treat.all() or not treat.any():
            raise SettingsError(f"'{treatment}' must have both treated (1) and untreated (0) rows")
        propensity = self._use_propensity(frame, treatment, covariates, propensity)
        mahal = inv_cov = None
        if self.mahalanobis:
            mahal = frame.select([pl.col(c).cast(pl.Float64).fill_null(strategy="mean") for c in self.mahalanobis]).to_numpy()
            inv_cov = np.linalg.pinv(np.atleast_2d(np.cov(mahal, rowvar=False)))
        rng = np.random.default_rng(self.seed)
        subclass_rows: list[np.ndarray] = []
        outside = np.zeros(len(frame), dtype=bool)
        sets = 0  # matched sets so far: the next stratum's are numbered on from here
        for s in np.unique(propensity.strata):
            in_s = propensity.strata == s
            found = self._match_stratum(propensity, treat & in_s, ~treat & in_s, outside, mahal, inv_cov, rng, sets)
            if found is not None:
                subclass_rows.append(found)
                sets += int((found[:, 2] == 1).sum())  # one participant a set
        all_rows = np.vstack(subclass_rows) if subclass_rows else np.empty((0, 4))
        self._record(all_rows, treat, outside, len(frame))
        self._balance(frame, covariates, treat, propensity)
        return self

    def _use_propensity(self, frame: pl.DataFrame, treatment: str, covariates: Sequence[str],
                        propensity: PropensityFit | None) -> PropensityFit:
        """Fit the propensity model (or check the one given), and set the distance and caliper width."""
        if propensity is None:
            propensity = fit_propensity(frame, treatment=treatment, covariates=covariates, exact=self.exact)
        elif (propensity.rows != len(frame) or tuple(propensity.covariates) != tuple(covariates)
              or tuple(propensity.exact) != tuple(self.exact)):
            raise SettingsError("the propensity fit given is for other rows, covariates or exact-matching columns")
        self.propensity_fit_ = propensity
        self.coef_ = dict(propensity.coef)
        self.converged_ = propensity.converged
        self.propensity_ = propensity.probability
        self.distance_ = propensity.linear if self.distance == "logit" else self.propensity_
        caliper = check_caliper(self.caliper)  # as given ("0.2", "none") or a number: the checked value
        self.caliper_width_ = np.inf if caliper is None else float(caliper * self.distance_.std(ddof=1))
        return propensity

    def _match_stratum(self, propensity: PropensityFit, treated: np.ndarray, untreated: np.ndarray,
                       outside: np.ndarray, mahal, inv_cov, rng: np.random.Generator, first_set: int) -> np.ndarray | None:
        """The matched sets of one exact-matching stratum as rows (subclass, row, treat,
        weight), subclasses numbered from ``first_set``; marks in ``outside`` its participants
        beyond its comparisons' range of the distance. None when it has no participant or no comparison."""
        t_rows, c_rows = np.nonzero(treated)[0], np.nonzero(untreated)[0]
        if len(t_rows) == 0:
            return None
        if len(c_rows) == 0:
            outside[t_rows] = True
            return None
        width = self.caliper_width_
        key = (self.distance, int(propensity.strata[t_rows[0]]))  # the same order for every matching on this fit
        if key not in propensity.cache.comparison_order:
            propensity.cache.comparison_order[key] = c_rows[np.argsort(self.distance_[c_rows], kind="stable")]
        c_sorted = propensity.cache.comparison_order[key]
        cs = self.distance_[c_sorted]
        ts = self.distance_[t_rows]
        outside[t_rows] = (ts < cs[0]) | (ts > cs[-1])
        if self.order == "descending":
            order = np.argsort(-ts, kind="stable")
        elif self.order == "ascending":
            order = np.argsort(ts, kind="stable")
        elif self.order == "random":
            order = rng.permutation(len(ts))
        else:
            order = np.arange(len(ts))
        if self.replace and mahal is None:
            t_pos, c_pos, taken = _nearest_with_replacement(ts, cs, self.ratio, width)
            return _sets(first_set, t_rows[t_pos], c_sorted[c_pos], taken)
        if self.replace:
            pairs = [p for t in order for p in _greedy_nearest(np.array([t]), ts, cs, self.ratio, width,
                                                               mahal[t_rows], mahal[c_sorted], inv_cov)]
        else:
            pairs = _greedy_nearest(order, ts, cs, self.ratio, width, None if mahal is None else mahal[t_rows],
                                    None if mahal is None else mahal[c_sorted], inv_cov, self.fill)
        t_pos = np.fromiter((t for t, _ in pairs), dtype=np.int64, count=len(pairs))
        c_pos = np.zeros((len(pairs), self.ratio), dtype=np.int64)
        taken = np.zeros((len(pairs), self.ratio), dtype=bool)
        for i, (_, cs_pos) in enumerate(pairs):
            c_pos[i, :len(cs_pos)], taken[i, :len(cs_pos)] = cs_pos, True
        return _sets(first_set, t_rows[t_pos], c_sorted[c_pos], taken)

    def _record(self, all_rows: np.ndarray, treat: np.ndarray, outside: np.ndarray, n: int) -> None:
        """The matched sets as a table, each row's matching weight, and the counts."""
        self.matches_ = pl.DataFrame({"subclass": all_rows[:, 0].astype(np.int64), "row": all_rows[:, 1].astype(np.int64),
                                      "treat": all_rows[:, 2].astype(np.int8), "weight": all_rows[:, 3]})
        self.weights_ = np.bincount(all_rows[:, 1].astype(np.int64), weights=all_rows[:, 3], minlength=n)
        unmatched = treat & (self.weights_ == 0)
        self.counts_ = MatchCounts(
            treated=int(treat.sum()),
            matched=int((all_rows[:, 2] == 1).sum()),
            no_match_within_caliper=int((unmatched & ~outside).sum()),
            outside_common_support=int((unmatched & outside).sum()),
            comparison_units=int(np.unique(all_rows[all_rows[:, 2] == 0, 1]).size),
            comparison_rows=int((all_rows[:, 2] == 0).sum()),
        )

    def _balance(self, frame: pl.DataFrame, covariates: Sequence[str], treat: np.ndarray,
                 propensity: PropensityFit) -> None:
        """The balance table (its unmatched side shared by every matching on the fit) and the overlap."""
        if self.distance not in propensity.cache.balance_columns:
            balance_x = frame.select([pl.col(c).cast(pl.Float64) for c in covariates]).to_numpy()
            propensity.cache.balance_columns[self.distance] = np.column_stack([balance_x, self.distance_])
        balance_x = propensity.cache.balance_columns[self.distance]
        names = [*covariates, "distance"]
        if self.distance not in propensity.cache.balance_before:
            propensity.cache.balance_before[self.distance] = balance_before(balance_x, names, treat)
        self.balance_: BalanceTable = balance_table(balance_x, names, treat, self.weights_,
                                                    before=propensity.cache.balance_before[self.distance])
        self.overlap_ = PropensityOverlap.of(self.distance_, treat, self.weights_, scale=self.distance)


def parse_caliper(text: str | float | None) -> float | None:
    """A caliper from the command line: a positive number of SDs, or 'none' (see match/caliper.py)."""
    return check_caliper(text)
