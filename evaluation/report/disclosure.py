"""Disclosure control for the partner audience: one pass over the results.

A partner may subtract, multiply and divide every number in every file it receives. The
rules (ONS and GSS guidance on tables from administrative sources; MoJ and Justice Data
Lab practice; see docs/security.md):

- **Primary suppression.** A count of people or offences from 1 to threshold - 1 (default
  threshold 5) is shown as ``<5``.
- **Implied counts are counts.** A rate or share times its group's size, a per-person
  frequency times n, a mean of a 0/1 covariate times n, a mean count covariate times n, a
  total minus its parts, a group minus a subgroup (the complement): each is registered as
  a count and suppressed like one.
- **Secondary suppression.** In every additive group (a total and the parts that make it
  up, within a table or across tables that share a margin) a single hidden part could be
  recovered by subtraction, so the smallest other non-zero part is hidden too (``~``);
  when no other part can be hidden, the total is.
- **Derived statistics follow their counts.** A statistic computed from a hidden count
  (a percentage change, rate, mean, interval, test) is withheld. When any count implied
  by the matched comparison is hidden, the whole impact section is withheld, with the
  checks that re-use it (value for money, sensitivity, falsification, hidden bias, power,
  subgroups), and the report says why.
- **No individual's facts.** Index dates and the data cut-off (which defaults to the
  latest outcome date) are shown to the month, or the year when the cohort itself is
  small; input files' sizes and hashes are left out; survival curves are left out.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

SECONDARY = "~"
WITHHELD = "withheld: would reveal a small count"

#: Keys whose integer values are counts of people or offences (what disclosure control covers).
COUNT_KEYS = frozenset({
    "submitted", "participants", "people", "offences_before", "offences_after",
    "people_with_offence_before", "people_with_offence_after", "not_reoffended", "treated", "comparison",
    "matched", "no_match_within_caliper", "outside_common_support", "comparison_units", "comparison_rows",
    "reoffenders_treated", "contaminated_comparisons", "candidate_units", "candidate_people",
    "pairs", "pairs_with_a_difference", "read", "loaded", "rejected",
})

#: Covariates whose mean times a group size is a number of offences. A binary covariate's
#: mean is a share of people: each balance row says whether it is binary (measured from
#: the data, evaluation/match/balance.py), so a new binary covariate is covered without
#: being listed here.
COUNT_COVARIATES = frozenset({"prior_offences_365", "proven_365", "prior_offences_366_730", "prior_offences_earlier",
                              "prior_person", "prior_property", "prior_drugs"})


@dataclass
class DisclosurePlan:
    """Which facts to hide. Facts are tuples naming a count, e.g. ("by_programme", "OLASS", "people")."""

    threshold: int = 5
    values: dict[tuple, int] = field(default_factory=dict)
    hidden: dict[tuple, str] = field(default_factory=dict)
    groups: list[tuple[tuple, list[tuple]]] = field(default_factory=list)

    @property
    def small(self) -> str:
        return f"<{self.threshold}"

    def add(self, key: tuple, value) -> None:
        """Register a count (an implied count is rounded to the nearest whole number)."""
        value = int(round(value))
        self.values[key] = value
        if 0 < value < self.threshold:
            self.hidden[key] = self.small

    def add_group(self, total: tuple, parts: list[tuple]) -> None:
        """``total`` = the sum of ``parts`` (every one registered with :meth:`add`)."""
        self.groups.append((total, parts))

    def add_split(self, total: tuple, part: tuple, rest: tuple) -> None:
        """Register ``rest`` = total - part, and the group total = part + rest."""
        if total in self.values and part in self.values:
            self.add(rest, self.values[total] - self.values[part])
            self.add_group(total, [part, rest])

    def resolve(self) -> None:
        """Apply secondary suppression until no group leaves a single part recoverable."""
        changed = True
        while changed:
            changed = False
            for total, parts in self.groups:
                hidden_parts = [p for p in parts if p in self.hidden]
                if len(hidden_parts) != 1 or total in self.hidden:
                    continue
                candidates = sorted((self.values[p], p) for p in parts if p not in self.hidden and self.values[p] > 0)
                if candidates:
                    self.hidden[candidates[0][1]] = SECONDARY
                else:
                    self.hidden[total] = SECONDARY
                changed = True

    def show(self, key: tuple, value):
        return self.hidden.get(key, value)

    def is_hidden(self, *keys: tuple) -> bool:
        return any(k in self.hidden for k in keys)


# --- the counts in results, and how they add up ---------------------------------------------

def _add_load(plan: DisclosurePlan, results: dict) -> None:
    for table, c in (results.get("load") or {}).get("tables", {}).items():
        for key in ("read", "loaded", "rejected"):
            plan.add(("load", table, key), c[key])
        plan.add_group(("load", table, "read"), [("load", table, "loaded"), ("load", table, "rejected")])
    if ("load", "participants", "loaded") in plan.values:
        # participant rows loaded - people submitted = rows of other programmes or repeat starts
        plan.add_split(("load", "participants", "loaded"), ("submitted",), ("load", "participants", "other_rows"))


def _add_cohort(plan: DisclosurePlan, results: dict) -> None:
    cohort, ba = results["cohort"], results["before_after"]
    plan.add(("submitted",), cohort["submitted"])
    plan.add(("analysed",), cohort["participants"])
    for reason, n in cohort["excluded"].items():
        plan.add(("excluded", reason), n)
    plan.add_group(("submitted",), [("analysed",), *[("excluded", r) for r in cohort["excluded"]]])
    for key in ("offences_before", "offences_after", "people_with_offence_before", "people_with_offence_after"):
        plan.add(("total", key), ba[key])
    for when in ("before", "after"):  # people with no offence: the complement of a share
        plan.add_split(("analysed",), ("total", f"people_with_offence_{when}"), ("total", f"people_without_offence_{when}"))
    tables = (("by_group", "group"), ("by_category", "category"), ("by_programme", "programme"))
    for table, label in tables:
        for row in ba[table]:
            for key in ("people", "offences_before", "offences_after", "people_with_offence_before",
                        "people_with_offence_after"):
                if key in row:
                    plan.add((table, row[label], key), row[key])
            if table == "by_programme":
                for when in ("before", "after"):
                    plan.add_split((table, row[label], "people"), (table, row[label], f"people_with_offence_{when}"),
                                   (table, row[label], f"people_without_offence_{when}"))
        additive = ["offences_before", "offences_after"] + (
            ["people", "people_with_offence_before", "people_with_offence_after"] if table == "by_programme" else [])
        for key in additive:
            total = ("analysed",) if key == "people" else ("total", key)
            plan.add_group(total, [(table, row[label], key) for row in ba[table]])
    # a group's offences are the sum of its categories' (robbery = against the person - the rest)
    from evaluation.load.contract import OFFENCE_GROUPS

    categories = {row["category"] for row in ba["by_category"]}
    for row in ba["by_group"]:
        members = [c for c in OFFENCE_GROUPS.get(row["group"], ()) if c in categories]
        for key in ("offences_before", "offences_after"):
            if members:
                plan.add_group(("by_group", row["group"], key), [("by_category", c, key) for c in members])
    hr = ba["high_risk"]
    for key in ("people", "offences_before", "offences_after", "not_reoffended"):
        plan.add(("high_risk", key), hr[key])
    plan.add_split(("high_risk", "people"), ("high_risk", "not_reoffended"), ("high_risk", "reoffended"))
    plan.add_split(("analysed",), ("high_risk", "people"), ("low_risk", "people"))
    for key in ("offences_before", "offences_after"):
        plan.add_split(("total", key), ("high_risk", key), ("low_risk", key))


def _matched_n(m: dict) -> int:
    return m["matching"]["counts"]["matched"]


def _add_matched(plan: DisclosurePlan, results: dict) -> list[tuple]:
    """Counts of the matched comparison; returns the facts its outcome statistics imply."""
    m = results["matched"]
    counts = m["matching"]["counts"]
    n = counts["matched"]
    plan.add(("matched",), n)
    plan.add(("unmatched_caliper",), counts["no_match_within_caliper"])
    plan.add(("unmatched_support",), counts["outside_common_support"])
    plan.add_group(("analysed",), [("matched",), ("unmatched_caliper",), ("unmatched_support",)])
    plan.add(("comparison",), m["comparison"])
    plan.add(("contaminated",), m["contaminated_comparisons"])
    plan.add_split(("comparison",), ("contaminated",), ("uncontaminated",))
    implied = [("matched",), ("comparison",)]
    # rates and frequencies times n (JDL weights the comparison group to the treated count)
    for arm in ("treated", "comparison"):
        rate = m["reoffending_rate"][arm]
        freq = m["frequency"][arm]
        change = m["difference_in_differences"][arm]
        plan.add(("matched", arm, "reoffenders"), rate * n)
        plan.add(("matched", arm, "not_reoffended"), (1 - rate) * n)
        plan.add(("matched", arm, "offences_after"), freq * n)
        plan.add(("matched", arm, "offences_before"), (freq - change) * n)
        implied += [("matched", arm, k) for k in ("reoffenders", "not_reoffended", "offences_after", "offences_before")]
    plan.add(("reoffenders_treated",), m["time_to_first_reoffence"]["reoffenders_treated"])
    implied.append(("reoffenders_treated",))
    # the matched participants are a subset of those analysed: the rest is a count too
    for key in ("offences_before", "offences_after"):
        plan.add_split(("total", key), ("matched", "treated", key), ("unmatched", key))
        implied.append(("unmatched", key))
    plan.add_split(("total", "people_with_offence_after"), ("matched", "treated", "reoffenders"),
                   ("unmatched", "reoffenders"))
    implied.append(("unmatched", "reoffenders"))
    return implied


def _add_balance(plan: DisclosurePlan, results: dict) -> dict[str, list[tuple]]:
    """Counts that each balance row's means imply, by covariate."""
    m = results["matched"]
    sizes = {"treated_before": results["cohort"]["participants"], "treated_after": _matched_n(m),
             "comparison_after": _matched_n(m)}
    implied: dict[str, list[tuple]] = {}
    for row in m["matching"]["balance"]["covariates"]:
        name = row["covariate"]
        facts = []
        for side, size in sizes.items():
            mean = row.get(f"mean_{side}")
            if mean is None:
                continue
            if row.get("binary"):
                plan.add(("balance", name, side, "yes"), mean * size)
                plan.add(("balance", name, side, "no"), (1 - mean) * size)
                facts += [("balance", name, side, "yes"), ("balance", name, side, "no")]
            elif name in COUNT_COVARIATES:
                plan.add(("balance", name, side, "total"), mean * size)
                facts.append(("balance", name, side, "total"))
        implied[name] = facts
    return implied


