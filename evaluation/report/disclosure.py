"""Disclosure control for the partner audience: one pass over the exact results.

A partner may subtract, multiply and divide every number in every file it receives, and
compare this month's report with last month's. Suppressing small cells cannot survive
that (a total in one run minus the same total in the next is a person), so the partner
view uses **keyed random rounding** (:mod:`evaluation.report.rounding`; docs/security.md):

- **Every count is rounded** to a multiple of the base (the suppression threshold, default
  5), at random but the same way for the same results; any change to the data redraws
  every count. A published count is consistent with ``base`` true values, so no count
  from 1 to ``base - 1`` can be told apart from 0 or the base.
- **Totals are sums of their rounded parts** where the output shows the parts (offences
  by category and their groups and totals; the analysed participants and those not
  analysed), so tables add up; the same count shows the same number everywhere.
- **What counts imply is computed from the rounded counts**: shares, per-person
  frequencies, rates, percentage changes and the means of 0/1 and count covariates are
  recomputed from the rounded numerator and denominator, so multiplying them back gives
  a rounded count, never the exact one.
- **Model statistics are coarsened**: estimates and intervals to three significant figures,
  p-values to three decimals (none below 0.001), money to two significant figures;
  test statistics, survival steps, propensity coefficients and days at risk to the day
  are left out.
- **A final pass** (:func:`_coarsen_the_rest`) rounds any count and coarsens any number a
  new result might add, so nothing reaches a partner at full precision unreviewed.
- **Truly small cohorts.** With fewer than :data:`MIN_PARTNER_MATCHED` matched
  participants, the matched comparison and everything built on it (``MATCHED_ONLY``) are
  withheld, and the message says what the analyst can change; subgroups smaller than
  twice the base show no estimate. A handful of unmatched participants withholds nothing.
- **No individual's facts.** Index dates and the data cut-off are shown to the month, or
  the year when the cohort is small; input files' sizes and hashes are left out.
"""

from __future__ import annotations

import copy
import math
import re

from evaluation.load.contract import REJECT_WARNING_SHARE
from evaluation.report.rounding import KeyedRounding, disclosure_key, key_id, p_value, ratio, significant

WITHHELD = "withheld: would reveal a small count"
#: The fewest analysed participants for which a partner view shows the matched comparison.
MIN_PARTNER_MATCHED = 20
#: The fewest analysed participants for which the balance table shows standardised differences.
MIN_PARTNER_SMD = 100

#: Keys whose integer values are counts of people or offences (the final pass rounds any it finds).
COUNT_KEYS = frozenset({
    "submitted", "participants", "people", "offences_before", "offences_after",
    "people_with_offence_before", "people_with_offence_after", "not_reoffended", "treated", "comparison",
    "matched", "no_match_within_caliper", "outside_common_support", "comparison_units", "comparison_rows",
    "reoffenders_treated", "contaminated_comparisons", "candidate_units", "candidate_people",
    "pairs", "pairs_with_a_difference", "read", "loaded", "rejected", "participants_needed",
    "listed", "identified", "identified_people", "duplicates",
})

#: Covariates whose mean times a group size is a number of offences. A binary covariate's
#: mean is a share of people: each balance row says whether it is binary (measured from
#: the data, evaluation/match/balance.py), so a new binary covariate is covered without
#: being listed here.
COUNT_COVARIATES = frozenset({"prior_offences_365", "proven_365", "prior_offences_366_730", "prior_offences_earlier",
                              "prior_person", "prior_property", "prior_drugs"})


def _month(date_text: str | None, *, year_only: bool) -> str | None:
    if not date_text:
        return date_text
    return date_text[:4] if year_only else date_text[:7]


def _interval(values, digits: int = 3):
    return None if values is None else [significant(v, digits) for v in values]


