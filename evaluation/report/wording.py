"""All prose of an evaluation in one place: the headline and the sentences that the
command line, the Prefect artifact, summary.md and report.html show.

Each function takes the audience's view of results.json (in a partner view a count may
be a suppression marker such as ``<5`` or ``~``) and returns text; number formats and the
significance verdicts come from here and from :mod:`evaluation.report.jdl`.
"""

from __future__ import annotations

from evaluation.cohorts.covariates import COVARIATE_LABELS
from evaluation.estimate.significance import significant
from evaluation.report import jdl


def display_title(study: dict) -> str:
    """The study's title for reports: its ``title``, or a readable form of its name
    ("southampton_2024-pilot" -> "Southampton 2024 pilot")."""
    title = (study.get("title") or "").strip()
    if title:
        return title
    words = " ".join(str(study.get("name") or "evaluation").replace("_", " ").replace("-", " ").split())
    return words[:1].upper() + words[1:]


def covariate_label(name: str, distance: str = "logit") -> str:
    """A covariate's name for readers, the same in the balance table and the love plot."""
    if name == "distance":
        return f"propensity score ({distance})"
    return COVARIATE_LABELS.get(name, name.replace("_", " "))


def effect_words(effect_pct: float) -> str:
    """A percent difference as words: -7.2 -> "7% fewer", 2 -> "2% more"."""
    rounded = round(effect_pct)
    if rounded == 0:
        return "no difference (0%)"
    return f"{abs(rounded):.0f}% {'fewer' if rounded < 0 else 'more'}"


def count_text(value, fmt: str = "{:,}") -> str:
    """A count for display: numbers formatted, suppression markers as they are."""
    if isinstance(value, str):
        return value
    if value is None:
        return "n/a"
    return fmt.format(value)


def signed(value: float, digits: int = 0) -> str:
    """A number with its sign (+3, -12.5), and one that rounds to zero as 0, never -0 or +0."""
    text = f"{value:+.{digits}f}"
    return text[1:] if float(text) == 0 else text


def signed_pct(value) -> str:
    if isinstance(value, str):
        return value
    return "n/a" if value is None else f"{signed(value)}%"


