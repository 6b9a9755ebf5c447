"""Disclosure control for the partner audience: aggregates only, small cells suppressed.

- **Primary suppression**: a count of people or offences from 1 to threshold - 1 (default
  threshold 5) is shown as ``<5``.
- **Secondary suppression**: in every additive group (a total and the parts that sum to
  it: submitted = analysed + each exclusion; analysed = matched + unmatched; the
  cohort's offences = the sum over programmes, groups or categories) a single hidden part
  could be recovered by subtraction, so the smallest other non-zero part is hidden too
  (shown as ``~``); when no other part can be hidden, the total is.
- A percent change, share or difference computed from a hidden count is hidden as well.

Each count is a named fact, so a value hidden in one table is hidden wherever it appears.
"""

from __future__ import annotations

import copy

SECONDARY = "~"

#: Keys whose integer values are counts of people or offences (what disclosure control covers).
COUNT_KEYS = frozenset({
    "submitted", "participants", "people", "offences_before", "offences_after",
    "people_with_offence_before", "people_with_offence_after", "not_reoffended", "treated", "comparison",
    "matched", "no_match_within_caliper", "outside_common_support", "comparison_units", "comparison_rows",
    "reoffenders_treated", "contaminated_comparisons", "candidate_units", "candidate_people",
    "pairs", "pairs_with_a_difference",
})


class DisclosurePlan:
    """Which facts to hide. Facts are tuples naming a count, e.g. ("programme", "OLASS", "people")."""

    def __init__(self, threshold: int = 5) -> None:
        self.threshold = threshold
        self.values: dict[tuple, int] = {}
        self.hidden: dict[tuple, str] = {}
        self.groups: list[tuple[tuple, list[tuple]]] = []

    @property
    def small(self) -> str:
        return f"<{self.threshold}"

    def add(self, key: tuple, value: int) -> None:
        self.values[key] = int(value)
        if 0 < value < self.threshold:
            self.hidden[key] = self.small

    def add_group(self, total: tuple, parts: list[tuple]) -> None:
        self.groups.append((total, parts))

    def resolve(self) -> None:
        """Apply secondary suppression until no group leaves a single part recoverable."""
        changed = True
        while changed:
            changed = False
            for total, parts in self.groups:
                hidden_parts = [p for p in parts if p in self.hidden]
                total_known = total not in self.hidden
                if len(hidden_parts) != 1 or not total_known:
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


def plan_for(results: dict, threshold: int) -> DisclosurePlan:
    """Every count in results, and how they add up."""
    plan = DisclosurePlan(threshold)
    cohort, ba = results["cohort"], results["before_after"]
    plan.add(("submitted",), cohort["submitted"])
    plan.add(("analysed",), cohort["participants"])
    for reason, n in cohort["excluded"].items():
        plan.add(("excluded", reason), n)
    plan.add_group(("submitted",), [("analysed",), *[("excluded", r) for r in cohort["excluded"]]])
    for key in ("offences_before", "offences_after", "people_with_offence_before", "people_with_offence_after"):
        plan.add(("total", key), ba[key])
    for table, label in (("by_group", "group"), ("by_category", "category"), ("by_programme", "programme")):
        for row in ba[table]:
            for key in ("people", "offences_before", "offences_after", "people_with_offence_before",
                        "people_with_offence_after"):
                if key in row:
                    plan.add((table, row[label], key), row[key])
        additive = ["offences_before", "offences_after"] + (
            ["people", "people_with_offence_before", "people_with_offence_after"] if table == "by_programme" else [])
        for key in additive:
            total = ("analysed",) if key == "people" else ("total", key)
            plan.add_group(total, [(table, row[label], key) for row in ba[table]])
    hr = ba["high_risk"]
    for key in ("people", "offences_before", "offences_after", "not_reoffended"):
        plan.add(("high_risk", key), hr[key])
    plan.add_group(("high_risk", "people"), [("high_risk", "not_reoffended"), ("high_risk", "reoffended")])
    plan.add(("high_risk", "reoffended"), hr["people"] - hr["not_reoffended"])
    m = results.get("matched")
    if m:
        counts = m["matching"]["counts"]
        plan.add(("matched",), counts["matched"])
        plan.add(("unmatched_caliper",), counts["no_match_within_caliper"])
        plan.add(("unmatched_support",), counts["outside_common_support"])
        plan.add_group(("analysed",), [("matched",), ("unmatched_caliper",), ("unmatched_support",)])
        plan.add(("comparison",), m["comparison"])
        plan.add(("contaminated",), m["contaminated_comparisons"])
        plan.add(("reoffenders_treated",), m["time_to_first_reoffence"]["reoffenders_treated"])
    for i, row in enumerate(results.get("sensitivity") or []):
        plan.add(("sensitivity", i), row["matched"])
    placebo = results.get("placebo") or {}
    for key in ("participants", "matched"):
        if isinstance(placebo.get(key), int):
            plan.add(("placebo", key), placebo[key])
    bounds = results.get("rosenbaum_gamma") or {}
    if "pairs_with_a_difference" in bounds:
        plan.add(("rosenbaum", "differing"), bounds["pairs_with_a_difference"])
    dimensions: dict[str, list[tuple]] = {}
    for row in results.get("subgroups") or []:
        key = ("subgroup", row["dimension"], row["group"])
        plan.add(key, row["participants"])
        dimensions.setdefault(row["dimension"], []).append(key)
    if m:
        for parts in dimensions.values():
            plan.add_group(("matched",), parts)
    plan.resolve()
    return plan


