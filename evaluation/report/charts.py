"""Static SVG charts (matplotlib, no JavaScript, no network), readable without statistics."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams.update({
    "svg.hashsalt": "reoffend",  # stable element ids, so the same results give the same SVG
    "svg.fonttype": "path",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
})

BLUE, GREY, GREEN, RED = "#1f5f8b", "#9aa5ad", "#2e7d32", "#c62828"


def _svg(fig) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog so it can sit inline in HTML


def headline_chart(naive_change: float | None, comparison_change: float, effect: float,
                   effect_ci: tuple[float, float]) -> str:
    """Three bars: the fall participants showed, the fall the comparison group showed anyway,
    and the difference the programme made (with its 95% interval). All in percent. A
    suppressed before/after change (None) is drawn as no bar, labelled "suppressed"."""
    fig, ax = plt.subplots(figsize=(7.2, 3.4))
    labels = [
        "Participants' offending\nbefore vs after\n(what a before/after\nstudy reports)",
        "Similar people who did\nnot take part\n(the fall that happens\nanyway)",
        "Difference the\nprogramme made\n(with 95% interval)",
    ]
    suppressed = naive_change is None
    values = [0.0 if suppressed else naive_change, comparison_change, effect]
    colours = [GREY, GREY, GREEN if effect_ci[1] < 0 else (RED if effect_ci[0] > 0 else BLUE)]
    bars = ax.bar(range(3), values, color=colours, width=0.6)
    ax.errorbar([2], [effect], yerr=[[effect - effect_ci[0]], [effect_ci[1] - effect]], fmt="none",
                ecolor="black", capsize=8, linewidth=1.5)
    for i, (bar, value) in enumerate(zip(bars[:2], values[:2])):
        if i == 0 and suppressed:
            ax.annotate("suppressed", (bar.get_x() + bar.get_width() / 2, 0), ha="center", va="bottom",
                        xytext=(0, 4), textcoords="offset points", color=GREY)
            continue
        ax.annotate(f"{value:+.0f}%", (bar.get_x() + bar.get_width() / 2, value), ha="center",
                    va="top" if value < 0 else "bottom", xytext=(0, -4 if value < 0 else 4),
                    textcoords="offset points", fontweight="bold")
    ax.annotate(f"{effect:+.0f}%\n({effect_ci[0]:+.0f}% to {effect_ci[1]:+.0f}%)", (2.33, effect), ha="left",
                va="center", fontweight="bold")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(range(3), labels)
    ax.set_ylabel("change in offending (%)")
    low = min(min(values), effect_ci[0])
    ax.set_ylim(min(low * 1.25, -10), max(10, effect_ci[1] * 1.3, 0))
    ax.set_xlim(-0.6, 2.9)
    ax.set_title("How much of the fall did the programme cause?", loc="left", fontweight="bold")
    return _svg(fig)


def love_plot(balance_rows: list[dict], threshold: float = 0.1) -> str:
    """Standardised mean differences before and after matching, one row per covariate (rows
    withheld by disclosure control, with no SMD, are left out)."""
    balance_rows = [r for r in balance_rows if r.get("smd_before") is not None and r.get("smd_after") is not None]
    rows = [r for r in balance_rows if r["covariate"] != "distance"] + [r for r in balance_rows if r["covariate"] == "distance"]
    fig, ax = plt.subplots(figsize=(6.5, 0.32 * len(rows) + 1.2))
    y = list(range(len(rows)))[::-1]
    ax.scatter([abs(r["smd_before"] or 0) for r in rows], y, color=GREY, label="before matching", zorder=3)
    ax.scatter([abs(r["smd_after"] or 0) for r in rows], y, color=BLUE, label="after matching", zorder=3)
    ax.axvline(threshold, color=RED, linestyle="--", linewidth=1, label=f"|SMD| = {threshold}")
    ax.set_yticks(y, [r["covariate"].replace("_", " ") for r in rows])
    ax.set_xlabel("absolute standardised mean difference (treated SD, MatchIt convention)")
    ax.legend(loc="lower right", frameon=False)
    ax.set_title("Covariate balance", loc="left", fontweight="bold")
    return _svg(fig)


def km_chart(curves: dict) -> str:
    """Kaplan-Meier curves of time to first proven reoffence."""
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    for name, colour in (("treated", BLUE), ("comparison", GREY)):
        curve = curves[name]
        days = [0, *curve["days"]]
        surv = [1.0, *curve["survival"]]
        ax.step(days, [100 * s for s in surv], where="post", color=colour,
                label="participants" if name == "treated" else "matched comparison group")
    ax.set_xlabel("days since the index date")
    ax.set_ylabel("% not yet reoffended")
    ax.set_ylim(0, 101)
    ax.legend(frameon=False)
    ax.set_title("Time to first proven reoffence", loc="left", fontweight="bold")
    return _svg(fig)
