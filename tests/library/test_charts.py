"""The library's charts (library/charts.py): a forest plot whose every study and pooled
value is drawn and said in its alt text, and a funnel plot centred on the pooled estimate."""

from __future__ import annotations

from evaluation.library.charts import forest, funnel
from evaluation.library.pooling import pool
from tests.library.test_library import row


def test_the_forest_plot_shows_each_study_and_the_pooled_estimate_in_words_and_marks():
    studies = [row("a", 0.7, 0.1), row("b", 0.9, 0.15), row("c", 1.1, 0.2)]
    pooled = pool("employment", studies)
    figure = forest(pooled)
    assert f"pooled rate ratio {pooled.rate_ratio:.2f}" in figure.alt and "3 evaluations" in figure.alt
    for study in studies:  # each study's estimate and interval written beside its square
        assert f"{study.rate_ratio:.2f} ({study.ci_low:.2f} to {study.ci_high:.2f})" in figure.svg
    assert figure.svg.count("Pooled (random effects)") == 1 and "prediction interval" in figure.svg


def test_a_single_study_has_no_diamond_and_a_long_hostile_name_is_cut_and_kept_as_text():
    name = "<script>alert(1)</script>" + "x" * 80
    figure = forest(pool("employment", [row(name, 0.8, 0.1)]))
    assert "Pooled (random effects)" not in figure.svg and "<script>" not in figure.svg
    assert "1 evaluation" in figure.alt


def test_the_funnel_is_centred_on_the_pooled_estimate():
    pooled = pool("employment", [row(f"s{i}", 0.8 + 0.02 * i, 0.05 + 0.01 * i) for i in range(10)])
    figure = funnel(pooled)
    assert "<svg" in figure.svg
    assert f"{pooled.rate_ratio:.2f}" in figure.alt
