"""Evidence summaries: the files an evaluation writes for its audience.

``analyst`` (default): everything. ``partner``: aggregates only, with small counts
suppressed (see evaluation.report.disclosure) and no figures that could show single people.
Every run writes results.json, manifest.json, summary.md, report.html, tables/*.csv and
figures/*.svg; ``write_outputs`` puts them in place atomically.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
import re

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from evaluation.report import charts

from evaluation.report import jdl
from evaluation.cohorts.covariates import COVARIATE_LABELS
from evaluation.report.disclosure import partner_results

_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def markdown_text(value) -> str:
    """A value for summary.md: anything that could open an HTML tag (a markdown viewer would
    render it) is escaped; ``<5`` and other text stay readable."""
    if value is None:
        return ""
    return _TAG_START.sub("&lt;", str(value))


def _autoescape(name: str | None) -> bool:
    """Every HTML template escapes what it prints (``report.html.j2``: the last extension is
    .j2, so select_autoescape(["html"]) alone would not)."""
    return bool(name) and (name.endswith((".html", ".html.j2", ".htm", ".xml")) or select_autoescape(["html"])(name))


_env = Environment(
    loader=PackageLoader("evaluation.report", "templates"),
    autoescape=_autoescape,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_markdown_env = Environment(
    loader=PackageLoader("evaluation.report", "templates"),
    autoescape=False,
    finalize=markdown_text,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _num(value, fmt: str = "{:,}") -> str:
    """A count for display: numbers formatted, suppression markers as they are."""
    if isinstance(value, str):
        return value
    if value is None:
        return "n/a"
    return fmt.format(value)


def _signed_pct(value) -> str:
    if isinstance(value, str):
        return value
    return "n/a" if value is None else f"{value:+.0f}%"


def _fixed(value, digits: int = 2) -> str:
    """A number to ``digits`` places; a withheld value (None) or a marker as it is."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return f"{value:.{digits}f}"


for _e in (_env, _markdown_env):
    _e.filters.update(fixed=_fixed, num=_num, signed_pct=_signed_pct, pct=jdl.pct, freq=jdl.freq, p=jdl.p_value)

#: A spreadsheet treats a cell that starts with one of these as a formula (OWASP, CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A value for a CSV cell: text that a spreadsheet would run as a formula is prefixed
    with ``'`` (OWASP's CSV-injection advice); numbers are written as they are."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv(rows: list[dict], columns: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: csv_cell(row.get(k)) for k in columns})
    return buffer.getvalue()


def _rate_ratio_pct(rr: dict) -> tuple[float, tuple[float, float]]:
    return 100 * (rr["estimate"] - 1), (100 * (rr["ci95"][0] - 1), 100 * (rr["ci95"][1] - 1))


def headline(view: dict) -> str:
    """One plain-English sentence: the naive fall beside the matched estimate."""
    ba, m = view["before_after"], view.get("matched")
    naive = ba["percent_change"]
    naive_text = (f"fell {abs(naive):.0f}%" if isinstance(naive, float) and naive < 0 else
                  f"changed by {_signed_pct(naive)}") if not isinstance(naive, str) else "changed (suppressed)"
    text = f"Participants' proven offending {naive_text} in the year after they started"
    if not m:
        if view.get("withheld"):
            return text + ". " + " ".join(view["withheld"])
        if view.get("not_matched"):
            return text + ". " + view["not_matched"]
        return text + ", but without a comparison group this cannot show what the programme caused."
    comp = m["comparison_percent_change"]
    effect, (lo, hi) = _rate_ratio_pct(m["rate_ratio"])
    verdict = ("a statistically significant reduction" if hi < 0 else
               "a statistically significant increase" if lo > 0 else "not a statistically significant difference")
    return (f"{text}; similar people who did not take part {'fell' if comp < 0 else 'changed'} "
            f"{abs(comp):.0f}% anyway. Compared with them, participants' offending was {effect:+.0f}% "
            f"(95% interval {lo:+.0f}% to {hi:+.0f}%): {verdict}.")


def can_and_cannot(view: dict) -> tuple[list[str], list[str]]:
    m = view.get("matched")
    cannot = [
        "That the whole before/after fall was caused by the programme: much of it happens anyway "
        "(regression to the mean), as the comparison group shows."
        if m else "What the programme caused: a before/after comparison cannot separate its effect from the "
        "fall that happens anyway (regression to the mean).",
        "That the results apply to people unlike those analysed, or to other places and years.",
    ]
    if not m:
        return [f"Participants' proven offending changed by {_signed_pct(view['before_after']['percent_change'])} "
                "from the year before to the year after they started."], cannot
    can = []
    effect, (lo, hi) = _rate_ratio_pct(m["rate_ratio"])
    if hi < 0:
        can.append(f"This analysis shows that taking part led to a reduction in proven reoffences of between "
                   f"{-hi:.0f}% and {-lo:.0f}% compared with similar people who did not take part.")
    elif lo > 0:
        can.append(f"This analysis shows that taking part was followed by between {lo:.0f}% and {hi:.0f}% more "
                   "proven reoffences than among similar people who did not take part.")
    else:
        can.append("This analysis does not show a clear effect of taking part on the number of proven "
                   f"reoffences: the 95% interval runs from {lo:+.0f}% to {hi:+.0f}%.")
        cannot.insert(0, "That the programme has no effect: the data are consistent with a worthwhile reduction, "
                         "no change or an increase.")
    can += jdl.rate_sentences(m["reoffending_rate"], m["treated"] if isinstance(m["treated"], int) else 0)
    if m["balance"]["imbalanced_after"]:
        cannot.append("That the comparison group is like the participants in every recorded way: balance is poor "
                      "for " + ", ".join(m["balance"]["imbalanced_after"]) + ".")
    return can, cannot