def fixed(value, digits: int = 2) -> str:
    """A number to ``digits`` places; a withheld value (None) or a marker as it is."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return f"{value:.{digits}f}"


def estimable(rr: dict | None) -> bool:
    """Whether a rate ratio record has an estimate and an interval."""
    return bool(rr) and rr.get("estimate") is not None and None not in (rr.get("ci95") or [None])


def rate_ratio_pct(rr: dict) -> tuple[float, tuple[float, float]]:
    return 100 * (rr["estimate"] - 1), (100 * (rr["ci95"][0] - 1), 100 * (rr["ci95"][1] - 1))


def headline(view: dict) -> str:
    """One plain-English sentence: the naive fall beside the matched estimate."""
    ba, m = view["before_after"], view.get("matched")
    naive = ba["percent_change"]
    naive_text = (f"fell {abs(naive):.0f}%" if isinstance(naive, float) and naive < 0 else
                  f"changed by {signed_pct(naive)}") if not isinstance(naive, str) else "changed (suppressed)"
    text = f"Participants' proven offending {naive_text} in the year after they started"
    if not m:
        if view.get("withheld"):
            return text + ". " + " ".join(view["withheld"])
        if view.get("not_matched"):
            return text + ". " + view["not_matched"]
        return text + ", but without a comparison group this cannot show what the programme caused."
    comp = m["comparison_percent_change"]
    if not estimable(m["rate_ratio"]) or comp is None:
        return text + "; the matched comparison could not be estimated (no proven offences in one of the groups)."
    effect, (lo, hi) = rate_ratio_pct(m["rate_ratio"])
    verdict = ("a statistically significant reduction" if hi < 0 else
               "a statistically significant increase" if lo > 0 else "not a statistically significant difference")
    return (f"{exploratory(view, 'Exploratory, ')}{text}; similar people who did not take part "
            f"{'fell' if comp < 0 else 'changed'} "
            f"{abs(comp):.0f}% anyway. Compared with them, participants committed {effect_words(effect)} proven "
            f"offences per day at risk (95% interval {signed(lo)}% to {signed(hi)}%; rate ratio p = "
            f"{jdl.p_value(m['rate_ratio']['p_value'])}): {verdict}{unattributable(view)}.")


def warnings_beyond_the_rating(view: dict) -> list[str]:
    """The matched comparison's warnings that the evidence rating does not already give as a
    reason (issue 39, finding 6: summary.md's Warnings repeated two of the rating's bullets)."""
    from evaluation.estimate.impact import MIN_PARTICIPANTS

    m = view.get("matched") or {}
    reasons = " ".join((view.get("evidence") or {}).get("reasons") or [])
    said = (("POOR BALANCE", "balance after matching is poor"),
            (f"fewer than {MIN_PARTICIPANTS} matched participants", f"minimum of {MIN_PARTICIPANTS}"))
    return [w for w in m.get("warnings") or []
            if not any(w.startswith(start) and words in reasons for start, words in said)]


def exploratory(view: dict, lead: str) -> str:
    """``lead`` and why, when too few participants were matched for the headline to be more than
    exploratory (``matched.exploratory``, from the exact count; impact.EXPLORATORY_UP_TO)."""
    from evaluation.estimate.impact import EXPLORATORY_UP_TO

    if not (view.get("matched") or {}).get("exploratory"):
        return ""
    return (f"{lead}with {EXPLORATORY_UP_TO} or fewer participants matched (small programmes give false findings "
            "more often than the 5% the test allows): ")


def unattributable(view: dict) -> str:
    """When the falsification test fired, what the headline must add: the comparison groups
    differed before the programme, so no difference can be put down to it (issue 39, finding 4:
    the headline said "a significant difference" beside the warning)."""
    check = view.get("falsification") or {}
    if not check.get("fired"):
        return ""
    return ("; but the falsification test fired (participants and their comparisons already offended at different "
            "rates before the programme), so this difference cannot be attributed to the programme")


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
        return [f"Participants' proven offending changed by {signed_pct(view['before_after']['percent_change'])} "
                "from the year before to the year after they started."], cannot
    can = []
    if not estimable(m["rate_ratio"]):
        return ["The matched comparison could not be estimated: one of the groups had no proven offences."], cannot
    effect, (lo, hi) = rate_ratio_pct(m["rate_ratio"])
    if hi < 0:
        can.append(f"This analysis shows that taking part led to a reduction in proven reoffences of between "
                   f"{-hi:.0f}% and {-lo:.0f}% compared with similar people who did not take part.")
    elif lo > 0:
        can.append(f"This analysis shows that taking part was followed by between {lo:.0f}% and {hi:.0f}% more "
                   "proven reoffences than among similar people who did not take part.")
    else:
        can.append("This analysis does not show a clear effect of taking part on the number of proven "
                   f"reoffences: the 95% interval runs from {signed(lo)}% to {signed(hi)}%.")
        cannot.insert(0, "That the programme has no effect: the data are consistent with a worthwhile reduction, "
                         "no change or an increase.")
    can += jdl.rate_sentences(m["reoffending_rate"], m["treated"] if isinstance(m["treated"], int) else 0)
    if m["balance"]["imbalanced_after"]:
        cannot.append("That the comparison group is like the participants in every recorded way: balance is poor "
                      "for " + (m["balance"].get("imbalance") or ", ".join(m["balance"]["imbalanced_after"])) + ".")
    return can, cannot


def comparison_notes(view: dict) -> list[str]:
    """What the matched comparison estimates, how comparisons who started were handled, and
    the estimate without that correction."""
    m = view.get("matched")
    if not m or "estimand" not in m:
        return []
    lines = [f"What is compared: {m['estimand']}."]
    n, total = m.get("contaminated_comparisons"), m.get("comparison")
    censoring = m.get("censoring") or {}
    structural = "structural" in m
    if n is not None:
        handled = ("Their offences after their own start were counted as they would have been without the programme: "
                   "divided by the estimated rate ratio (a structural model of the programme's effect, which assumes "
                   "a later starter gains the same proportional change as a participant)." if structural else
                   "Each was counted only until the referral that led to its start, and the comparisons not referred "
                   "were reweighted for their loss.")
        lines.append(f"Comparisons who started the programme during their own follow-up year: {count_text(n)} of "
                     f"{count_text(total)}. {handled}")
    rr = m["rate_ratio"]
    ipcw = (m.get("ipcw") or {}).get("rate_ratio") or {}
    if structural and estimable(ipcw) and estimable(rr):
        weights = ""
        if censoring.get("weight_mean") is not None and n != 0:
            weights = (f"; censoring weights: mean {censoring['weight_mean']:.2f}, largest "
                       f"{censoring['weight_max']:.2f}"
                       + ("" if censoring.get("truncated_at") is None else f", truncated at {censoring['truncated_at']:.2f}"))
        lines.append(f"With censoring weights instead (each such comparison counted only until the referral that led "
                     f"to its start, the others reweighted for their loss{weights}), the rate ratio would be "
                     f"{ipcw['estimate']:.2f} (95% interval {ipcw['ci95'][0]:.2f} to {ipcw['ci95'][1]:.2f}). The "
                     "reoffending rate is compared this way, as a yes/no measure cannot be scaled by a rate ratio; "
                     "the weights are unreliable when nearly everyone like some participants is referred.")
    unc = (m.get("uncorrected") or {}).get("rate_ratio") or {}
    if estimable(unc) and estimable(rr):
        lines.append(f"Without any correction (\"starting now versus not yet\": comparisons who start later keep "
                     f"their whole year as if untreated, so some of their offending is a participant's), the rate "
                     f"ratio would be {unc['estimate']:.2f} (95% interval {unc['ci95'][0]:.2f} to "
                     f"{unc['ci95'][1]:.2f}); corrected, it is {rr['estimate']:.2f}.")
    return lines


def and_list(items) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = [str(i).replace("_", " ") for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def money(value) -> str:
    if value is None:
        return "n/a"
    return f"-£{abs(value):,.0f}" if value < 0 else f"£{value:,.0f}"


def price_year_warnings(view: dict) -> list[str]:
    """A programme cost set against the cost of crime in another year's pounds (issue 39, finding 5:
    about 2010 prices against 2015/16 unit costs, without a word)."""
    costs = view.get("costs")
    if not costs or costs.get("programme_cost") is None:
        return []
    year, cost_year = costs["unit_costs"]["price_year"], view["study"].get("programme_cost_price_year")
    if cost_year is None:
        return [f"Warning: the programme cost's price year is not given, so it is set against the cost of crime in "
                f"{year} prices as if it were in them; give programme_cost_price_year, and put both in one price "
                "year with cost_uplift and cost_price_year."]
    if cost_year != year:
        return [f"Warning: the programme cost is in {cost_year} prices and the cost of crime in {year} prices, so the "
                "net benefit and benefit-cost ratio set pounds of different years against each other; put both in "
                "one price year with cost_uplift and cost_price_year."]
    return []


def savings_beside_the_effect(view: dict) -> list[str]:
    """Why savings whose interval excludes zero do not show a saving, when the headline's rate
    ratio cannot tell a reduction from no change (issue 39, finding 5: £420,470 saved, 95% CI
    £55,323 to £786,744, beside a rate ratio whose interval includes 1)."""
    m = view.get("matched") or {}
    ci = (m.get("rate_ratio") or {}).get("ci95")
    if not ci or None in ci or any(isinstance(v, str) for v in ci) or not ci[0] <= 1 <= ci[1]:
        return []
    return ["These savings and the headline are different estimates and here they disagree: the headline's rate "
            "ratio (per day at risk, the matched comparison as the model measures it) cannot tell a reduction from "
            "no change, while the savings count offences over each whole after-window, resampled over matched "
            "sets, with no allowance for days in custody or for comparisons who started the programme later. "
            "Trust the headline: the savings do not show that the programme saved money."]


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
    lines += price_year_warnings(view)
    if costs["savings_interval_includes_zero"]:
        lines.append("The interval for the savings includes zero: these data cannot show that the programme "
                     "saved any money.")
    else:
        lines += savings_beside_the_effect(view)
    if costs["programme_cost"] == 0:
        lines.append("The programme cost is given as zero, so there is no benefit-cost ratio.")
    uncosted = costs["unit_costs"]["uncosted_categories"]
    if uncosted:
        lines.append(f"Offences of {and_list(uncosted)} have no unit cost here and are left out of the savings, "
                     "which are therefore a lower bound.")
    return lines


def sensitivity_reading(view: dict) -> str | None:
    rows = [r for r in view.get("sensitivity") or [] if r.get("estimate") is not None]
    if len(rows) < 2:
        return None
    low, high = min(r["estimate"] for r in rows), max(r["estimate"] for r in rows)
    significant = sum(1 for r in rows if jdl.significant(r["p_value"]))
    return (f"Across {len(rows)} ways of matching the rate ratio ranged from {low:.2f} to {high:.2f}; "
            f"{significant} of {len(rows)} were statistically significant at 5%.")


def verdict(p_value: float | None) -> str:
    return "a significant difference" if significant(p_value) else "not a significant difference"


def before_after_sentence(view: dict) -> str:
    ba = view["before_after"]
    change, ci = ba["percent_change"], ba.get("percent_change_ci95")
    numbers = ci and None not in ci and not any(isinstance(v, str) for v in ci)
    interval = f", 95% CI {signed(ci[0], 1)}% to {signed(ci[1], 1)}%" if numbers else ""
    shown = signed_pct(change) if isinstance(change, str) else ("n/a" if change is None else f"{signed(change, 1)}%")
    return (f"Before/after: {count_text(view['cohort']['participants'])} participants committed "
            f"{count_text(ba['offences_before'])} offences in the year before and {count_text(ba['offences_after'])} "
            f"in the year after ({shown}{interval}).")


def cli_lines(view: dict) -> list[str]:
    """The headline the command line prints after an evaluation."""
    link = view["cohort"].get("linkage")
    lines = [f"People: {count_text(link['listed'])} submitted on the council's list, {count_text(link['identified'])} "
             f"identified in the police data ({count_text(link['identified_people'])} people), "
             f"{count_text(view['cohort']['participants'])} analysed."] if link else []
    lines.append(before_after_sentence(view))
    m = view.get("matched")
    if not m:
        lines += view.get("withheld") or [view.get("not_matched") or
                                          "This before/after fall is not an impact estimate: it includes regression to the mean."]
        return lines
    rr, cpc = m["rate_ratio"], m["comparison_percent_change"]
    if cpc is not None:
        lines.append(f"Matched comparison group ({count_text(m['comparison'])} similar people who had not started): "
                     f"their offending {'fell' if cpc < 0 else 'rose'} {abs(cpc):.1f}% over the same kind of period, "
                     "without the programme.")
    if not estimable(rr):
        lines.append("Impact: not estimable (no proven offences in one of the matched groups).")
        return lines + [f"WARNING: {warning}" for warning in m.get("warnings", [])]
    change, (lo, hi) = rate_ratio_pct(rr)
    lines.append(f"Impact: {exploratory(view, 'exploratory, ')}participants committed {effect_words(change)} "
                 f"proven offences per day at risk (95% CI "
                 f"{signed(lo)}% to {signed(hi)}%) than the matched comparison group: {verdict(rr['p_value'])} "
                 f"(rate ratio {rr['estimate']:.2f}, p = {rr['p_value']:.3g}){unattributable(view)}.")
    costs = view.get("costs")
    if costs:
        savings, net = costs["savings"], costs["net_benefit"]
        line = (f"Value: cost of crime avoided {money(savings['estimate'])} (95% CI {money(savings['ci95'][0])} to "
                f"{money(savings['ci95'][1])}, {costs['unit_costs']['price_year']} prices)")
        if net:
            line += (f"; net of the programme's cost {money(net['estimate'])} ({money(net['ci95'][0])} to "
                     f"{money(net['ci95'][1])})")
        lines.append(line + ("; the interval includes no saving." if costs["savings_interval_includes_zero"] else "."))
        lines += [warning.replace("Warning: ", "WARNING: ", 1) for warning in price_year_warnings(view)]
    check = view.get("falsification")
    if check and check.get("estimate") is not None:
        lo, hi = check["ci95"]
        lines.append(f"Falsification (offending in the two years before the selection year): rate ratio "
                     f"{check['estimate']:.2f} (95% CI {lo:.2f} to {hi:.2f})"
                     + (": participants differed then, which the records do not explain; see the report's "
                        "'How robust is it?'." if check.get("fired") else ": no difference, as selection on the "
                        "records predicts."))
    lines += [f"WARNING: {warning}" for warning in m.get("warnings", [])]
    return lines


def headline_markdown(view: dict) -> str:
    """The headline and a Justice Data Lab style table, in markdown, for Prefect's UI
    (takes the audience's view: in a partner view counts may be suppression markers)."""
    ba, m = view["before_after"], view.get("matched")
    change = ba["percent_change"]  # None when there were no offences before (or, for partners, none after rounding)
    change_text = signed_pct(change) if isinstance(change, str) or change is None else f"{signed(change, 1)}%"
    lines = [
        f"# {view['study']['name']}: reoffending evaluation",
        "",
        f"- **Before/after (no comparison group):** {count_text(ba['participants'])} participants, "
        f"{count_text(ba['offences_before'])} offences in the year before and {count_text(ba['offences_after'])} in "
        f"the year after ({change_text}).",
    ]
    lines += [f"- **Withheld:** {note}" for note in view.get("withheld") or []]
    if not m:
        return "\n".join(lines) + "\n"
    rr = m["rate_ratio"]

    def num(value, spec: str) -> str:  # a number not estimable (None) is said, not a crash
        return "n/a" if value is None else format(value, spec)

    comparison_change = m["comparison_percent_change"]
    lines += [
        f"- **Matched comparison group:** offending changed by {signed_pct(comparison_change)} without the programme.",
        f"- **Impact (rate ratio, participants vs comparison):** {num(rr['estimate'], '.2f')} "
        f"(95% CI {num((rr['ci95'] or [None])[0], '.2f')} to {num((rr['ci95'] or [None, None])[1], '.2f')}, "
        f"p = {num(rr['p_value'], '.3g')}).",
        "",
        "| Measure | Number in treatment group | Number in comparison group | Treatment rate | Comparison rate "
        "| Estimated difference | Significant difference? | p-value |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, key, percent in (("One-year proven reoffending rate", "reoffending_rate", True),
                                ("Proven reoffences per person", "frequency", False)):
        r = m[key]
        show = (lambda v: f"{100 * v:.0f}%") if percent else (lambda v: f"{v:.2f}")
        diff = (lambda v: f"{signed(100 * v)} points") if percent else (lambda v: f"{signed(v, 2)}")
        lines.append(f"| {label} | {count_text(m['treated'])} | {count_text(m['comparison'])} | {show(r['treated'])} | "
                     f"{show(r['comparison'])} | {diff(r['difference'])} | {'Yes' if significant(r['p_value']) else 'No'} "
                     f"| {r['p_value']:.2f} |")
    lines += [line for warning in m.get("warnings", []) for line in ("", f"**Warning:** {warning}")]
    return "\n".join(lines) + "\n"
