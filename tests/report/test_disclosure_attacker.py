"""The attacker test (safety issue, finding 3): partner outputs of cohorts of 3, 12 and 25
participants and of the Southampton demo are read as a hostile recipient would, and every
count that can be derived from them (by subtracting parts from totals, multiplying rates,
shares and means by group sizes, dividing counts by per-person rates) is recomputed. The
test fails if any derived count is nonzero and below the threshold, if an individual's
date or an input file's size or hash appears, or if a suppressed value reappears in the
text or the Prefect artifact's markdown.

The attacker sees only the partner folder; the analyst's results are used only to confirm
that each derivation it tries is one that would work on unsuppressed numbers."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from evaluation.load.contract import OFFENCE_GROUPS
from evaluation.pipeline.runner import run_evaluation
from evaluation.report.wording import headline_markdown
from evaluation.settings.model import StudySettings
from synthetic_data import SOUTHAMPTON, generate

THRESHOLD = 5
#: Count covariates, whose mean times a group size is a number of offences. Binary rows
#: are read from the output itself (each balance row says whether it is binary), as an
#: attacker would, not from a list that a new covariate can miss.
COUNTS = {"prior_offences_365", "proven_365", "prior_offences_366_730", "prior_offences_earlier", "prior_person",
          "prior_property", "prior_drugs"}


def known(value):
    """A published number, or None for a suppression marker or a withheld value."""
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


class Attacker:
    def __init__(self) -> None:
        self.derived: list[tuple[str, float]] = []

    def record(self, what: str, value) -> None:
        if value is not None:
            self.derived.append((what, value))

    def difference(self, what: str, total, parts: list) -> None:
        """total - sum(parts), when exactly one of total and parts is unknown (solve for it)."""
        items = [total, *parts]
        unknown = [i for i, v in enumerate(items) if known(v) is None]
        if len(unknown) != 1:
            return
        if unknown[0] == 0:
            self.record(what + " (total)", sum(parts))
        else:
            self.record(what, total - sum(v for i, v in enumerate(parts) if i + 1 != unknown[0]))

    def product(self, what: str, rate, n) -> None:
        if known(rate) is not None and known(n) is not None:
            self.record(what, rate * n)

    def quotient(self, what: str, count, rate) -> None:
        if known(count) is not None and known(rate) not in (None, 0):
            self.record(what, count / rate)

    def small(self) -> list[tuple[str, float]]:
        """Derived numbers that are (within rounding) a whole count from 1 to threshold - 1."""
        out = []
        for what, value in self.derived:
            nearest = round(value)
            if abs(value - nearest) < 0.02 and 0 < nearest < THRESHOLD:
                out.append((what, value))
        return out


def direct_counts(value, path="") -> list[tuple[str, int]]:
    """Every integer count from 1 to threshold - 1 stated outright under a count-like key."""
    from evaluation.report.disclosure import COUNT_KEYS

    found = []
    if isinstance(value, dict):
        for k, v in value.items():
            if k in COUNT_KEYS and known(v) is not None and float(v).is_integer() and 0 < v < THRESHOLD:
                found.append((f"{path}/{k}", v))
            found += direct_counts(v, f"{path}/{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += direct_counts(v, f"{path}[{i}]")
    return found


def attack(folder: Path) -> tuple[Attacker, dict]:
    r = json.loads((folder / "results.json").read_text())
    a = Attacker()
    c, ba = r["cohort"], r["before_after"]
    n = c["participants"]
    a.difference("submitted - analysed - excluded", c["submitted"], [n, *c["excluded"].values()])
    for table, c_ in (r.get("load") or {}).get("tables", {}).items():
        a.difference(f"{table} read - loaded - rejected", c_["read"], [c_["loaded"], c_["rejected"]])
    participants_rows = (r.get("load") or {}).get("tables", {}).get("participants", {}).get("loaded")
    a.difference("participant rows - submitted", participants_rows, [c["submitted"], None])
    # before/after totals, parts and per-person statistics
    for key in ("offences_before", "offences_after", "people_with_offence_before", "people_with_offence_after"):
        for table in ("by_group", "by_category"):
            if key.startswith("offences"):
                a.difference(f"{key}: total - {table}", ba[key], [row[key] for row in ba[table]])
        a.difference(f"{key}: total - programmes", ba[key], [row[key] for row in ba["by_programme"]])
    a.difference("analysed - programmes", n, [row["people"] for row in ba["by_programme"]])
    by_category = {row["category"]: row for row in ba["by_category"]}
    for row in ba["by_group"]:
        members = [by_category[m] for m in OFFENCE_GROUPS[row["group"]] if m in by_category]
        for key in ("offences_before", "offences_after"):
            a.difference(f"{row['group']} {key} - its categories", row[key], [m[key] for m in members])
    for row in ba["by_programme"]:
        for when in ("before", "after"):
            a.difference(f"{row['programme']} people without an offence {when}", row["people"],
                         [row[f"people_with_offence_{when}"], None])
    for when in ("before", "after"):
        a.difference(f"people without an offence {when}", n, [ba[f"people_with_offence_{when}"], None])
        a.product(f"offences {when} = per person x n", ba.get(f"offences_per_person_{when}"), n)
        a.quotient(f"n = offences {when} / per person", ba[f"offences_{when}"], ba.get(f"offences_per_person_{when}"))
        a.product(f"people offending {when} = share x n", ba.get(f"share_with_offence_{when}"), n)
        a.product(f"people not offending {when} = (1 - share) x n",
                  None if ba.get(f"share_with_offence_{when}") is None else 1 - ba[f"share_with_offence_{when}"], n)
        if known(ba.get(f"days_at_risk_{when}")) is not None:
            a.record(f"n ~ days at risk {when} / 365", ba[f"days_at_risk_{when}"] / 365)
        if known(ba["percent_change"]) is not None and known(ba["offences_before"]) is not None:
            a.record("offences after = before x (1 + change)", ba["offences_before"] * (1 + ba["percent_change"] / 100))
    hr = ba["high_risk"]
    a.difference("high risk: people - not reoffended", hr["people"], [hr["not_reoffended"], None])
    a.difference("analysed - high risk", n, [hr["people"], None])
    for key in ("offences_before", "offences_after"):
        a.difference(f"{key} - high risk", ba[key], [hr[key], None])
    m = r.get("matched")
    if m:
        counts = m["matching"]["counts"]
        nm = counts["matched"]
        a.difference("analysed - matched - unmatched", n,
                     [nm, counts["no_match_within_caliper"], counts["outside_common_support"]])
        a.difference("comparisons - contaminated", m["comparison"], [m["contaminated_comparisons"], None])
        for arm in ("treated", "comparison"):
            rate, freq = m["reoffending_rate"][arm], m["frequency"][arm]
            a.product(f"{arm} reoffenders = rate x n", rate, nm)
            a.product(f"{arm} not reoffended = (1 - rate) x n", None if rate is None else 1 - rate, nm)
            a.product(f"{arm} offences = frequency x n", freq, nm)
            change = m["difference_in_differences"][arm]
            a.product(f"{arm} offences before = (frequency - change) x n",
                      None if freq is None or change is None else freq - change, nm)
        a.quotient("n = reoffenders / rate", m["time_to_first_reoffence"]["reoffenders_treated"],
                   m["reoffending_rate"]["treated"])
        if known(nm) is not None and known(m["frequency"]["treated"]) is not None:
            a.difference("offences after of unmatched participants", ba["offences_after"],
                         [m["frequency"]["treated"] * nm, None])
            a.difference("reoffenders among unmatched participants", ba["people_with_offence_after"],
                         [m["reoffending_rate"]["treated"] * nm, None])
        sizes = {"treated_before": n, "treated_after": nm, "comparison_after": nm}
        for row in m["matching"]["balance"]["covariates"]:
            for side, size in sizes.items():
                mean = row.get(f"mean_{side}")
                if row.get("binary"):
                    a.product(f"{row['covariate']} {side}: mean x n", mean, size)
                    a.product(f"not {row['covariate']} {side}: (1 - mean) x n", None if mean is None else 1 - mean, size)
                elif row["covariate"] in COUNTS:
                    a.product(f"{row['covariate']} {side}: mean x n", mean, size)
        # subgroups against the balance table's means (found, issue 34: "female" suppressed in the
        # subgroups but mean x n in the balance table; 588 - male - female = the sex not
        # recorded), and unions and intersections ("MAPPA or PPO" against the MAPPA and PPO means)
        binary = {row["covariate"]: row.get("mean_treated_after") for row in m["matching"]["balance"]["covariates"]
                  if row.get("binary") and known(row.get("mean_treated_after")) is not None}
        groups = {(row["dimension"], row["group"]): row["participants"] for row in r.get("subgroups") or []
                  if known(row["participants"]) is not None}
        for (dimension, group), size in groups.items():
            for covariate, mean in binary.items():
                count = mean * nm
                a.record(f"{dimension}={group} - {covariate}", size - count)
                a.record(f"{covariate} - {dimension}={group}", count - size)
                a.record(f"matched - {dimension}={group} - {covariate}", nm - size - count)
                for other, other_mean in binary.items():
                    if other < covariate:  # if the group is the union, this is the intersection
                        a.record(f"{covariate} + {other} - {dimension}={group}", count + other_mean * nm - size)
        for dimension in {d for d, _ in groups}:
            for (d1, g1), s1 in groups.items():
                for (d2, g2), s2 in groups.items():
                    if d1 == d2 == dimension and g1 < g2:
                        a.record(f"matched - {g1} - {g2}", nm - s1 - s2)
        for i, row in enumerate(r.get("sensitivity") or []):
            a.difference(f"sensitivity {i}: analysed - matched", n, [row["matched"], None])
        for dimension in {row["dimension"] for row in r.get("subgroups") or []}:
            a.difference(f"subgroups {dimension}: matched - groups", nm,
                         [row["participants"] for row in r["subgroups"] if row["dimension"] == dimension] + [None])
        bounds = r.get("hidden_bias") or {}
        if "pairs" in bounds:
            a.difference("pairs without a difference", bounds["pairs"], [bounds["pairs_with_a_difference"], None])
        placebo = r.get("placebo") or {}
        if "participants" in placebo:
            a.difference("analysed - placebo participants", n, [placebo["participants"], None])
            a.difference("placebo unmatched", placebo["participants"], [placebo.get("matched"), None])
        costs = r.get("costs") or {}
        per_head = r["study"].get("programme_cost_per_participant")
        a.quotient("n = programme cost / cost per participant", costs.get("programme_cost"), per_head)
    if not (folder / "tables").is_dir():  # a library's copy holds results.json only
        return a, r
    # tables: every CSV's counts are the results' counts (checked) and carry no others
    flow = list(csv.DictReader(io.StringIO((folder / "tables" / "cohort_flow.csv").read_text())))
    shown = [int(x["people"]) if x["people"].isdigit() else None for x in flow]
    excluded = [v for x, v in zip(flow, shown) if x["stage"].startswith("excluded")]
    a.difference("cohort_flow: submitted - excluded - analysed", shown[0], [*excluded, shown[len(excluded) + 1]])
    for path in (folder / "tables").glob("*.csv"):
        for row in csv.DictReader(io.StringIO(path.read_text())):
            for key, cell in row.items():
                if key in ("people", "offences_before", "offences_after", "people_with_offence_before",
                           "people_with_offence_after", "not_reoffended", "participants", "matched",
                           "treatment_n", "comparison_n") and cell.isdigit():
                    a.record(f"{path.name}: {key}", int(cell))
    return a, r


@pytest.fixture(scope="module")
def partner_runs(tmp_path_factory, southampton) -> dict[str, Path]:
    runs = {}
    for size in (3, 12, 25):
        data = tmp_path_factory.mktemp(f"cohort{size}") / "data"
        generate(replace(SOUTHAMPTON, people=3000, participants=size), data, seed=size)
        out = tmp_path_factory.mktemp(f"partner{size}") / "out"
        run_evaluation(StudySettings(data_dir=data, out_dir=out, audience="partner", bootstrap_resamples=200,
                                     programme_cost_per_participant=940, name=f"cohort{size}", council="Testshire",
                                     programme_type="employment"))
        runs[f"cohort of {size}"] = out
    out = tmp_path_factory.mktemp("partner-southampton") / "out"
    run_evaluation(StudySettings(data_dir=southampton, out_dir=out, audience="partner", bootstrap_resamples=300,
                                 programme_cost_per_participant=940, name="southampton", council="Southampton",
                                 programme_type="employment"))
    runs["southampton"] = out
    # With the default caliper one demo participant has no close comparison, and the
    # partner view withholds the comparison (issue 16); without a caliper every participant
    # is matched and the view shows it, so the attack reaches the matched section's counts
    # (matched, sensitivity, subgroups, costs) at full size.
    out = tmp_path_factory.mktemp("partner-southampton-all-matched") / "out"
    run_evaluation(StudySettings(data_dir=southampton, out_dir=out, audience="partner", bootstrap_resamples=300,
                                 programme_cost_per_participant=940, name="southampton_all_matched",
                                 council="Otherton", programme_type="employment", matching={"caliper": None}))
    runs["southampton, all matched"] = out
    return runs


CASES = ["cohort of 3", "cohort of 12", "cohort of 25", "southampton", "southampton, all matched"]


def test_the_attack_reaches_a_shown_comparison(partner_runs):
    """At least one case shows partners the matched comparison, so the attack below is
    tried on its counts, not only on views that withhold it."""
    shown = json.loads((partner_runs["southampton, all matched"] / "results.json").read_text())
    assert shown["matched"] is not None and shown["subgroups"] and shown["sensitivity"]


@pytest.mark.parametrize("case", CASES)
def test_no_count_below_the_threshold_can_be_derived(partner_runs, case):
    attacker, results = attack(partner_runs[case])
    assert attacker.derived, "the attacker derived nothing: the test would pass vacuously"
    assert direct_counts(results) == []
    assert attacker.small() == [], f"{case}: derivable small counts {attacker.small()[:10]}"


@pytest.mark.parametrize("case", CASES)
def test_no_individual_date_size_or_hash(partner_runs, case):
    folder = partner_runs[case]
    results_text = (folder / "results.json").read_text()
    results = json.loads(results_text)
    assert not re.search(r"\d{4}-\d{2}-\d{2}", json.dumps(results["cohort"])), "an exact index date"
    assert not re.search(r"\d{4}-\d{2}-\d{2}", json.dumps(results.get("load") or {}))
    for name in ("summary.md", "report.html"):
        text = (folder / name).read_text()
        dates = set(re.findall(r"\d{4}-\d{2}-\d{2}", text))
        manifest = json.loads((folder / "manifest.json").read_text())
        allowed = {manifest["started"][:10], manifest["finished"][:10]}
        assert dates <= allowed, f"{name}: dates {dates - allowed}"
    manifest_text = (folder / "manifest.json").read_text()
    assert "sha256" not in manifest_text and '"bytes"' not in manifest_text and "rows_read" not in manifest_text
    assert "survival" not in results_text and "curves" not in results_text


@pytest.mark.parametrize("case", CASES)
def test_text_and_artifact_follow_the_suppression(partner_runs, case):
    """What results.json hides is not printed in summary.md, report.html or the Prefect
    artifact: no percentage change of a hidden total, no impact figures when withheld."""
    folder = partner_runs[case]
    results = json.loads((folder / "results.json").read_text())
    summary, html = (folder / "summary.md").read_text(), (folder / "report.html").read_text()
    artifact = headline_markdown(results)
    for text in (summary, artifact):
        assert "<script" not in text
    if results["matched"] is None:
        for text in (summary, html, artifact):
            assert "rate ratio" not in text.lower().replace("rate ratios", "") or "withheld" in text.lower()
            assert "Number in treatment group" not in text
    assert "Every count of people or offences is rounded to a multiple of 5" in summary
    assert "rounded to a multiple of 5" in html


def test_the_attacker_finds_small_counts_in_analyst_outputs(tmp_path):
    """The attacker is not blind: on the analyst's outputs of a cohort of 12 it derives small counts."""
    data = tmp_path / "data"
    generate(replace(SOUTHAMPTON, people=3000, participants=12), data, seed=12)
    out = tmp_path / "analyst"
    run_evaluation(StudySettings(data_dir=data, out_dir=out, bootstrap_resamples=200))
    attacker, _ = attack(out)
    assert attacker.small(), "the attack derives no small count even from unsuppressed outputs"


