"""External data no one here wrote: the NSW job-training experiment (Dehejia-Wahba sample)
with observational CPS controls, from the causaldata package. The experimental difference
in means, $1,794, is the benchmark a matched estimate on CPS controls should approach;
the naive difference is about -$8,500."""

from __future__ import annotations

import json

import polars as pl
import pytest

from cli.main import main

EXPERIMENTAL = 1794.0
COVARIATES = "age,educ,black,hisp,marr,nodegree,re74,re75"


@pytest.fixture(scope="module")
def nsw_cps(tmp_path_factory):
    from causaldata import cps_mixtape, nsw_mixtape

    nsw = pl.from_pandas(nsw_mixtape.load_pandas().data)
    cps = pl.from_pandas(cps_mixtape.load_pandas().data)
    # the experiment's own estimate, from its own control group
    exp_diff = nsw.group_by("treat").agg(pl.col("re78").mean()).sort("treat")["re78"].diff()[1]
    assert exp_diff == pytest.approx(EXPERIMENTAL, abs=1)
    path = tmp_path_factory.mktemp("nsw") / "nsw_cps.csv"
    pl.concat([nsw.filter(pl.col("treat") == 1), cps]).write_csv(path)
    return path


def run_match(path, capsys, *extra):
    assert main(["match", "--data", str(path), "--treatment", "treat", "--covariates", COVARIATES,
                 "--outcome", "re78", "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_matched_estimate_approaches_the_experimental_benchmark(nsw_cps, capsys):
    out = run_match(nsw_cps, capsys)
    effect = out["effect"]
    print(f"\nNSW vs CPS: naive {out['naive_difference']:,.0f}; matched {effect['estimate']:,.0f} "
          f"(95% CI {effect['ci95'][0]:,.0f} to {effect['ci95'][1]:,.0f}); experimental {EXPERIMENTAL:,.0f}")
    assert out["naive_difference"] == pytest.approx(-8500, abs=100)
    assert effect["ci95"][0] <= EXPERIMENTAL <= effect["ci95"][1]
    assert abs(effect["estimate"] - EXPERIMENTAL) < 500
    assert out["treated"] == 185
    assert {"covariate", "smd_before", "smd_after", "variance_ratio_after"} <= set(out["balance"][0])
    # the tool says plainly that balance is not perfect on these data
    assert out["imbalanced_after"]


def test_matchit_default_settings_also_cover_the_benchmark(nsw_cps, capsys):
    out = run_match(nsw_cps, capsys, "--distance", "probability", "--caliper", "none")
    assert out["effect"]["ci95"][0] <= EXPERIMENTAL <= out["effect"]["ci95"][1]


def test_match_reports_bad_columns_clearly(nsw_cps, capsys):
    assert main(["match", "--data", str(nsw_cps), "--treatment", "treat", "--covariates", "age,nope",
                 "--outcome", "re78"]) == 2
    assert "no column 'nope'" in capsys.readouterr().err
