"""The falsification test's work shared with the steps before it (issue 16)."""

from __future__ import annotations

from evaluation.settings.model import StudySettings


def test_the_falsification_reuses_the_sensitivity_fit_and_gives_the_same_result(southampton, tmp_path, monkeypatch):
    """The falsification test matches without the prior-offence detail, on the same units
    and covariates as the sensitivity table's variant without it: the same propensity
    model was fitted twice (about a second each at national scale), and the control window
    counted by a second join of every unit with every offence. The window is now counted
    with the covariates and the sensitivity's fit is reused while every unit has a control
    window; the result is the one the test gives on its own, fitting afresh."""
    import evaluation.match.matcher as matcher
    import evaluation.match.sample as sample
    from evaluation.checks.falsification import run_falsification
    from evaluation.pipeline import steps
    from evaluation.pipeline.runner import run_steps

    settings = StudySettings(data_dir=southampton, out_dir=tmp_path / "out", work_dir=tmp_path / "work",
                             bootstrap_resamples=100)
    context = run_steps(settings, steps=[s for s in steps.STEPS if s.key in (
        "load", "validate", "cohorts", "match", "estimate", "sensitivity")])["context"]
    fits = []

    def counted(fit):
        def fit_and_count(*args, **kwargs):
            fits.append(kwargs.get("covariates"))
            return fit(*args, **kwargs)
        return fit_and_count

    monkeypatch.setattr(matcher, "fit_propensity", counted(matcher.fit_propensity))
    monkeypatch.setattr(sample, "fit_propensity", counted(sample.fit_propensity))
    shared = run_falsification(settings, context=context)
    assert fits == [] and shared.without_control_window == 0  # the sensitivity's fit, not another
    afresh = run_falsification(settings)  # as if it ran on its own: covariates read again, no fits kept
    assert len(fits) == 1 and list(fits[0]) == list(shared.covariates)
    assert shared.matched and shared.to_dict() == afresh.to_dict()