def _add_checks(plan: DisclosurePlan, results: dict) -> None:
    for i, row in enumerate(results.get("sensitivity") or []):
        if isinstance(row.get("matched"), int):
            plan.add(("sensitivity", i), row["matched"])
            plan.add_split(("analysed",), ("sensitivity", i), ("sensitivity", i, "unmatched"))
    check = results.get("falsification") or {}
    if isinstance(check.get("matched"), int) and check["matched"] <= plan.values[("analysed",)]:
        plan.add(("falsification", "matched"), check["matched"])
        plan.add_split(("analysed",), ("falsification", "matched"), ("falsification", "unmatched"))
    bounds = results.get("rosenbaum_gamma") or {}
    if isinstance(bounds.get("pairs_with_a_difference"), int):
        plan.add(("rosenbaum", "pairs"), bounds["pairs"])
        plan.add(("rosenbaum", "differing"), bounds["pairs_with_a_difference"])
        plan.add_split(("rosenbaum", "pairs"), ("rosenbaum", "differing"), ("rosenbaum", "same"))
    dimensions: dict[str, list[tuple]] = {}
    for row in results.get("subgroups") or []:
        key = ("subgroup", row["dimension"], row["group"])
        plan.add(key, row["participants"])
        dimensions.setdefault(row["dimension"], []).append(key)
    for dimension, parts in dimensions.items():
        # groups too small to estimate may be missing: the matched total minus those listed is a count too
        rest = plan.values[("matched",)] - sum(plan.values[p] for p in parts)
        if rest:
            plan.add(("subgroup", dimension, "(rest)"), rest)
            parts = [*parts, ("subgroup", dimension, "(rest)")]
        plan.add_group(("matched",), parts)