def _test(test: dict | None, digits: int = 3) -> dict | None:
    """An estimate with its interval and p-value, coarsened; a test statistic left out."""
    if not isinstance(test, dict):
        return test
    out = dict(test)
    out.pop("statistic", None)
    for key in ("estimate", "difference"):
        if isinstance(out.get(key), float):
            out[key] = significant(out[key], digits)
    if "ci95" in out:
        out["ci95"] = _interval(out["ci95"], digits)
    for key in ("p_value", "p_value_holm", "p_value_no_hidden_bias"):
        if key in out:
            out[key] = p_value(out[key])
    return out


class _View:
    """The partner view under construction: the rounding, and the rounded base counts."""

    def __init__(self, results: dict, threshold: int, key: bytes) -> None:
        self.r = KeyedRounding(threshold, key, results)
        self.base = threshold

    def count(self, cell: str, value, base: int | None = None):
        return self.r.count(cell, value, base)


# --- the counts and what they imply ----------------------------------------------------------

def _load_view(out: dict, v: _View) -> None:
    load = out.get("load")
    if not load:
        return
    for table, c in load["tables"].items():
        loaded = v.count(f"load/{table}/loaded", c["loaded"])
        rejected = v.count(f"load/{table}/rejected", c["rejected"])
        load["tables"][table] = {**c, "loaded": loaded, "rejected": rejected, "read": loaded + rejected}
    load["data_cutoff"] = _month(load.get("data_cutoff"), year_only=False)
    # The analyst's warnings quote exact shares and row counts by reason: partners get them
    # again from the rounded counts shown, with no reason (a reason's count can be small).
    load["warnings"] = [f"{table}: {c['rejected'] / c['read']:.0%} of the rows read were rejected (over "
                        f"{REJECT_WARNING_SHARE:.0%}); the analyst has the reasons"
                        for table, c in load["tables"].items()
                        if c["read"] and c["rejected"] / c["read"] > REJECT_WARNING_SHARE]


def _cohort_view(out: dict, v: _View) -> int:
    """Participants submitted, analysed and excluded (analysed + excluded = submitted);
    returns the rounded number analysed."""
    cohort = out["cohort"]
    analysed = v.count("analysed", cohort["participants"])
    excluded = {reason: v.count(f"excluded/{reason}", n) for reason, n in cohort["excluded"].items()}
    cohort.update(participants=analysed, excluded=excluded, submitted=analysed + sum(excluded.values()))
    link = cohort.get("linkage")
    if link:  # the council's list: identified + not identified = listed, as for the cohort
        identified = v.count("linkage/identified", link["identified"])
        missed = {reason: v.count(f"linkage/not_identified/{reason}", n) for reason, n in link["not_identified"].items()}
        link.update(identified=identified, not_identified=missed, listed=identified + sum(missed.values()),
                    identified_people=v.count("linkage/identified_people", link["identified_people"]),
                    duplicates=v.count("linkage/duplicates", link["duplicates"]))
    small = cohort["participants"] < MIN_PARTNER_MATCHED
    cohort["index_dates"] = [_month(d, year_only=small) for d in cohort.get("index_dates") or []]
    cohort["data_cutoff"] = _month(cohort.get("data_cutoff"), year_only=False)
    pool = cohort.get("comparison_pool") or {}
    pool.pop("excluded_units", None)
    for key in ("candidate_units", "candidate_people"):
        if key in pool:
            pool[key] = v.count(f"pool/{key}", pool[key])
    return analysed


def _change(before, after):
    return None if before in (None, 0) or after is None else 100.0 * (after - before) / before