def and_list(items) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = [str(i).replace("_", " ") for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def money(value) -> str:
    if value is None:
        return "n/a"
    return f"-£{abs(value):,.0f}" if value < 0 else f"£{value:,.0f}"


def value_for_money(view: dict) -> list[str]:
    """Plain sentences on offences avoided, savings, net benefit and the benefit-cost ratio."""
    costs = view.get("costs")
    if not costs:
        return []
    avoided, savings = costs["offences_avoided"], costs["savings"]
    year = costs["unit_costs"]["price_year"]
    lines = [
        f"Offences avoided among the matched participants: {avoided['estimate']:,.0f} "
        f"(95% interval {avoided['ci95'][0]:,.0f} to {avoided['ci95'][1]:,.0f}); a negative number means more offences.",
        f"Cost of crime avoided, at Home Office unit costs ({year} prices): {money(savings['estimate'])} "
        f"(95% interval {money(savings['ci95'][0])} to {money(savings['ci95'][1])}).",
    ]
    if costs["net_benefit"]:
        net, bcr = costs["net_benefit"], costs["benefit_cost_ratio"]
        lines.append(f"Programme cost for these participants: {money(costs['programme_cost'])}; net benefit "
                     f"{money(net['estimate'])} (95% interval {money(net['ci95'][0])} to {money(net['ci95'][1])})"
                     + (f"; benefit-cost ratio {bcr['estimate']:.2f} ({bcr['ci95'][0]:.2f} to {bcr['ci95'][1]:.2f})."
                        if bcr else "."))
    elif view["study"].get("programme_cost_per_participant") is not None or view["study"].get("programme_cost_total") is not None:
        lines.append("The programme cost, net benefit and benefit-cost ratio are not shown: with so few people "
                     "matched they would reveal a small count.")
    else:
        lines.append("No programme cost was given (study file, [study.costs]), so there is no net benefit or "
                     "benefit-cost ratio.")
    if costs["savings_interval_includes_zero"]:
        lines.append("The interval for the savings includes zero: these data cannot show that the programme "
                     "saved any money.")
    if costs["programme_cost"] == 0:
        lines.append("The programme cost is given as zero, so there is no benefit-cost ratio.")
    uncosted = costs["unit_costs"]["uncosted_categories"]
    if uncosted:
        lines.append(f"Offences of {and_list(uncosted)} have no unit cost here and are left out of the savings, "
                     "which are therefore a lower bound.")
    if costs["unit_costs"]["to_verify"]:
        lines.append(f"The unit costs used for {and_list(costs['unit_costs']['to_verify'])} are marked for checking "
                     "against Table 1 of the Home Office report.")
    return lines


def sensitivity_reading(view: dict) -> str | None:
    rows = [r for r in view.get("sensitivity") or [] if r.get("estimate") is not None]
    if len(rows) < 2:
        return None
    low, high = min(r["estimate"] for r in rows), max(r["estimate"] for r in rows)
    significant = sum(1 for r in rows if r["p_value"] is not None and r["p_value"] <= 0.05)
    return (f"Across {len(rows)} ways of matching the rate ratio ranged from {low:.2f} to {high:.2f}; "
            f"{significant} of {len(rows)} were statistically significant at 5%.")


def _tables(view: dict) -> dict[str, str]:
    ba, cohort = view["before_after"], view["cohort"]
    flow = [{"stage": "submitted", "people": cohort["submitted"]},
            *[{"stage": f"excluded: {r}", "people": n} for r, n in cohort["excluded"].items()],
            {"stage": "analysed", "people": cohort["participants"]}]
    m = view.get("matched")
    if m:
        c = m["matching"]["counts"]
        flow += [{"stage": "matched", "people": c["matched"]},
                 {"stage": "not matched: no comparison within the caliper", "people": c["no_match_within_caliper"]},
                 {"stage": "not matched: outside common support", "people": c["outside_common_support"]}]
    counts = ["offences_before", "offences_after", "percent_change", "people_with_offence_before",
              "people_with_offence_after"]
    tables = {
        "tables/cohort_flow.csv": _csv(flow, ["stage", "people"]),
        "tables/before_after_by_group.csv": _csv(ba["by_group"], ["group", *counts]),
        "tables/before_after_by_category.csv": _csv(ba["by_category"], ["category", *counts]),
        "tables/before_after_by_programme.csv": _csv(ba["by_programme"], ["programme", "people", *counts]),
        "tables/high_risk.csv": _csv([ba["high_risk"]], ["people", "offences_before", "offences_after", "not_reoffended"]),
    }
    if m:
        rows = [{"measure": label, "treatment_n": m["treated"], "comparison_n": m["comparison"],
                 "treatment_rate": m[key]["treated"], "comparison_rate": m[key]["comparison"],
                 "estimated_difference": m[key]["difference"], "ci95_low": m[key]["ci95"][0],
                 "ci95_high": m[key]["ci95"][1], "significant": jdl.significant(m[key]["p_value"]),
                 "p_value": m[key]["p_value"]}
                for label, key in (("one-year proven reoffending rate", "reoffending_rate"),
                                   ("proven reoffences per person", "frequency"))]
        tables["tables/outcomes_jdl.csv"] = _csv(rows, list(rows[0]))
        tables["tables/balance.csv"] = _csv(m["matching"]["balance"]["covariates"],
                                            list(m["matching"]["balance"]["covariates"][0]))
    if view.get("sensitivity"):
        rows = [{**r, "ci95_low": (r["ci95"] or [None])[0], "ci95_high": (r["ci95"] or [None, None])[1]}
                for r in view["sensitivity"]]
        tables["tables/sensitivity.csv"] = _csv(rows, ["setting", "matched", "estimate", "ci95_low", "ci95_high",
                                                       "p_value", "max_abs_smd_after", "note"])
    if view.get("subgroups"):
        rows = [{**r, "ci95_low": (r["ci95"] or [None])[0], "ci95_high": (r["ci95"] or [None, None])[1]}
                for r in view["subgroups"]]
        tables["tables/subgroups.csv"] = _csv(rows, ["dimension", "group", "participants", "estimate", "ci95_low",
                                                     "ci95_high", "p_value", "p_value_holm", "note"])
    if view.get("costs"):
        costs = view["costs"]
        rows = [{"category": c, "offences_avoided": n, "unit_cost": costs["unit_costs"]["per_offence"].get(c),
                 "home_office_row": costs["unit_costs"]["rows"].get(c, "not costed"),
                 "value": (None if c not in costs["unit_costs"]["per_offence"]
                           else n * costs["unit_costs"]["per_offence"][c])}
                for c, n in costs["offences_avoided_by_category"].items()]
        tables["tables/costs_by_category.csv"] = _csv(rows, ["category", "offences_avoided", "unit_cost",
                                                             "home_office_row", "value"])
    return tables


def finite(value):
    """``value`` with every non-finite float (NaN, infinity) replaced by None: JSON has no NaN."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def json_text(value) -> str:
    """Strict JSON (never NaN or Infinity), indented, with a final newline."""
    return json.dumps(finite(value), indent=2, allow_nan=False) + "\n"


def partner_manifest(manifest: dict) -> dict:
    """The manifest without what could point at records: no input sizes, hashes or row
    counts, no machine paths. (The analyst's manifest is what ``reoffend reproduce`` reads.)"""
    out = copy.deepcopy(manifest)
    out["inputs"] = [{"file": e["file"], "table": e["table"]} for e in manifest["inputs"]]
    out.pop("data_dir", None)
    settings = out.get("settings", {})
    for key in ("data_dir", "out_dir", "work_dir", "keep_work"):
        settings.pop(key, None)
    out["audience"] = "partner"
    return out


def build_outputs(results: dict, manifest: dict, *, audience: str, threshold: int) -> dict[str, str]:
    """Every output file (relative path -> text) for one audience."""
    if audience == "partner":
        view, _plan = partner_results(results, threshold)
        manifest = partner_manifest(manifest)
    else:
        view = results
    m = view.get("matched")
    figures: dict[str, str] = {}
    if m:
        effect, ci = _rate_ratio_pct(m["rate_ratio"])
        naive = view["before_after"]["percent_change"]
        figures["figures/headline.svg"] = charts.headline_chart(
            naive if isinstance(naive, (int, float)) else None, m["comparison_percent_change"], effect, ci)
        figures["figures/love_plot.svg"] = charts.love_plot(m["matching"]["balance"]["covariates"])
        survival = m["time_to_first_reoffence"]
        if audience == "analyst" and survival.get("shown") and survival.get("curves"):
            figures["figures/km.svg"] = charts.km_chart(survival["curves"])
    can, cannot = can_and_cannot(view)
    context = {
        "r": view,
        "audience": audience,
        "headline": headline(view),
        "can": can,
        "cannot": cannot,
        "figures": figures,
        "manifest": manifest,
        "labels": COVARIATE_LABELS,
        "value_for_money": value_for_money(view),
        "sensitivity_reading": sensitivity_reading(view),
        "jdl_rows": [("One-year proven reoffending rate", "reoffending_rate", "rate"),
                     ("Proven reoffences per person", "frequency", "freq")],
    }
    files = {
        "results.json": json_text(view),
        "manifest.json": json_text(manifest),
        "summary.md": _markdown_env.get_template("summary.md.j2").render(context),
        "report.html": _env.get_template("report.html.j2").render(context),
        **_tables(view),
        **figures,
    }
    return files