def plan_for(results: dict, threshold: int) -> tuple[DisclosurePlan, list[tuple], dict[str, list[tuple]]]:
    """Every count in results (stated or implied) and how they add up, resolved."""
    plan = DisclosurePlan(threshold)
    _add_cohort(plan, results)
    _add_load(plan, results)
    matched_facts: list[tuple] = []
    balance_facts: dict[str, list[tuple]] = {}
    if results.get("matched"):
        matched_facts = _add_matched(plan, results)
        balance_facts = _add_balance(plan, results)
        _add_checks(plan, results)
    plan.resolve()
    return plan, matched_facts, balance_facts


# --- the partner view --------------------------------------------------------------------------

def _month(date_text: str | None, *, year_only: bool) -> str | None:
    if not date_text:
        return date_text
    return date_text[:4] if year_only else date_text[:7]


def _hide_row(row: dict, plan: DisclosurePlan, table: str, label: str) -> dict:
    out = dict(row)
    name = row[label]
    for key in list(row):
        if (table, name, key) in plan.values:
            out[key] = plan.show((table, name, key), row[key])
    if plan.is_hidden((table, name, "offences_before"), (table, name, "offences_after")):
        out["percent_change"] = SECONDARY
    return out


_BEFORE_AFTER_STATISTICS = (
    "percent_change_ci95", "offences_per_person_before", "offences_per_person_after", "share_with_offence_before",
    "share_with_offence_after", "days_at_risk_before", "days_at_risk_after", "rate_per_365_days_at_risk_before",
    "rate_per_365_days_at_risk_after", "rate_ratio", "wilcoxon", "mcnemar",
)