def test_the_library_and_its_site_leak_nothing(partner_runs, tmp_path):
    """The evidence library and its site, built from these partner outputs, are attacked the
    same way: every stored results file, the site's data file and every page."""
    from evaluation.library.site import build_site
    from evaluation.library.store import add_outputs, read_library

    library = tmp_path / "library.duckdb"
    add_outputs(library, [partner_runs[case] for case in CASES])
    site, pooled = build_site(library, tmp_path / "site")
    stored = read_library(library)
    assert len(stored) == len(CASES)
    for evaluation in stored:
        folder = tmp_path / "stored" / evaluation.name
        folder.mkdir(parents=True)
        (folder / "results.json").write_text(evaluation.results_json)
        attacker, results = attack(folder)
        assert results["audience"] == "partner" and attacker.derived
        assert direct_counts(results) == [] and attacker.small() == [], evaluation.name
        manifest = json.loads(evaluation.manifest_json)
        assert "sha256" not in evaluation.manifest_json and "rows_read" not in evaluation.manifest_json
        assert manifest["audience"] == "partner"
    assert direct_counts(json.loads((site / "library.json").read_text())) == []
    allowed = {e.finished[:10] for e in stored if e.finished}
    for page in site.rglob("*.html"):
        text = page.read_text()
        assert not re.search(r"\bSYN\d", text), page
        assert set(re.findall(r"\d{4}-\d{2}-\d{2}", text)) <= allowed, page
        cells = re.findall(r'class="count">([^<]*)<', text)
        assert cells, page
        for cell in cells:
            number = cell.replace(",", "")
            assert not (number.isdigit() and 0 < int(number) < THRESHOLD), (page, cell)
    # the pooled participants are a sum of counts each shown: no hidden one is in it
    shown = sum(e.participants for e in stored if e.is_current and e.estimable)
    assert sum(p.participants for p in pooled) == shown