def _before_after_view(out: dict, v: _View, n: int) -> None:
    from evaluation.load.contract import OFFENCE_GROUPS

    ba = out["before_after"]
    ba["participants"] = n
    categories = {}
    for row in ba["by_category"]:
        for key in ("offences_before", "offences_after", "people_with_offence_before", "people_with_offence_after"):
            if key in row:
                row[key] = v.count(f"category/{row['category']}/{key}", row[key])
        row["percent_change"] = _change(row["offences_before"], row["offences_after"])
        categories[row["category"]] = row
    for row in ba["by_group"]:  # a group's offences are the sum of its categories'
        members = [categories[c] for c in OFFENCE_GROUPS.get(row["group"], ()) if c in categories]
        for key in ("offences_before", "offences_after"):
            row[key] = sum(m[key] for m in members) if members else v.count(f"group/{row['group']}/{key}", row[key])
        for key in ("people_with_offence_before", "people_with_offence_after"):
            if key in row:
                row[key] = v.count(f"group/{row['group']}/{key}", row[key])
        row["percent_change"] = _change(row["offences_before"], row["offences_after"])
    for key in ("offences_before", "offences_after"):  # the totals are the sums of the categories shown
        ba[key] = sum(row[key] for row in ba["by_category"]) if ba["by_category"] else v.count(f"total/{key}", ba[key])
    for when in ("before", "after"):
        people = v.count(f"total/people_with_offence_{when}", ba[f"people_with_offence_{when}"])
        ba[f"people_with_offence_{when}"] = people
        ba[f"offences_per_person_{when}"] = ratio(ba[f"offences_{when}"], n)
        ba[f"share_with_offence_{when}"] = ratio(people, n)
        if f"days_at_risk_{when}" in ba:  # to base x 365 days: a person-year more or less is one person's
            days = v.count(f"total/days_at_risk_{when}", ba[f"days_at_risk_{when}"], base=365 * v.base)
            ba[f"days_at_risk_{when}"] = days
            rate = ratio(ba[f"offences_{when}"], days)
            ba[f"rate_per_365_days_at_risk_{when}"] = None if rate is None else 365 * rate
    ba["percent_change"] = _change(ba["offences_before"], ba["offences_after"])
    # The before/after rate ratio is exactly a ratio of counts and days at risk, and the
    # interval, the bootstrap interval of the change and the two tests are functions of the
    # same few counts: shown from the exact data, a small cohort's offences could be solved
    # for. Partners get the ratio of the rounded rates and no exact-data inference (the
    # before/after comparison is level 1 evidence; the analyst's report has the intervals).
    rate = {when: ratio(ba[f"offences_{when}"], ba.get(f"days_at_risk_{when}")) for when in ("before", "after")}
    ba["rate_ratio"] = None if not ba.get("rate_ratio") else {
        "estimate": ratio(rate["after"], rate["before"]), "ci95": None, "p_value": None,
        "method": "ratio of the rounded offences per rounded day at risk (no interval in the partner view)"}
    ba["percent_change_ci95"] = ba["wilcoxon"] = ba["mcnemar"] = None
    for row in ba["by_programme"]:
        name = row["programme"]
        for key in ("people", "offences_before", "offences_after", "people_with_offence_before",
                    "people_with_offence_after"):
            if key in row:
                row[key] = v.count(f"programme/{name}/{key}", row[key])
        row["percent_change"] = _change(row["offences_before"], row["offences_after"])
    ba["high_risk"] = {k: v.count(f"high_risk/{k}", x) if k in ("people", "offences_before", "offences_after",
                                                                "not_reoffended") else x
                       for k, x in ba["high_risk"].items()}


def _arm_counts(m: dict, v: _View, n_exact: int, n: int) -> None:
    """The matched arms' rates and frequencies, from rounded (weighted) counts: the Justice
    Data Lab weights the comparison group to the participants' number."""
    for arm in ("treated", "comparison"):
        rate, freq = m["reoffending_rate"][arm], m["frequency"][arm]
        change = m["difference_in_differences"][arm]
        reoffenders = v.count(f"matched/{arm}/reoffenders", rate * n_exact)
        after = v.count(f"matched/{arm}/offences_after", freq * n_exact)
        before = v.count(f"matched/{arm}/offences_before", (freq - change) * n_exact)
        m["reoffending_rate"][arm] = ratio(reoffenders, n)
        m["frequency"][arm] = ratio(after, n)
        m["difference_in_differences"][arm] = ratio(after - before, n)
        m[f"{arm}_percent_change"] = _change(before, after)
    for measure in ("reoffending_rate", "frequency", "difference_in_differences"):
        block = m[measure]
        t, c = block["treated"], block["comparison"]
        block["difference"] = None if t is None or c is None else t - c
        block["ci95"] = _interval(block.get("ci95"))
        block["p_value"] = p_value(block.get("p_value"))