def _before_after_view(out: dict, plan: DisclosurePlan) -> None:
    ba = out["before_after"]
    ba["participants"] = out["cohort"]["participants"]
    for key in ("offences_before", "offences_after", "people_with_offence_before", "people_with_offence_after"):
        ba[key] = plan.show(("total", key), ba[key])
    if plan.is_hidden(("total", "offences_before"), ("total", "offences_after")):
        ba["percent_change"] = SECONDARY
    base = [("analysed",), *[("total", k) for k in ("offences_before", "offences_after", "people_with_offence_before",
                                                    "people_with_offence_after", "people_without_offence_before",
                                                    "people_without_offence_after")]]
    if plan.is_hidden(*base):
        for key in _BEFORE_AFTER_STATISTICS:
            if key in ba:
                ba[key] = None
    for table, label in (("by_group", "group"), ("by_category", "category"), ("by_programme", "programme")):
        ba[table] = [_hide_row(row, plan, table, label) for row in ba[table]]
    ba["high_risk"] = {k: plan.show(("high_risk", k), v) for k, v in ba["high_risk"].items()}


def _balance_view(m: dict, plan: DisclosurePlan, balance_facts: dict[str, list[tuple]]) -> None:
    balance = m["matching"]["balance"]
    m["matching"].pop("propensity_model", None)  # coefficients are not for partners
    m["matching"].pop("propensity_overlap", None)  # people per narrow band of the score: not for partners
    any_hidden = False
    for row in balance["covariates"]:
        if plan.is_hidden(*balance_facts.get(row["covariate"], [])):
            any_hidden = True
            for key, value in list(row.items()):
                if isinstance(value, float) or (value is None and key not in ("covariate", "binary")):
                    row[key] = None
            row["note"] = WITHHELD
    if any_hidden:
        balance["max_abs_smd_before"] = balance["max_abs_smd_after"] = None
        m["balance"]["max_abs_smd_before"] = m["balance"]["max_abs_smd_after"] = None


def _matched_view(out: dict, plan: DisclosurePlan) -> None:
    m = out["matched"]
    c = m["matching"]["counts"]
    c["treated"] = out["cohort"]["participants"]
    c["matched"] = plan.show(("matched",), c["matched"])
    c["no_match_within_caliper"] = plan.show(("unmatched_caliper",), c["no_match_within_caliper"])
    c["outside_common_support"] = plan.show(("unmatched_support",), c["outside_common_support"])
    c["comparison_units"] = plan.show(("comparison",), c["comparison_units"])
    c["comparison_rows"] = SECONDARY if plan.is_hidden(("comparison",)) else c["comparison_rows"]
    m["treated"] = c["matched"]
    m["comparison"] = c["comparison_units"]
    m["contaminated_comparisons"] = plan.show(("contaminated",), m["contaminated_comparisons"])
    # the uncorrected comparison's rates times n are unweighted comparison counts the plan
    # does not register: partners see its rate ratio only; the censoring model's row counts go
    if m.get("uncorrected"):
        m["uncorrected"] = {k: v for k, v in m["uncorrected"].items() if k in ("estimand", "rate_ratio")}
    if m.get("censoring"):
        for key in ("comparisons_censored", "truncated_person_intervals"):
            m["censoring"].pop(key, None)
    t = m["time_to_first_reoffence"]
    t.pop("curves", None)  # survival steps fall at single people's reoffences
    t["reoffenders_treated"] = plan.show(("reoffenders_treated",), t["reoffenders_treated"])