@pytest.mark.parametrize("case", ["cohort of 25", "southampton"])
def test_rounded_numbers_agree_across_the_files_and_add_up(partner_runs, case):
    """Issue 34: rounded counts are consistent within an output: the tables show the numbers
    of results.json, totals are the sums of the parts shown, and the report shows the same."""
    folder = partner_runs[case]
    r = json.loads((folder / "results.json").read_text())
    c, ba = r["cohort"], r["before_after"]
    assert c["submitted"] == c["participants"] + sum(c["excluded"].values())
    for key in ("offences_before", "offences_after"):
        assert ba[key] == sum(row[key] for row in ba["by_category"])
        for row in ba["by_group"]:
            members = [x[key] for x in ba["by_category"] if x["category"] in OFFENCE_GROUPS[row["group"]]]
            assert row[key] == sum(members), row["group"]
    table = {row["category"]: row for row in csv.DictReader(io.StringIO(
        (folder / "tables" / "before_after_by_category.csv").read_text()))}
    for row in ba["by_category"]:
        assert int(table[row["category"]]["offences_after"]) == row["offences_after"]
    flow = {row["stage"]: row["people"] for row in csv.DictReader(io.StringIO(
        (folder / "tables" / "cohort_flow.csv").read_text()))}
    assert int(flow["analysed"]) == c["participants"] and int(flow["submitted"]) == c["submitted"]
    html = (folder / "report.html").read_text()
    assert f"{ba['offences_before']:,}" in html and f"{c['participants']:,}" in html
    m = r.get("matched")
    if m:
        counts = m["matching"]["counts"]
        assert counts["treated"] == c["participants"] == (
            counts["matched"] + counts["no_match_within_caliper"] + counts["outside_common_support"])
        assert int(flow["matched"]) == counts["matched"]
        costs = r["costs"]
        values = [float(row["value"]) for row in csv.DictReader(io.StringIO(
            (folder / "tables" / "costs_by_category.csv").read_text())) if row["value"]]
        assert abs(sum(values) - costs["savings"]["estimate"]) < 0.5
        assert costs["offences_avoided"]["estimate"] == sum(costs["offences_avoided_by_category"].values())
        assert costs["net_benefit"]["estimate"] == costs["savings"]["estimate"] - costs["programme_cost"]
