"""The library's charts: a forest plot per programme type (each study, the pooled rate
ratio as a diamond and the prediction interval) and, from ten studies, a funnel plot."""

from __future__ import annotations

import math

import numpy as np

from evaluation.library.pooling import PooledResult
from evaluation.report.charts import BLUE, GREEN, GREY, RED, WIDTH, Figure, _svg, plt


def _ticks(lo: float, hi: float) -> list[float]:
    return [t for t in (0.25, 0.33, 0.5, 0.67, 0.8, 1, 1.25, 1.5, 2, 3, 4) if lo <= t <= hi]


def forest(pooled: PooledResult) -> Figure:
    studies = pooled.studies
    n = len(studies)
    fig, ax = plt.subplots(figsize=(WIDTH, 0.32 * n + 1.6))
    y = np.arange(n)[::-1] + 2
    lows = [s.ci_low for s in studies] + ([pooled.prediction95[0]] if pooled.prediction95 else [])
    highs = [s.ci_high for s in studies] + ([pooled.prediction95[1]] if pooled.prediction95 else [])
    lo_lim, hi_lim = min(min(lows), 0.8) / 1.1, max(max(highs), 1.25) * 1.1
    weights = pooled.weights or (1.0,) * n
    for yi, study, w in zip(y, studies, weights):
        ax.plot([study.ci_low, study.ci_high], [yi, yi], color=GREY, linewidth=1.4)
        ax.plot([study.rate_ratio], [yi], "s", color=BLUE, markersize=4 + 10 * math.sqrt(w))
        ax.annotate(f"{study.rate_ratio:.2f} ({study.ci_low:.2f} to {study.ci_high:.2f})", (hi_lim, yi), xytext=(6, 0),
                    textcoords="offset points", va="center", fontsize=8, annotation_clip=False)
    labels = [s.label if len(s.label) <= 46 else s.label[:45] + "…" for s in studies]
    if pooled.rate_ratio is not None and pooled.k >= 2:
        lo, hi = pooled.ci95
        colour = GREEN if hi < 1 else RED if lo > 1 else BLUE
        ax.fill([lo, pooled.rate_ratio, hi, pooled.rate_ratio], [1, 1.3, 1, 0.7], color=colour)
        if pooled.prediction95:
            ax.plot(list(pooled.prediction95), [0.4, 0.4], color=colour, linewidth=1, linestyle="--")
        ax.annotate(f"{pooled.rate_ratio:.2f} ({lo:.2f} to {hi:.2f})", (hi_lim, 1), xytext=(6, 0),
                    textcoords="offset points", va="center", fontsize=8, fontweight="bold", annotation_clip=False)
        ax.set_yticks([*y, 1, 0.4], [*labels, "Pooled (random effects)", "prediction interval"])
    else:
        ax.set_yticks(list(y), labels)
    ax.axvline(1, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlim(lo_lim, hi_lim)
    ticks = _ticks(lo_lim, hi_lim)
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.set_xlabel("rate ratio of proven reoffences (below 1: fewer among participants)")
    ax.set_title(f"{pooled.programme_type}: {pooled.k} evaluation{'s' if pooled.k != 1 else ''}")
    alt = (f"Forest plot of {pooled.k} evaluations of {pooled.programme_type} programmes"
           + (f"; pooled rate ratio {pooled.rate_ratio:.2f} (95% interval {pooled.ci95[0]:.2f} to "
              f"{pooled.ci95[1]:.2f})." if pooled.rate_ratio is not None and pooled.k >= 2 else "."))
    caption = ("Each square is one evaluation (bigger: more weight), its line the 95% interval. The diamond is the "
               "pooled estimate; the dashed line is where a new programme of this type would probably land.")
    return Figure(_svg(fig, alt), caption, alt)


def funnel(pooled: PooledResult) -> Figure:
    se = np.array([s.se_log_rate_ratio for s in pooled.studies])
    effect = np.array([s.log_rate_ratio for s in pooled.studies])
    mu = math.log(pooled.rate_ratio)
    fig, ax = plt.subplots(figsize=(WIDTH * 0.75, 3.4))
    top = se.max() * 1.1
    grid = np.linspace(0, top, 50)
    ax.plot(np.exp(mu - 1.96 * grid), grid, color=GREY, linestyle="--", linewidth=1)
    ax.plot(np.exp(mu + 1.96 * grid), grid, color=GREY, linestyle="--", linewidth=1)
    ax.axvline(math.exp(mu), color=BLUE, linewidth=1)
    ax.scatter(np.exp(effect), se, color=BLUE, zorder=3)
    ax.set_xscale("log")
    ax.set_ylim(top, 0)
    ax.set_xlabel("rate ratio")
    ax.set_ylabel("standard error (log rate ratio)")
    ax.set_title("Funnel plot")
    alt = f"Funnel plot of {pooled.k} evaluations around the pooled rate ratio {pooled.rate_ratio:.2f}."
    caption = ("Small studies (lower down) should scatter evenly either side of the pooled line; a gap on one side "
               "suggests that results of one kind are missing (publication bias) or that small studies differ.")
    return Figure(_svg(fig, alt), caption, alt)