def _matched_view(out: dict, v: _View, analysed: int) -> int:
    """The matched comparison; returns the rounded number of matched participants."""
    m = out["matched"]
    c = m["matching"]["counts"]
    n_exact = c["matched"]
    not_matched = {k: v.count(f"matching/{k}", c[k]) for k in ("no_match_within_caliper", "outside_common_support")}
    n = max(analysed - sum(not_matched.values()), 0)  # the matched are the analysed less those not matched
    c.update(treated=analysed, matched=n, **not_matched)
    c["comparison_units"] = v.count("matching/comparison_units", c["comparison_units"])
    c["comparison_rows"] = v.count("matching/comparison_rows", c["comparison_rows"])
    m["treated"], m["comparison"] = n, c["comparison_units"]
    m["contaminated_comparisons"] = v.count("matching/contaminated", m["contaminated_comparisons"])
    _arm_counts(m, v, n_exact, n)
    m["rate_ratio"] = _test(m["rate_ratio"])
    if m.get("uncorrected"):  # partners see the uncorrected comparison's rate ratio only
        m["uncorrected"] = {k: (_test(x) if k == "rate_ratio" else x) for k, x in m["uncorrected"].items()
                            if k in ("estimand", "rate_ratio")}
    if m.get("ipcw"):
        m["ipcw"]["rate_ratio"] = _test(m["ipcw"].get("rate_ratio"))
    if m.get("censoring"):
        for key in ("comparisons_censored", "truncated_person_intervals", "coefficients", "note"):
            m["censoring"].pop(key, None)
    t = m["time_to_first_reoffence"]
    t.pop("curves", None)  # survival steps fall at single people's reoffences
    t["reoffenders_treated"] = v.count("matched/treated/reoffenders_first", t["reoffenders_treated"])
    for key in ("logrank", "hazard_ratio"):
        if key in t:
            t[key] = _test(t[key])
    m["matching"].pop("propensity_model", None)  # coefficients are not for partners
    m["matching"].pop("propensity_overlap", None)  # people per narrow band of the score: not for partners
    return n


def _balance_view(out: dict, v: _View, exact: dict, analysed: int, n: int) -> None:
    """Means of 0/1 and count covariates from rounded counts; other means to one decimal;
    standardised differences to two decimals for cohorts of at least MIN_PARTNER_SMD."""
    m = out["matched"]
    balance = m["matching"]["balance"]
    pool = out["cohort"].get("comparison_pool", {}).get("candidate_units")
    sizes = {"treated_before": (exact["cohort"]["participants"], analysed),
             "treated_after": (exact["matched"]["matching"]["counts"]["matched"], n),
             "comparison_after": (exact["matched"]["matching"]["counts"]["matched"], n)}
    if pool:
        sizes["comparison_before"] = (exact["cohort"]["comparison_pool"]["candidate_units"], pool)
    show_smd = analysed >= MIN_PARTNER_SMD
    for row in balance["covariates"]:
        name = row["covariate"]
        for side, (size_exact, size) in sizes.items():
            mean = row.get(f"mean_{side}")
            if mean is None:
                continue
            if row.get("binary") or name in COUNT_COVARIATES:
                row[f"mean_{side}"] = ratio(v.count(f"balance/{name}/{side}", mean * size_exact), size)
            else:
                row[f"mean_{side}"] = round(mean, 1)
        for key in ("smd_before", "smd_after"):
            row[key] = round(row[key], 2) if show_smd and row.get(key) is not None else None
        for key in ("variance_ratio_before", "variance_ratio_after", "ecdf_max_before", "ecdf_max_after",
                    "ecdf_mean_before", "ecdf_mean_after"):
            if key in row:
                row[key] = None  # functions of the same counts at full precision
    for holder in (balance, m["balance"]):
        for key in ("max_abs_smd_before", "max_abs_smd_after"):
            holder[key] = round(holder[key], 2) if show_smd and holder.get(key) is not None else None
    if not show_smd:  # the sign of a withheld difference is withheld too: a poor-balance warning names no direction
        from evaluation.match.balance import without_directions

        m["warnings"] = [without_directions(w) for w in m.get("warnings") or []]
        if m["balance"].get("imbalance"):
            m["balance"]["imbalance"] = without_directions(m["balance"]["imbalance"])


