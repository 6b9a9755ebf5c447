"""Static SVG charts (matplotlib, no JavaScript, no network), readable without statistics.

Each chart function returns a :class:`Figure`: the SVG (with its alt text as ``<title>``
and ``aria-label``), a one-line caption saying what to look for, and the alt text. The
words on the charts come from :mod:`evaluation.report.wording` (covariate labels, effect
words), the same place the tables and sentences take them from.
"""

from __future__ import annotations

import html
import io
import math
import re
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from evaluation.report.wording import covariate_label, effect_words, money, signed  # noqa: E402

plt.rcParams.update({
    "svg.hashsalt": "reoffend",  # stable element ids, so the same results give the same SVG
    "svg.fonttype": "path",
    "font.size": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
})

BLUE, GREY, GREEN, RED, LIGHT = "#1f5f8b", "#9aa5ad", "#2e7d32", "#c62828", "#cfd8dc"
#: Charts are drawn at most this wide (inches): an A4 page less 15 mm margins is 7.09 in.
WIDTH = 7.0


@dataclass(frozen=True)
class Figure:
    """One chart: inline SVG, a caption (what to look for) and alt text."""

    svg: str
    caption: str
    alt: str


def _svg(fig, alt: str) -> str:
    """The figure as inline SVG. Every text in it is drawn literally: names come from data
    and settings (a council called ``$\\foo{$``), and matplotlib would otherwise parse text
    between dollar signs as mathematics and fail on it. (No chart here uses mathtext.)"""
    from matplotlib.text import Text

    for text in fig.findobj(Text):
        text.set_parse_math(False)
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg"):]  # drop the XML prolog so it can sit inline in HTML
    label = html.escape(alt, quote=True)
    text = re.sub(r"<svg\b", f'<svg role="img" aria-label="{label}"', text, count=1)
    return re.sub(r"(<svg[^>]*>)", rf"\1<title>{label}</title>", text, count=1)


def _colour(lo: float, hi: float, reference: float) -> str:
    return GREEN if hi < reference else RED if lo > reference else BLUE


# --- the headline -------------------------------------------------------------------------


