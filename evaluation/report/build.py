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
import re

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from evaluation.estimate.types import finite
from evaluation.report import charts, jdl
from evaluation.report.disclosure import partner_results
from evaluation.report.wording import (
    can_and_cannot,
    comparison_notes,
    count_text,
    covariate_label,
    display_title,
    estimable,
    fixed,
    headline,
    rate_ratio_pct,
    sensitivity_reading,
    signed,
    signed_pct,
    value_for_money,
    warnings_beyond_the_rating,
)

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


#: What the report's two template environments share: the templates, strict undefined names, tidy blocks.
_TEMPLATES = dict(loader=PackageLoader("evaluation.report", "templates"), undefined=StrictUndefined,
                  trim_blocks=True, lstrip_blocks=True)
_env = Environment(autoescape=_autoescape, **_TEMPLATES)
_markdown_env = Environment(autoescape=False, finalize=markdown_text, **_TEMPLATES)


for _e in (_env, _markdown_env):
    _e.filters.update(fixed=fixed, num=count_text, signed=signed, signed_pct=signed_pct, pct=jdl.pct, freq=jdl.freq,
                      p=jdl.p_value)
    _e.tests["significant"] = jdl.significant

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


def _tables(view: dict) -> dict[str, str]:
    ba, cohort = view["before_after"], view["cohort"]
    link = cohort.get("linkage")
    flow = [{"stage": "submitted on the council's list", "people": link["listed"]},
            *[{"stage": f"not identified: {r}", "people": n} for r, n in link["not_identified"].items()],
            {"stage": "identified in the police data", "people": link["identified"]},
            {"stage": "identified: a later start of a person counted already",
             "people": link["identified"] - link["identified_people"]},
            {"stage": "identified people", "people": link["identified_people"]},
            {"stage": "identified people not in the loaded data (see the load report)",
             "people": link["identified_people"] - cohort["submitted"]}] if link else []
    flow += [{"stage": "submitted", "people": cohort["submitted"]},
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


def json_text(value) -> str:
    """Strict JSON (never NaN or Infinity), indented, with a final newline."""
    return json.dumps(finite(value), indent=2, allow_nan=False) + "\n"


def partner_manifest(manifest: dict) -> dict:
    """The manifest without what could point at records: no input sizes, hashes or row
    counts, no machine paths, no column map (its keys are column names such as person_id,
    which a library refuses in a partner output). (The analyst's manifest is what
    ``reoffend reproduce`` reads.)"""
    out = copy.deepcopy(manifest)
    out["inputs"] = [{"file": e["file"], "table": e["table"]} for e in manifest["inputs"]]
    out.pop("data_dir", None)
    settings = out.get("settings", {})
    for key in ("data_dir", "out_dir", "work_dir", "keep_work"):
        settings.pop(key, None)
    settings.get("data", {}).pop("folder", None)
    settings.get("data", {}).pop("participants", None)
    settings.get("data", {}).pop("columns", None)  # the council's own headers: how its files were read
    for key in ("path", "site"):
        settings.get("library", {}).pop(key, None)
    out["audience"] = "partner"
    return out


def settings_changed(study: dict) -> list[tuple[str, str]]:
    """The study settings that differ from the defaults, as (name, value text), for the
    provenance table (the full record is in results.json and manifest.json)."""
    from pathlib import Path

    from evaluation.settings.model import StudySettings

    defaults = StudySettings(data_dir=Path("."), out_dir=Path("out")).to_dict()
    rows = []
    for name, value in study.items():
        if name in ("name", "title") or value == defaults.get(name, value) and name in defaults:
            continue
        text = ", ".join(map(str, value)) if isinstance(value, list) else (
            json.dumps(value) if isinstance(value, dict) else str(value))
        rows.append((name, text or "(none)"))
    return rows


def _figures(view: dict, audience: str) -> dict[str, charts.Figure]:
    """The charts for this audience's view, by file name."""
    figures: dict[str, charts.Figure] = {}
    m = view.get("matched")
    ba = view["before_after"]
    if m and estimable(m["rate_ratio"]) and m["comparison_percent_change"] is not None:
        effect, ci = rate_ratio_pct(m["rate_ratio"])
        naive = ba["percent_change"]
        figures["figures/headline.svg"] = charts.headline_chart(
            naive if isinstance(naive, (int, float)) else None, m["comparison_percent_change"], effect, ci)
    if ba.get("by_group"):
        figures["figures/before_after.svg"] = charts.before_after_chart(ba["by_group"])
    if m:
        overlap = m["matching"].get("propensity_overlap")
        if overlap and audience == "analyst":
            figures["figures/overlap.svg"] = charts.overlap_chart(overlap)
        figures["figures/love_plot.svg"] = charts.love_plot(m["matching"]["balance"]["covariates"],
                                                            distance=view["study"]["distance"])
        survival = m["time_to_first_reoffence"]
        if audience == "analyst" and survival.get("shown") and survival.get("curves"):
            figures["figures/km.svg"] = charts.km_chart(survival["curves"], after_days=view["study"]["after_days"])
    if view.get("costs") and charts.finite_interval(view["costs"].get("savings")):
        figures["figures/costs.svg"] = charts.cost_chart(view["costs"])
    check = view.get("falsification")
    if m and check and charts.finite_interval(check) and estimable(m["rate_ratio"]):
        figures["figures/falsification.svg"] = charts.falsification_chart(m["rate_ratio"], check)
    if view.get("sensitivity"):
        figures["figures/sensitivity.svg"] = charts.forest_plot(
            view["sensitivity"], label_key=lambda r: r["setting"], title="Other ways of matching",
            caption="Look for the intervals to agree with the first row (as analysed): if a reasonable change of "
                    "method moves the estimate a long way, the headline depends on that choice.",
            what="the rate ratio under other matching settings")
    if view.get("subgroups"):
        figures["figures/subgroups.svg"] = charts.forest_plot(
            view["subgroups"], label_key=lambda r: f"{r['dimension']}: {r['group']}", title="Subgroups (exploratory)",
            caption="Wide intervals that overlap each other are the rule in small groups: a difference between "
                    "subgroups here is a question for the next evaluation, not a finding.",
            what="the rate ratio in subgroups")
    return figures


def audience_view(results: dict, audience: str, threshold: int) -> dict:
    """What an audience may see of the results (the partner view is disclosure-controlled)."""
    return partner_results(results, threshold)[0] if audience == "partner" else results


def build_outputs(results: dict, manifest: dict, *, audience: str, threshold: int,
                  view: dict | None = None) -> dict[str, str]:
    """Every output file (relative path -> text) for one audience (``view``: the audience's
    view when the caller has made it already)."""
    view = audience_view(results, audience, threshold) if view is None else view
    if audience == "partner":
        manifest = partner_manifest(manifest)
    figures = _figures(view, audience)
    can, cannot = can_and_cannot(view)
    context = {
        "r": view,
        "audience": audience,
        "title": display_title(view["study"]),
        "headline": headline(view),
        "can": can,
        "cannot": cannot,
        "figures": figures,
        "manifest": manifest,
        "settings_changed": settings_changed(view["study"]),
        "covariate_label": covariate_label,
        "value_for_money": value_for_money(view),
        "warnings_beyond_the_rating": warnings_beyond_the_rating(view),
        "sensitivity_reading": sensitivity_reading(view),
        "comparison_notes": comparison_notes(view),
        "jdl_rows": [("One-year proven reoffending rate", "reoffending_rate", "rate"),
                     ("Proven reoffences per person", "frequency", "freq")],
    }
    files = {
        "results.json": json_text(view),
        "manifest.json": json_text(manifest),
        "summary.md": _markdown_env.get_template("summary.md.j2").render(context),
        "report.html": _env.get_template("report.html.j2").render(context),
        **_tables(view),
        **{name: figure.svg for name, figure in figures.items()},
    }
    return files
