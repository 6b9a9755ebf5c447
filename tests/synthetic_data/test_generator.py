"""The generator: determinism, the effect it puts in, and realistic behaviour."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import polars as pl

from synthetic_data import SOUTHAMPTON, generate

SMALL = replace(SOUTHAMPTON, people=5000, participants=120)


def digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_gives_byte_identical_files(tmp_path):
    generate(SMALL, tmp_path / "a", seed=7)
    generate(SMALL, tmp_path / "b", seed=7)
    generate(SMALL, tmp_path / "c", seed=8)
    a, b, c = digests(tmp_path / "a"), digests(tmp_path / "b"), digests(tmp_path / "c")
    assert a == b
    assert a["offences.csv"] != c["offences.csv"]


def test_parquet_output_is_deterministic_too(tmp_path):
    small = replace(SMALL, file_format="parquet")
    generate(small, tmp_path / "a", seed=3)
    generate(small, tmp_path / "b", seed=3)
    assert digests(tmp_path / "a") == digests(tmp_path / "b")


def test_truth_records_both_potential_outcomes(tmp_path):
    truth = generate(replace(SMALL, effect=0.3), tmp_path / "t", seed=1).truth
    assert truth["participants"] == 120
    assert truth["offences_after_treated"] <= truth["offences_after_untreated"]
    # thinning each offence with probability 0.3 keeps about 70% of them
    assert 0.55 < truth["rate_ratio"] < 0.85
    zero = generate(replace(SMALL, effect=0.0), tmp_path / "z", seed=1).truth
    assert zero["offences_after_treated"] == zero["offences_after_untreated"]
    assert json.loads((tmp_path / "z" / "truth.json").read_text())["effect"] == 0.0


def test_offending_declines_with_age_and_varies_between_people(tmp_path):
    generate(SMALL, tmp_path / "g", seed=2)
    people = pl.read_csv(tmp_path / "g" / "people.csv")
    offences = pl.read_csv(tmp_path / "g" / "offences.csv", try_parse_dates=True)
    per_person = offences.group_by("person_id").len()
    # heavy concentration: the busiest tenth of offenders commit far more than a tenth of offences
    counts = per_person["len"].sort(descending=True)
    assert counts.head(len(counts) // 10).sum() / counts.sum() > 0.3
    ages = offences.join(people, on="person_id").with_columns(
        age=pl.col("offence_date").dt.year() - pl.col("birth_year"))
    young = ages.filter(pl.col("age").is_between(18, 24)).height
    old = ages.filter(pl.col("age").is_between(40, 46)).height
    assert young > 2 * old
    assert ages["age"].min() >= 10


def test_an_unrecorded_trait_raises_referral_and_is_in_no_file(tmp_path):
    from synthetic_data import UnrecordedTrait

    trait = UnrecordedTrait(share=0.3, referral_multiplier=5.0, offending_multiplier=0.5)
    result = generate(replace(SOUTHAMPTON, people=20_000, participants=400, trait=trait), tmp_path / "t", seed=3)
    truth = result.truth
    assert abs(truth["people_with_unrecorded_trait"] - 0.3) < 0.02
    # referred far more often than their share, though their offending is lower
    assert truth["participants_with_unrecorded_trait"] > 0.4
    assert truth["settings"]["trait"] == {"share": 0.3, "referral_multiplier": 5.0, "offending_multiplier": 0.5}
    header = (tmp_path / "t" / "people.csv").read_text().splitlines()[0]
    assert "trait" not in header
    off = generate(replace(SOUTHAMPTON, people=20_000, participants=400), tmp_path / "o", seed=3).truth
    assert off["participants_with_unrecorded_trait"] == 0.0 and off["settings"]["trait"] is None


def test_nobody_offends_while_in_custody(tmp_path):
    """The evaluation divides offences by days out of custody; the generator used to let
    people go on offending inside a custodial sentence, so more custody looked like more
    offending."""
    import polars as pl

    scenario = replace(SOUTHAMPTON, people=6_000, participants=150)
    generate(scenario, tmp_path / "d", seed=4)
    offences = pl.read_csv(tmp_path / "d" / "offences.csv", try_parse_dates=True)
    custody = pl.read_csv(tmp_path / "d" / "custody.csv", try_parse_dates=True)
    assert custody.height > 100
    inside = (offences.join(custody, on="person_id")
              .filter((pl.col("offence_date") >= pl.col("custody_start"))
                      & (pl.col("custody_end").is_null() | (pl.col("offence_date") < pl.col("custody_end")))))
    assert inside.height == 0