def _hide_row(row: dict, plan: DisclosurePlan, table: str, label: str) -> dict:
    out = dict(row)
    name = row[label]
    for key in list(row):
        fact = (table, name, key)
        if fact in plan.values:
            out[key] = plan.show(fact, row[key])
    if plan.is_hidden((table, name, "offences_before"), (table, name, "offences_after")):
        out["percent_change"] = SECONDARY
    return out


def partner_results(results: dict, threshold: int) -> tuple[dict, DisclosurePlan]:
    """A copy of results fit for partners: the load's row counts and any count that could
    single out a few people are removed or suppressed."""
    plan = plan_for(results, threshold)
    out = copy.deepcopy(results)
    out.pop("load", None)
    out["audience"] = "partner"
    out["suppression"] = {
        "threshold": threshold,
        "small": plan.small,
        "secondary": SECONDARY,
        "rule": f"counts from 1 to {threshold - 1} are shown as {plan.small}; where a hidden count could be "
                f"recovered from a total or a difference, another count is hidden too ({SECONDARY})",
    }
    cohort = out["cohort"]
    cohort["submitted"] = plan.show(("submitted",), cohort["submitted"])
    cohort["participants"] = plan.show(("analysed",), cohort["participants"])
    cohort["excluded"] = {r: plan.show(("excluded", r), n) for r, n in cohort["excluded"].items()}
    pool = cohort.get("comparison_pool", {})
    pool.pop("excluded_units", None)
    ba = out["before_after"]
    ba["participants"] = cohort["participants"]
    for key in ("offences_before", "offences_after", "people_with_offence_before", "people_with_offence_after"):
        ba[key] = plan.show(("total", key), ba[key])
    if plan.is_hidden(("total", "offences_before"), ("total", "offences_after")):
        ba["percent_change"] = SECONDARY
    for table, label in (("by_group", "group"), ("by_category", "category"), ("by_programme", "programme")):
        ba[table] = [_hide_row(row, plan, table, label) for row in ba[table]]
    hr = ba["high_risk"]
    ba["high_risk"] = {k: plan.show(("high_risk", k), v) for k, v in hr.items()}
    m = out.get("matched")
    if m:
        c = m["matching"]["counts"]
        c["treated"] = cohort["participants"]
        c["matched"] = plan.show(("matched",), c["matched"])
        c["no_match_within_caliper"] = plan.show(("unmatched_caliper",), c["no_match_within_caliper"])
        c["outside_common_support"] = plan.show(("unmatched_support",), c["outside_common_support"])
        c["comparison_units"] = plan.show(("comparison",), c["comparison_units"])
        c["comparison_rows"] = SECONDARY if plan.is_hidden(("comparison",)) else c["comparison_rows"]
        m["treated"] = c["matched"]
        m["comparison"] = c["comparison_units"]
        m["contaminated_comparisons"] = plan.show(("contaminated",), m["contaminated_comparisons"])
        t = m["time_to_first_reoffence"]
        t["reoffenders_treated"] = plan.show(("reoffenders_treated",), t["reoffenders_treated"])
    if out.get("costs") and m:
        costs = out["costs"]
        costs["participants"] = m["treated"]
        if plan.is_hidden(("matched",)) and costs.get("programme_cost") is not None:
            # the total cost over the cost per participant (in the settings) would give the count
            costs.update(programme_cost=None, net_benefit=None, benefit_cost_ratio=None)
            costs["notes"] = [*costs["notes"], "programme cost suppressed: it would reveal a small count"]
    for i, row in enumerate(out.get("sensitivity") or []):
        row["matched"] = plan.show(("sensitivity", i), row["matched"])
    placebo = out.get("placebo") or {}
    for key in ("participants", "matched"):
        if isinstance(placebo.get(key), int):
            placebo[key] = plan.show(("placebo", key), placebo[key])
    bounds = out.get("rosenbaum_gamma") or {}
    if "pairs_with_a_difference" in bounds:
        bounds["pairs_with_a_difference"] = plan.show(("rosenbaum", "differing"), bounds["pairs_with_a_difference"])
        bounds["pairs"] = m["treated"] if m else bounds["pairs"]
    for row in out.get("subgroups") or []:
        key = ("subgroup", row["dimension"], row["group"])
        row["participants"] = plan.show(key, row["participants"])
        if plan.is_hidden(key):  # an estimate for a handful of people could say too much about them
            row.update(estimate=None, ci95=None, p_value=None, p_value_holm=None, note="suppressed: a small group")
    return out, plan