def headline_chart(naive_change: float | None, comparison_change: float, effect: float,
                   effect_ci: tuple[float, float]) -> Figure:
    """Left: the before/after change of participants and of the comparison group (percent
    changes). Right, on its own axis: the programme's effect, the percent difference in
    offences per day at risk (the rate ratio less 1), with its 95% interval. A suppressed
    before/after change (None) has no bar and says so."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(WIDTH, 3.0), gridspec_kw={"width_ratios": [1.6, 1], "wspace": 0.45})
    suppressed = naive_change is None
    values = [0.0 if suppressed else naive_change, comparison_change]
    bars = left.bar([0, 1], values, color=[GREY, LIGHT], edgecolor=[GREY, GREY], width=0.55)
    for i, (bar, value) in enumerate(zip(bars, values)):
        x = bar.get_x() + bar.get_width() / 2
        if i == 0 and suppressed:
            left.annotate("suppressed", (x, 0), ha="center", va="bottom", xytext=(0, 4), textcoords="offset points")
            continue
        left.annotate(f"{signed(value)}%", (x, value), ha="center", va="top" if value < 0 else "bottom",
                      xytext=(0, -4 if value < 0 else 4), textcoords="offset points", fontweight="bold")
    left.axhline(0, color="black", linewidth=0.8)
    left.set_xticks([0, 1], ["Participants", "Similar people\nwho did not take part"])
    left.set_xlim(-0.6, 1.6)
    low = min(values + [0])
    left.set_ylim(min(low * 1.3, -10), max(10, max(values) * 1.3))
    left.set_ylabel("change in offences, year before\nto year after (%)")
    left.set_title("1. Both groups offended less afterwards")

    colour = _colour(*effect_ci, 0.0)
    right.errorbar([0], [effect], yerr=[[effect - effect_ci[0]], [effect_ci[1] - effect]], fmt="o", color=colour,
                   ecolor=colour, capsize=10, markersize=8, linewidth=2)
    right.axhline(0, color="black", linewidth=0.8)
    right.annotate(f"{effect_words(effect)}\n95% interval\n{signed(effect_ci[0])}% to {signed(effect_ci[1])}%", (0, effect),
                   xytext=(14, 0), textcoords="offset points", ha="left", va="center", fontweight="bold",
                   bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none"})
    span = max(abs(effect_ci[0]), abs(effect_ci[1]), 10) * 1.35
    right.set_ylim(-span, span)
    right.set_xlim(-0.5, 1.6)
    right.set_xticks([])
    right.spines["bottom"].set_visible(False)
    right.set_ylabel("participants vs similar people:\ndifference in offences per day (%)")
    right.set_title("2. The programme's effect")
    alt = (f"Participants' offences changed by {'a suppressed amount' if suppressed else f'{signed(naive_change)}%'} "
           f"and similar people's by {signed(comparison_change)}%; the programme's effect is {effect_words(effect)} "
           f"offences per day at risk (95% interval {signed(effect_ci[0])}% to {signed(effect_ci[1])}%).")
    caption = ("Look at the right-hand panel: it is the effect. The left shows why a before/after fall alone misleads: "
               "similar people who did not take part fell too. If the interval crosses zero, the data cannot tell a "
               "reduction from no change.")
    return Figure(_svg(fig, alt), caption, alt)


# --- matching -----------------------------------------------------------------------------


def overlap_chart(overlap: dict) -> Figure:
    """The propensity score's distribution for participants (above the line) and
    comparisons (below), as shares of each group, before and after matching."""
    edges = np.asarray(overlap["edges"])
    fig, axes = plt.subplots(1, 2, figsize=(WIDTH, 2.6), sharey=True, gridspec_kw={"wspace": 0.08})
    for ax, stage, title in ((axes[0], "before", "Before matching"), (axes[1], "after", "After matching")):
        t, c = np.asarray(overlap[f"treated_{stage}"]), np.asarray(overlap[f"comparison_{stage}"])
        ts, cs = t / max(t.sum(), 1e-12), c / max(c.sum(), 1e-12)
        # one filled outline per group (the same picture as a bar per bin, drawn in half the time)
        ax.stairs(100 * ts, edges, fill=True, color=BLUE, label="participants")
        ax.stairs(-100 * cs, edges, fill=True, color=GREY, label="comparison group")
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_title(title)
        ax.set_xlabel(f"propensity score ({overlap['scale']})")
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _p: f"{abs(v):.0f}"))
    axes[0].set_ylabel("% of the group")
    axes[1].legend(loc="lower right", frameon=False, fontsize=8.5)
    alt = ("Histograms of the propensity score: before matching the comparison pool sits mostly at lower scores than "
           "the participants; after matching the two groups' distributions are drawn to the same shape.")
    caption = ("Look for the lower (comparison) shape to mirror the upper (participants) one after matching. Participants "
               "in a band where no comparison exists cannot be matched well.")
    return Figure(_svg(fig, alt), caption, alt)


def love_plot(balance_rows: list[dict], *, distance: str, threshold: float = 0.1) -> Figure:
    """Absolute standardised mean differences before and after matching, one row per
    covariate (rows withheld by disclosure control, with no SMD, are left out)."""
    balance_rows = [r for r in balance_rows if r.get("smd_before") is not None and r.get("smd_after") is not None]
    rows = [r for r in balance_rows if r["covariate"] != "distance"] + [r for r in balance_rows if r["covariate"] == "distance"]
    fig, ax = plt.subplots(figsize=(WIDTH, 0.24 * len(rows) + 1.3))
    y = list(range(len(rows)))[::-1]
    ax.scatter([abs(r["smd_before"]) for r in rows], y, color=GREY, label="before matching", zorder=3)
    ax.scatter([abs(r["smd_after"]) for r in rows], y, color=BLUE, label="after matching", zorder=3)
    ax.axvline(threshold, color=RED, linestyle="--", linewidth=1, label=f"|SMD| = {threshold} (the usual limit)")
    ax.set_yticks(y, [covariate_label(r["covariate"], distance) for r in rows])
    ax.set_xlabel("absolute standardised mean difference (difference in means / participants' SD)")
    ax.set_xlim(left=0)
    ax.legend(loc="upper center", bbox_to_anchor=(0.4, -0.22 - 0.3 / max(len(rows), 1)), ncol=3, frameon=False,
              fontsize=8.5)
    ax.set_title("How alike are the groups on each recorded characteristic?")
    worst = max(rows, key=lambda r: abs(r["smd_after"])) if rows else None
    alt = ("Dot plot of standardised mean differences for each covariate before (grey) and after (blue) matching"
           + (f"; the largest after matching is {abs(worst['smd_after']):.2f}, for "
              f"{covariate_label(worst['covariate'], distance)}." if worst else "."))
    caption = (f"Blue dots left of the red line (|SMD| < {threshold}) mean the groups are alike on that characteristic "
               "after matching; the table below also flags unequal spreads (variance ratios).")
    return Figure(_svg(fig, alt), caption, alt)


# --- outcomes -----------------------------------------------------------------------------


def _at(days: list[float], values: list[float], day: float, before: float) -> float:
    """A step function's value at ``day`` (``before`` until its first step)."""
    i = int(np.searchsorted(np.asarray(days), day, side="right"))
    return before if i == 0 else values[i - 1]