def _costs_view(costs: dict, v: _View, n: int, per_person: float | None) -> None:
    """Offences avoided by category rounded like counts (a difference may be negative); the
    totals, the savings, the net benefit and the ratio are worked out from them, so the
    table by category adds up to the headline. Their intervals are coarsened."""
    costs["participants"] = n
    avoided = costs.get("offences_avoided_by_category") or {}
    for category, value in avoided.items():
        avoided[category] = v.count(f"costs/avoided/{category}", value)
    unit = (costs.get("unit_costs") or {}).get("per_offence") or {}
    for category, pounds in unit.items():  # as the final pass would show them, so that the table adds up
        unit[category] = significant(pounds, 4)
    if isinstance(costs.get("offences_avoided"), dict):
        costs["offences_avoided"] = {**costs["offences_avoided"], "estimate": sum(avoided.values()),
                                     "ci95": _interval(costs["offences_avoided"].get("ci95"), 2)}
    if "uncosted_offences_avoided" in costs:
        costs["uncosted_offences_avoided"] = sum(x for c, x in avoided.items() if c not in unit)
    # whole pounds (an int passes the final pass as it is: these are sums of shown numbers)
    savings = round(sum(x * unit[c] for c, x in avoided.items() if c in unit))
    if costs.get("programme_cost") is not None:
        cost = per_person * n if per_person is not None else significant(costs["programme_cost"], 2)
        costs["programme_cost"] = round(cost)
    programme = costs.get("programme_cost")
    estimates = {"savings": savings, "net_benefit": None if programme is None else savings - programme,
                 "benefit_cost_ratio": ratio(savings, programme)}
    for key, estimate in estimates.items():
        if isinstance(costs.get(key), dict):
            costs[key] = {**costs[key], "estimate": estimate, "ci95": _interval(costs[key].get("ci95"), 2)}


def _checks_view(out: dict, v: _View, n: int) -> None:
    costs = out.get("costs")
    if costs:
        _costs_view(costs, v, n, (out.get("study") or {}).get("programme_cost_per_participant"))
    for i, row in enumerate(out.get("sensitivity") or []):
        if isinstance(row.get("matched"), int):
            row["matched"] = v.count(f"sensitivity/{i}/matched", row["matched"])
        row.update({k: x for k, x in _test(row).items() if k in ("estimate", "ci95", "p_value")})
        if "max_abs_smd_after" in row and row["max_abs_smd_after"] is not None:
            row["max_abs_smd_after"] = round(row["max_abs_smd_after"], 2)
    check = out.get("falsification")
    if check:
        check.pop("units_without_control_window", None)  # counts comparisons too: not for partners
        if isinstance(check.get("matched"), int):
            check["matched"] = v.count("falsification/matched", check["matched"])
        check.update({k: x for k, x in _test(check).items() if k in ("estimate", "ci95", "p_value")})
        if check.get("max_abs_smd_after") is not None:
            check["max_abs_smd_after"] = round(check["max_abs_smd_after"], 2)
    bounds = out.get("hidden_bias")
    if bounds and "pairs_with_a_difference" in bounds:
        bounds["pairs"] = n
        bounds["pairs_with_a_difference"] = v.count("hidden_bias/differing", bounds["pairs_with_a_difference"])
        bounds["p_value_no_hidden_bias"] = p_value(bounds.get("p_value_no_hidden_bias"))
    for row in out.get("subgroups") or []:
        row["participants"] = v.count(f"subgroup/{row['dimension']}/{row['group']}", row["participants"])
        if row["participants"] < 2 * v.base:  # an estimate for a handful of people could say too much about them
            row.update(estimate=None, ci95=None, p_value=None, p_value_holm=None, note="suppressed: a small group")
        else:
            row.update({k: x for k, x in _test(row).items() if k in ("estimate", "ci95", "p_value", "p_value_holm")})