def _checks_view(out: dict, plan: DisclosurePlan) -> None:
    m = out["matched"]
    if out.get("costs"):
        costs = out["costs"]
        costs["participants"] = m["treated"]
        if plan.is_hidden(("matched",)) and costs.get("programme_cost") is not None:
            costs.update(programme_cost=None, net_benefit=None, benefit_cost_ratio=None)
            costs["notes"] = [*costs["notes"], "programme cost suppressed: it would reveal a small count"]
    for i, row in enumerate(out.get("sensitivity") or []):
        if ("sensitivity", i) in plan.values:
            row["matched"] = plan.show(("sensitivity", i), row["matched"])
            if plan.is_hidden(("sensitivity", i), ("sensitivity", i, "unmatched")):
                row.update(estimate=None, ci95=None, p_value=None, max_abs_smd_after=None, note=WITHHELD)
    check = out.get("falsification") or {}
    check.pop("units_without_control_window", None)  # counts comparisons too: not for partners
    if isinstance(check.get("matched"), int):
        check["matched"] = plan.show(("falsification", "matched"), check["matched"])
    if plan.is_hidden(("falsification", "matched"), ("falsification", "unmatched")):
        out["falsification"] = {"note": "The falsification test is withheld: its counts would reveal a small group.",
                                "estimate": None}
    bounds = out.get("rosenbaum_gamma") or {}
    if "pairs_with_a_difference" in bounds:
        bounds["pairs_with_a_difference"] = plan.show(("rosenbaum", "differing"), bounds["pairs_with_a_difference"])
        bounds["pairs"] = m["treated"]
    for row in out.get("subgroups") or []:
        key = ("subgroup", row["dimension"], row["group"])
        row["participants"] = plan.show(key, row["participants"])
        if plan.is_hidden(key):  # an estimate for a handful of people could say too much about them
            row.update(estimate=None, ci95=None, p_value=None, p_value_holm=None, note="suppressed: a small group")


#: What is withheld with the impact section (each re-uses the matched comparison).
IMPACT_DEPENDENT = ("costs", "sensitivity", "falsification", "rosenbaum_gamma", "e_value", "power", "subgroups")


def partner_results(results: dict, threshold: int) -> tuple[dict, DisclosurePlan]:
    """A copy of results fit for partners (see the module's rules)."""
    plan, matched_facts, balance_facts = plan_for(results, threshold)
    out = copy.deepcopy(results)
    out["audience"] = "partner"
    out["suppression"] = {
        "threshold": threshold,
        "small": plan.small,
        "secondary": SECONDARY,
        "rule": f"counts from 1 to {threshold - 1} are shown as {plan.small}; where a hidden count could be "
                f"recovered from a total, a difference, a rate or a mean, another number is hidden too "
                f"({SECONDARY}) or withheld",
    }
    out["withheld"] = []
    load = out.get("load")
    if load:
        for table, c in load["tables"].items():
            load["tables"][table] = {k: plan.show(("load", table, k), v) for k, v in c.items()}
        load["data_cutoff"] = _month(load.get("data_cutoff"), year_only=False)
    cohort = out["cohort"]
    small_cohort = plan.is_hidden(("analysed",))
    cohort["submitted"] = plan.show(("submitted",), cohort["submitted"])
    cohort["participants"] = plan.show(("analysed",), cohort["participants"])
    cohort["excluded"] = {r: plan.show(("excluded", r), n) for r, n in cohort["excluded"].items()}
    cohort["index_dates"] = [_month(d, year_only=small_cohort) for d in cohort.get("index_dates") or []]
    cohort["data_cutoff"] = _month(cohort.get("data_cutoff"), year_only=False)
    cohort.get("comparison_pool", {}).pop("excluded_units", None)
    _before_after_view(out, plan)
    if out.get("matched"):
        if plan.is_hidden(*matched_facts):
            out["matched"] = None
            for key in IMPACT_DEPENDENT:
                if key in out:
                    out[key] = None
            out["withheld"].append(
                "The comparison with similar people, and the checks and costs built on it, are withheld: one of "
                f"their counts is under {plan.threshold} (a small group, or the few participants with no close "
                "comparison), and their other numbers would reveal it. The analyst's report has them.")
            if out.get("evidence"):  # its reasons cite the withheld comparison's balance and checks
                out["evidence"]["reasons"] = [
                    "rated on the comparison with similar people, which is withheld from this view (above); the "
                    "analyst's report gives the reasons"]
        else:
            _matched_view(out, plan)
            _balance_view(out["matched"], plan, balance_facts)
            _checks_view(out, plan)
    return out, plan