def _at_risk(curve: dict, day: float) -> float | None:
    """Number at risk at ``day``: n_risk of the first step at or after it."""
    days = np.asarray(curve["days"])
    i = int(np.searchsorted(days, day, side="left"))
    return None if i >= len(days) else curve["at_risk"][i]


def km_chart(curves: dict, *, after_days: int) -> Figure:
    """Kaplan-Meier curves of time to first proven reoffence with pointwise 95% bands and
    the numbers at risk below."""
    fig, ax = plt.subplots(figsize=(WIDTH, 3.2))
    names = (("treated", BLUE, "participants"), ("comparison", GREY, "matched comparison group"))
    for name, colour, label in names:
        curve = curves[name]
        days = [0, *curve["days"]]
        ax.step(days, [100 * s for s in [1.0, *curve["survival"]]], where="post", color=colour, label=label)
        if curve.get("lower"):
            ax.fill_between(days, [100 * s for s in [1.0, *curve["lower"]]], [100 * s for s in [1.0, *curve["upper"]]],
                            step="post", color=colour, alpha=0.18, linewidth=0)
    ax.set_xlabel("days since the index date")
    ax.set_ylabel("% not yet reoffended")
    ax.set_ylim(0, 101)
    ax.set_xlim(0, after_days)
    ax.legend(frameon=False, loc="upper right")
    ax.set_title("Time to first proven reoffence (shaded: 95% interval)")
    ticks = [d for d in (0, 90, 180, 270, 365) if d <= after_days]
    ax.set_xticks(ticks)
    counts = {(name, d): _at_risk(curves[name], d) for name, _c, _l in names for d in ticks}
    # the labels end left of the first column of numbers, which is centred on day 0 ("participants588")
    widest = max(len("-" if v is None else f"{v:,.0f}") for v in counts.values())
    gap = -(8 + 2.6 * widest)
    ax.annotate("Number at risk", (0, 0), xycoords="axes fraction", xytext=(gap, -38), textcoords="offset points",
                ha="right", va="top", fontsize=8, fontweight="bold")
    for k, (name, colour, label) in enumerate(names):
        ax.annotate(label, (0, 0), xycoords="axes fraction", xytext=(gap, -50 - 11 * k), textcoords="offset points",
                    ha="right", va="top", fontsize=8, color=colour)
        for d in ticks:
            value = counts[(name, d)]
            ax.annotate("-" if value is None else f"{value:,.0f}", (d, 0), xycoords=("data", "axes fraction"),
                        xytext=(0, -50 - 11 * k), textcoords="offset points", ha="center", va="top", fontsize=8,
                        color=colour)
    one_year = {name: 100 * _at(curves[name]["days"], curves[name]["survival"], after_days - 1, 1.0)
                for name, _c, _l in names}
    alt = (f"Kaplan-Meier curves: after {after_days} days {one_year['treated']:.0f}% of participants and "
           f"{one_year['comparison']:.0f}% of the comparison group had not reoffended.")
    caption = (f"After a year {one_year['treated']:.0f}% of participants and {one_year['comparison']:.0f}% of the "
               "comparison group had not reoffended. Where the shaded bands overlap, the data cannot tell the groups "
               "apart.")
    return Figure(_svg(fig, alt), caption, alt)