# --- the final pass --------------------------------------------------------------------------------

#: Parts of results that hold settings, labels and method text, not data: left as they are.
_NOT_DATA = frozenset({"study", "suppression", "schema_version", "evidence", "withheld"})


def _coarsen_the_rest(value, v: _View, path: str = ""):
    """Any count under a count key not already a multiple of the base is rounded, and any
    other number coarsened to four significant figures: what a new result adds is never
    shown at full precision, however it was missed above."""
    if isinstance(value, dict):
        return {k: (x if (not path and k in _NOT_DATA) else _coarsen_key(k, x, v, f"{path}/{k}"))
                for k, x in value.items()}
    if isinstance(value, list):
        return [_coarsen_the_rest(x, v, f"{path}/{i}") for i, x in enumerate(value)]
    return value


def _coarsen_key(key: str, value, v: _View, path: str):
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and key in COUNT_KEYS:
        return value if value % v.base == 0 else v.count(f"final{path}", value)
    if isinstance(value, float):
        return significant(value, 4) if math.isfinite(value) else None
    return _coarsen_the_rest(value, v, path)


def partner_results(results: dict, threshold: int, *, key: bytes | None = None) -> tuple[dict, KeyedRounding]:
    """A copy of ``results`` fit for partners (see the module's rules), and the rounding
    that made it (``.rounded``: every rounded cell)."""
    from evaluation.pipeline.assemble import MATCHED_ONLY
    from evaluation.report.evidence import rate_evidence

    key = disclosure_key() if key is None else key
    v = _View(results, threshold, key)
    out = copy.deepcopy(results)
    out["audience"] = "partner"
    out["suppression"] = {
        "method": "keyed random rounding",
        "base": threshold,
        "key_id": key_id(key),
        "rule": f"every count is rounded to a multiple of {threshold}, up or down at random (the same way each time "
                f"for the same data); totals are the sums of their rounded parts, and rates, shares and means are "
                f"worked out from the rounded counts",
    }
    out["withheld"] = []
    _load_view(out, v)
    analysed = _cohort_view(out, v)
    _before_after_view(out, v, analysed)
    if out.get("matched"):
        if results["matched"]["matching"]["counts"]["matched"] < MIN_PARTNER_MATCHED:
            out["matched"] = None
            for name in MATCHED_ONLY:
                if name in out:
                    out[name] = None
            out["withheld"].append(
                f"The comparison with similar people, and the checks and costs built on it, are withheld from "
                f"partners: fewer than {MIN_PARTNER_MATCHED} participants were matched, too few to show a "
                "comparison without saying something about individuals. To show it, evaluate more participants "
                "together (several programmes, or a longer period of starts), or widen the caliper if many "
                "participants found no close comparison.")
        else:
            n = _matched_view(out, v, analysed)
            _balance_view(out, v, results, analysed, n)
            _checks_view(out, v, n)
    # the rating describes what this view shows (a withheld comparison: before/after only)
    out["evidence"] = rate_evidence(results if out.get("matched") else out).to_dict()
    if out.get("matched") and analysed < MIN_PARTNER_SMD:  # made from the exact results: no withheld difference in it
        from evaluation.match.balance import without_directions

        out["evidence"]["reasons"] = [re.sub(r"largest \|SMD\| [0-9.]+, below 0\.1", "every |SMD| below 0.1",
                                             without_directions(reason)) for reason in out["evidence"]["reasons"]]
    return _coarsen_the_rest(out, v), v.r