def before_after_chart(rows: list[dict]) -> Figure:
    """Offences before and after the start by offence group; a suppressed count (a
    marker such as "<5") has no bar and shows its marker."""
    fig, ax = plt.subplots(figsize=(WIDTH, 0.45 * len(rows) + 1.1))
    y = np.arange(len(rows))[::-1]
    for offset, key, colour, label in ((0.2, "offences_before", GREY, "year before"),
                                       (-0.2, "offences_after", BLUE, "year after")):
        for yi, row in zip(y, rows):
            value = row[key]
            if isinstance(value, (int, float)):
                ax.barh(yi + offset, value, height=0.38, color=colour)
                ax.annotate(f"{value:,.0f}", (value, yi + offset), xytext=(3, 0), textcoords="offset points",
                            va="center", fontsize=8)
            else:
                ax.annotate(f"{value} (suppressed)", (0, yi + offset), xytext=(3, 0), textcoords="offset points",
                            va="center", fontsize=8, color=GREY)
        ax.barh([], [], color=colour, label=label)
    ax.set_yticks(y, [r["group"].replace("_", " ") for r in rows])
    ax.set_xlabel("proven offences")
    ax.legend(frameon=False, loc="lower right")
    ax.set_title("Offences before and after the start, by offence group")
    alt = "Bar chart of participants' proven offences in the year before and the year after the start, by offence group."
    caption = ("Compare each grey bar with the blue one below it. These are participants only: part of every fall "
               "would have happened anyway.")
    return Figure(_svg(fig, alt), caption, alt)


def forest_plot(rows: list[dict], *, label_key, title: str, caption: str, what: str) -> Figure:
    """Rate ratios with 95% intervals, one row each, on a log scale with a line at 1.
    ``label_key`` gives each row's label; rows without an estimate say why in grey."""
    fig, ax = plt.subplots(figsize=(WIDTH, 0.34 * len(rows) + 1.1))
    y = np.arange(len(rows))[::-1]
    shown = [r for r in rows if r.get("estimate") is not None and r.get("ci95") and None not in r["ci95"]]
    lows = [r["ci95"][0] for r in shown] or [0.5]
    highs = [r["ci95"][1] for r in shown] or [2.0]
    lo_lim, hi_lim = min(min(lows), 0.9) / 1.15, max(max(highs), 1.1) * 1.15
    for yi, row in zip(y, rows):
        if row in shown:
            lo, hi = row["ci95"]
            colour = _colour(lo, hi, 1.0)
            ax.plot([lo, hi], [yi, yi], color=colour, linewidth=2)
            ax.plot([row["estimate"]], [yi], "o", color=colour, markersize=6 if yi != y[0] else 8)
            ax.annotate(f"{row['estimate']:.2f} ({lo:.2f} to {hi:.2f})", (hi_lim, yi), xytext=(6, 0),
                        textcoords="offset points", va="center", fontsize=8, annotation_clip=False)
        else:
            ax.annotate("not estimated", (hi_lim, yi), xytext=(6, 0), textcoords="offset points", va="center",
                        fontsize=8, color=GREY, annotation_clip=False)
    ax.axvline(1, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlim(lo_lim, hi_lim)
    ticks = [t for t in (0.25, 0.5, 0.67, 0.8, 1, 1.25, 1.5, 2, 4) if lo_lim <= t <= hi_lim]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_yticks(y, [_wrap(label_key(r), 48) for r in rows])
    ax.set_xlabel("rate ratio (below 1: fewer offences among participants)")
    ax.set_title(title)
    alt = f"Forest plot of {what}: " + "; ".join(
        f"{label_key(r)} {r['estimate']:.2f}" for r in shown[:12]) + ("" if shown else "none estimated")
    return Figure(_svg(fig, alt), caption, alt)


def _wrap(text: str, width: int) -> str:
    words, lines, line = str(text).split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines[:3])


def falsification_chart(headline_rr: dict, check: dict) -> Figure:
    """The headline rate ratio beside the falsification test's, which should be 1."""
    rows = [
        {"label": "Headline: the year after the start", **headline_rr},
        {"label": f"Falsification: the {check['control_days'] // 365} years before the selection year (should be 1)",
         "estimate": check["estimate"], "ci95": check["ci95"]},
    ]
    fired = check.get("fired")
    caption = ("The lower row compares the groups in years the programme cannot have affected: its interval should "
               "cross 1. " + ("Here it does not, so the groups differed in a way the records do not show."
                              if fired else "Here it does, as it should when the comparison group is sound."))
    return forest_plot(rows, label_key=lambda r: r["label"], title="Falsification test", caption=caption,
                       what="the headline and the falsification test")


def cost_chart(costs: dict) -> Figure:
    """The cost of crime avoided and the net benefit with their 95% intervals, beside the
    programme's cost (pounds, thousands)."""
    rows = [("Cost of crime avoided", costs["savings"], GREEN)]
    if costs.get("programme_cost") is not None and costs.get("net_benefit"):
        rows.append(("Programme cost", {"estimate": costs["programme_cost"], "ci95": None}, GREY))
        rows.append(("Net benefit (avoided less cost)", costs["net_benefit"], BLUE))
    fig, ax = plt.subplots(figsize=(WIDTH, 0.5 * len(rows) + 1.0))
    y = np.arange(len(rows))[::-1]
    for yi, (_label, value, colour) in zip(y, rows):
        est = value["estimate"] / 1000
        ax.barh(yi, est, height=0.5, color=colour, alpha=0.35 if value.get("ci95") else 0.8)
        if value.get("ci95"):
            lo, hi = (v / 1000 for v in value["ci95"])
            ax.errorbar([est], [yi], xerr=[[est - lo], [hi - est]], fmt="o", color=colour, capsize=6, linewidth=1.6)
            text = f"{money(value['estimate'])} ({money(value['ci95'][0])} to {money(value['ci95'][1])})"
        else:
            text = money(value["estimate"])
        ax.annotate(text, (0, yi + 0.3), xycoords=("axes fraction", "data"), fontsize=8, va="bottom")
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, [label for label, _v, _c in rows])
    ax.set_ylim(-0.6, len(rows) - 0.1)
    ax.set_xlabel(f"£ thousands ({costs['unit_costs']['price_year']} prices)")
    ax.set_title("Is it worth the money?")
    alt = "Cost of crime avoided " + money(costs["savings"]["estimate"]) + (
        f", programme cost {money(costs['programme_cost'])}, net benefit {money(costs['net_benefit']['estimate'])}"
        if len(rows) > 1 else "") + ", with 95% intervals."
    caption = ("Look at whether each interval crosses zero: if the interval for the cost of crime avoided does, the "
               "data cannot show that the programme saved money.")
    return Figure(_svg(fig, alt), caption, alt)


def finite_interval(record: dict | None) -> bool:
    return bool(record) and record.get("estimate") is not None and bool(record.get("ci95")) and all(
        isinstance(v, (int, float)) and math.isfinite(v) for v in record["ci95"])
