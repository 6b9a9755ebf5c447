"""A vectorised generator of anonymised offender records with a known programme effect.

The model, in brief (docs/methodology.md has the full account):

- Each person has an underlying yearly offending rate drawn from a gamma distribution
  (people differ a lot), which declines with age after the late teens.
- Offending comes in spells: each month a person is in a busy or a quiet state (a
  two-state Markov chain), and the busy state multiplies their rate.
- Offences are Poisson counts per month, spread over the month's days; each is proven
  (conviction or caution) after a lag, and only offences proven by the extract date are
  in the data, as in a real police extract. Nobody offends while serving a custodial
  sentence: offences dated inside one are not committed.
- Referral to a programme follows a conviction and is more likely after a busy year, for
  the young and for MAPPA/PPO cases. Referral therefore catches people at a peak, and a
  naive before/after comparison shows a large fall even with no programme effect
  (regression to the mean). The start follows the referral by 0-28 days, and the
  participants file records both dates (``with_referral_date = False`` leaves the
  referral date out, as many programmes' files do).
- The programme effect removes each offence a participant would have committed in the
  year after starting with probability ``effect`` (both potential outcomes are known),
  and ``truth.json`` records the effect on the sample under the cohort rules.

All randomness comes from one seeded ``numpy.random.Generator`` used in a fixed order,
so the same seed gives byte-identical files. Loops run over months, never over people.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import polars as pl

EPOCH = dt.date(1970, 1, 1)


def _day(d: dt.date) -> int:
    return (d - EPOCH).days


@dataclass(frozen=True)
class OffendingModel:
    """Parameters of the offending process (rates are offences per year)."""

    mean_rate: float = 0.48
    rate_shape: float = 0.55  # gamma shape: smaller = more unequal
    busy_multiplier: float = 7.0
    quiet_to_busy: float = 0.03  # monthly transition probabilities
    busy_to_quiet: float = 0.45
    age_peak: int = 19
    age_decline: float = 0.045  # proportional fall in rate per year of age after the peak
    caution_share: float = 0.18
    conviction_lag_median_days: float = 62.0
    conviction_lag_sigma: float = 0.85
    caution_lag_median_days: float = 12.0
    custody_mean_days: float = 45.0  # days served of a custodial sentence (gamma, shape 1.5)


@dataclass(frozen=True)
class ReferralModel:
    """How referral to the programme depends on what the referrer can see."""

    prior_year_power: float = 1.0  # weight grows as (1 + convictions proven in the past year) ** power
    young_multiplier: float = 1.6  # under 25
    high_risk_multiplier: float = 2.2  # MAPPA or PPO
    max_delay_days: int = 28  # from the conviction to the programme start


@dataclass(frozen=True)
class UnrecordedTrait:
    """A persistent trait that no record shows (motivation, say), for testing what
    matching on records cannot fix: people with it are referred more readily and offend
    less in every year, before and after referral. Off unless a scenario sets it."""

    share: float = 0.3  # of people who have it
    referral_multiplier: float = 3.0  # on the referral weight at each conviction
    offending_multiplier: float = 0.6  # on the underlying offending rate, every month


@dataclass(frozen=True)
class Scenario:
    """A named set of generator settings."""

    name: str
    people: int
    participants: int
    effect: float
    history_start: dt.date
    referral_start: dt.date
    referral_end: dt.date
    extract_date: dt.date
    programmes: tuple[tuple[str, float], ...]
    high_risk_programme: str | None
    file_format: str  # "csv" or "parquet"
    default_seed: int = 2014
    with_custody: bool = True
    with_referral_date: bool = True  # the participants file records the date of the referring conviction
    second_start_share: float = 0.06
    offending: OffendingModel = field(default_factory=OffendingModel)
    referral: ReferralModel = field(default_factory=ReferralModel)
    trait: UnrecordedTrait | None = None


SOUTHAMPTON = Scenario(
    name="southampton",
    people=24_000,
    participants=588,
    effect=0.10,
    history_start=dt.date(2001, 1, 1),
    referral_start=dt.date(2006, 4, 1),
    referral_end=dt.date(2008, 12, 31),
    extract_date=dt.date(2010, 9, 30),
    programmes=(("OLASS", 0.36), ("Building Bricks", 0.20), ("Exodus", 0.24), ("Equal Engage", 0.20)),
    high_risk_programme="Exodus",
    file_format="csv",
)

NATIONAL = replace(
    SOUTHAMPTON,
    name="national",
    people=2_000_000,
    participants=10_000,
    programmes=(("Employment support", 0.5), ("Skills training", 0.3), ("Mentoring", 0.2)),
    high_risk_programme="Mentoring",
    file_format="parquet",
    offending=OffendingModel(mean_rate=1.75),
)

SCENARIOS: dict[str, Scenario] = {s.name: s for s in (SOUTHAMPTON, NATIONAL)}

_CATEGORY_SHARES = {
    "theft": 0.29,
    "violence": 0.17,
    "drugs": 0.10,
    "criminal_damage": 0.08,
    "public_order": 0.08,
    "motoring": 0.08,
    "burglary": 0.06,
    "other": 0.06,
    "fraud": 0.04,
    "robbery": 0.025,
    "sexual": 0.015,
}
_DISPOSAL_SHARES_CONVICTED = {
    "custody": 0.15,
    "community": 0.30,
    "suspended": 0.10,
    "fine": 0.30,
    "discharge": 0.10,
    "other": 0.05,
}
_ETHNICITIES = (("White", 0.80), ("Black", 0.06), ("Asian", 0.06), ("Mixed", 0.05), ("Other", 0.03))
_SEXES = (("M", 0.85), ("F", 0.145), ("U", 0.005))


@dataclass
class GeneratedData:
    """What :func:`generate` wrote."""

    out_dir: Path
    files: dict[str, Path]
    truth: dict
    rows: dict[str, int]


def _month_starts(start: dt.date, end: dt.date) -> np.ndarray:
    months = []
    y, m = start.year, start.month
    while dt.date(y, m, 1) <= end:
        months.append(_day(dt.date(y, m, 1)))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    months.append(_day(dt.date(y, m, 1)))
    return np.array(months, dtype=np.int32)


def _poisson(rng: np.random.Generator, lam: np.ndarray) -> np.ndarray:
    """Poisson draws by inversion, vectorised: exact, and fast when most draws are 0."""
    u = rng.random(len(lam), dtype=np.float32)
    p = np.exp(-lam)
    cdf = p.copy()
    out = np.zeros(len(lam), dtype=np.uint8)
    active = np.nonzero(u > cdf)[0]
    k = 0
    while len(active) and k < 254:
        k += 1
        out[active] = k
        p_a = p[active] * lam[active] / k
        p[active] = p_a
        cdf[active] += p_a
        active = active[u[active] > cdf[active]]
    return out


def _in_custody(person: np.ndarray, day: np.ndarray, outcome_day: np.ndarray, custody_days: np.ndarray,
                sentence: np.ndarray) -> np.ndarray:
    """Whether each (person, day) falls inside one of that person's custodial sentences
    (``sentence`` marks the offences that carry one: from the outcome date for
    ``custody_days``), by a sorted search: no loop over people."""
    big = np.int64(1) << 24
    idx = np.nonzero(sentence)[0]
    starts = person[idx].astype(np.int64) * big + outcome_day[idx]
    order = np.argsort(starts, kind="stable")
    starts = starts[order]
    ends = np.maximum.accumulate(starts + custody_days[idx][order])
    key = person.astype(np.int64) * big + day
    pos = np.searchsorted(starts, key, side="right") - 1
    return (pos >= 0) & (ends[np.maximum(pos, 0)] > key)


def _enum(names: list[str], codes: np.ndarray) -> pl.Series:
    """A column of category names from integer codes, without building Python strings."""
    return pl.Series(names).cast(pl.Enum(names)).gather(codes)


def _choice(rng: np.random.Generator, options: tuple[tuple[str, float], ...], size: int) -> np.ndarray:
    names = np.array([o[0] for o in options])
    p = np.array([o[1] for o in options], dtype=float)
    return names[rng.choice(len(names), size=size, p=p / p.sum())]


@dataclass
class _People:
    """Each person's drawn attributes (arrays, one entry per person)."""

    birth_year: np.ndarray
    sex: np.ndarray
    ethnicity: np.ndarray
    rate: np.ndarray
    ppo: np.ndarray
    mappa: np.ndarray
    ogrs3: np.ndarray
    main_category: np.ndarray
    trait: np.ndarray


@dataclass
class _Offences:
    """Every offence committed (arrays, one entry per offence), before the programme's effect."""

    person: np.ndarray
    offence_day: np.ndarray
    outcome_day: np.ndarray
    category: np.ndarray
    disposal: np.ndarray
    is_custody: np.ndarray
    custody_days: np.ndarray


@dataclass
class _Starts:
    """Each participant's first start and the referring conviction's date (days since the epoch)."""

    person: np.ndarray
    start: np.ndarray
    referral: np.ndarray


_CATEGORY_NAMES = np.array(list(_CATEGORY_SHARES))
_CATEGORY_P = np.array(list(_CATEGORY_SHARES.values()))
_DISPOSAL_NAMES = [*_DISPOSAL_SHARES_CONVICTED, "caution"]


def _draw_people(scenario: Scenario, rng: np.random.Generator) -> _People:
    om, n = scenario.offending, scenario.people
    ref_year = scenario.referral_start.year
    age_ref = np.clip(14 + rng.gamma(2.0, 7.5, n), 14, 75).astype(np.int32)
    birth_year = (ref_year - age_ref).astype(np.int32)
    sex = _choice(rng, _SEXES, n)
    ethnicity = _choice(rng, _ETHNICITIES, n)
    rate = rng.gamma(om.rate_shape, om.mean_rate / om.rate_shape, n)
    rate *= np.where(sex == "F", 0.6, 1.0)
    rate_rank = rate.argsort().argsort() / n  # 0 = lowest rate
    ppo = (rate_rank > 0.975) & (rng.random(n) < 0.55)
    violent = rng.random(n) < 0.12
    mappa = violent & (rate_rank > 0.80) & (rng.random(n) < 0.10)
    logit = -1.2 + 0.9 * np.log(rate + 0.05) - 0.04 * (age_ref - 25) + rng.normal(0, 0.6, n)
    ogrs3 = np.round(100 / (1 + np.exp(-logit)), 1)
    # each person's usual kind of offence: some specialise, most are generalists
    main_category = rng.choice(len(_CATEGORY_NAMES), size=n, p=_CATEGORY_P / _CATEGORY_P.sum())
    main_category = np.where(violent, int(np.where(_CATEGORY_NAMES == "violence")[0][0]), main_category)
    # the unrecorded trait, drawn last among people's attributes so that without it every
    # other draw is unchanged; it acts after the recorded risk flags and score are set
    trait = np.zeros(n, dtype=bool)
    if scenario.trait is not None:
        trait = rng.random(n) < scenario.trait.share
        rate = np.where(trait, rate * scenario.trait.offending_multiplier, rate)
    return _People(birth_year, sex, ethnicity, rate, ppo, mappa, ogrs3, main_category, trait)


def _monthly_counts(scenario: Scenario, rng: np.random.Generator, people: _People,
                    say: Callable[[str], None]) -> tuple[np.ndarray, np.ndarray]:
    """The month starts (days) and each person's offences in each month: a Poisson count
    at a rate that follows age and switches between quiet and busy spells."""
    om, n = scenario.offending, scenario.people
    months = _month_starts(scenario.history_start, scenario.extract_date)
    n_months = len(months) - 1
    say(f"offending: {n_months} months")
    month_year = np.array([(EPOCH + dt.timedelta(days=int(d))).year for d in months[:-1]])
    pi_busy = om.quiet_to_busy / (om.quiet_to_busy + om.busy_to_quiet)
    quiet_mult = (1 - pi_busy * om.busy_multiplier) / (1 - pi_busy)
    ages = np.arange(0, 200)
    age_table = np.where(
        ages < om.age_peak,
        np.clip((ages - 10) / (om.age_peak - 10), 0, 1),
        np.exp(-om.age_decline * (ages - om.age_peak)),
    ).astype(np.float32)
    age_table[ages < 11] = 0.0  # nobody offends under the age of criminal responsibility
    monthly_rate = (people.rate / 12).astype(np.float32)
    state_mult = np.array([quiet_mult, om.busy_multiplier], dtype=np.float32)
    busy = rng.random(n) < pi_busy
    counts = np.zeros((n, n_months), dtype=np.uint8)
    for m in range(n_months):
        age = np.clip(month_year[m] - people.birth_year, 0, 199)
        lam = monthly_rate * age_table[age] * state_mult[busy.view(np.uint8)]
        counts[:, m] = _poisson(rng, lam)
        flip = rng.random(n, dtype=np.float32)
        busy = np.where(busy, flip >= om.busy_to_quiet, flip < om.quiet_to_busy)
    return months, counts


def _draw_offences(scenario: Scenario, rng: np.random.Generator, people: _People, months: np.ndarray,
                   counts: np.ndarray, say: Callable[[str], None]) -> _Offences:
    """Each offence's dates, category and disposal; none committed while in custody."""
    om = scenario.offending
    person_idx, month_idx = np.nonzero(counts)
    reps = counts[person_idx, month_idx]
    person = np.repeat(person_idx, reps).astype(np.int32)
    month = np.repeat(month_idx, reps).astype(np.int32)
    del person_idx, month_idx, reps
    n_off = len(person)
    say(f"offences: {n_off:,}")
    month_len = np.diff(months)
    offence_day = months[month] + (rng.random(n_off, dtype=np.float32) * month_len[month]).astype(np.int32)
    del month
    caution = rng.random(n_off, dtype=np.float32) < om.caution_share
    z = rng.standard_normal(n_off, dtype=np.float32)
    log_lag = np.where(
        caution,
        np.float32(np.log(om.caution_lag_median_days)) + np.float32(0.6) * z,
        np.float32(np.log(om.conviction_lag_median_days)) + np.float32(om.conviction_lag_sigma) * z,
    )
    outcome_day = offence_day + np.exp(log_lag).astype(np.int32)
    del z, log_lag
    specialise = rng.random(n_off, dtype=np.float32) < 0.45
    category = np.where(
        specialise, people.main_category[person], rng.choice(len(_CATEGORY_NAMES), size=n_off, p=_CATEGORY_P / _CATEGORY_P.sum())
    ).astype(np.uint8)
    del specialise
    disp_p = np.array(list(_DISPOSAL_SHARES_CONVICTED.values()))
    disposal = rng.choice(len(disp_p), size=n_off, p=disp_p / disp_p.sum()).astype(np.uint8)
    disposal[caution] = _DISPOSAL_NAMES.index("caution")
    del caution
    is_custody = disposal == _DISPOSAL_NAMES.index("custody")
    custody_days = np.zeros(n_off, dtype=np.int32)
    custody_days[is_custody] = np.ceil(rng.gamma(1.5, om.custody_mean_days / 1.5,
                                                 int(is_custody.sum()))).astype(np.int32)
    # nobody commits an offence in the community while in custody: offences dated inside a
    # custodial sentence are not committed (a second pass restores those whose covering
    # sentence itself fell inside an earlier one)
    free = np.ones(n_off, dtype=bool)
    for _ in range(2):
        free = ~_in_custody(person, offence_day, outcome_day, custody_days, is_custody & free)
    person, offence_day, outcome_day = person[free], offence_day[free], outcome_day[free]
    category, disposal, is_custody, custody_days = category[free], disposal[free], is_custody[free], custody_days[free]
    return _Offences(person, offence_day, outcome_day, category, disposal, is_custody, custody_days)


def _draw_referrals(scenario: Scenario, rng: np.random.Generator, people: _People, offences: _Offences,
                    say: Callable[[str], None]) -> _Starts:
    """Referral: a hazard at each conviction; a person's first referral sets their start."""
    rm, n = scenario.referral, scenario.people
    person, outcome_day = offences.person, offences.outcome_day
    n_off = len(person)
    birth_year, ppo, mappa, trait = people.birth_year, people.ppo, people.mappa, people.trait
    # At each conviction in the referral period a referrer, who sees the person's record,
    # refers them with probability 1 - exp(-c * w): w grows with the convictions proven in
    # the past year and is higher for the young and MAPPA/PPO cases. A person's index is
    # their first referral. With one exponential draw per conviction (key = Exp(1) / w),
    # a conviction refers when key <= c, so choosing c as the N-th smallest per-person
    # minimum key refers exactly N people, each at their earliest conviction under c.
    say("referrals")
    ref_lo, ref_hi = _day(scenario.referral_start), _day(scenario.referral_end)
    start_day = outcome_day + rng.integers(0, rm.max_delay_days + 1, n_off, dtype=np.int32)
    eligible = np.nonzero((start_day >= ref_lo) & (start_day <= ref_hi))[0]
    e_person = person[eligible]
    e_outcome = outcome_day[eligible].astype(np.int64)
    # convictions proven in the 365 days before this one, by a sorted search over (person, outcome day)
    big = np.int64(1 << 20)
    record = np.sort(person.astype(np.int64) * big + outcome_day)
    base = e_person.astype(np.int64) * big
    prior_year = (
        np.searchsorted(record, base + e_outcome, side="left")
        - np.searchsorted(record, base + e_outcome - 365, side="left")
    ).astype(np.float64)
    del record, base
    # age when the conviction is proven: the age a referrer sees
    e_year = e_outcome.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    e_age = e_year - birth_year[e_person]
    weight = (
        (1.0 + prior_year) ** rm.prior_year_power
        * np.where(e_age < 25, rm.young_multiplier, 1.0)
        * np.where(ppo[e_person] | mappa[e_person], rm.high_risk_multiplier, 1.0)
    )
    if scenario.trait is not None:
        weight = weight * np.where(trait[e_person], scenario.trait.referral_multiplier, 1.0)
    key = rng.exponential(1.0, len(eligible)) / weight
    person_min = np.full(n, np.inf)
    np.minimum.at(person_min, e_person, key)
    finite = np.sort(person_min[np.isfinite(person_min)])
    if len(finite) < scenario.participants:
        raise ValueError(f"only {len(finite)} people could be referred; increase people")
    threshold = finite[scenario.participants - 1]
    refers = key <= threshold
    first_start = np.full(n, np.iinfo(np.int32).max, dtype=np.int64)
    np.minimum.at(first_start, e_person[refers], start_day[eligible][refers])
    part_person = np.nonzero(first_start < np.iinfo(np.int32).max)[0]
    part_start = first_start[part_person].astype(np.int32)
    # the referral date: the conviction that set the index (the latest, if two referring
    # convictions give the same start)
    r_person, r_start, r_day = e_person[refers], start_day[eligible][refers], e_outcome[refers]
    first = r_start == first_start[r_person]
    referral_of = np.full(n, -1, dtype=np.int64)
    np.maximum.at(referral_of, r_person[first], r_day[first])
    part_referral = referral_of[part_person].astype(np.int32)
    return _Starts(part_person, part_start, part_referral)


def _programme_effect(scenario: Scenario, rng: np.random.Generator, seed: int, people: _People,
                      offences: _Offences, starts: _Starts) -> tuple[np.ndarray, dict]:
    """Thin participants' offences in the year after starting by the scenario's effect: which
    offences are kept in the extract, and the truth on the sample of participants."""
    n = scenario.people
    person, offence_day, outcome_day = offences.person, offences.offence_day, offences.outcome_day
    part_person, part_start = starts.person, starts.start
    n_off, n_part, trait = len(person), len(part_person), people.trait
    is_part = np.zeros(n, dtype=bool)
    is_part[part_person] = True
    start_of = np.full(n, np.iinfo(np.int32).max, dtype=np.int64)
    start_of[part_person] = part_start
    in_after = is_part[person] & (offence_day >= start_of[person]) & (offence_day < start_of[person] + 365)
    removed = in_after & (rng.random(n_off, dtype=np.float32) < scenario.effect)
    extract = _day(scenario.extract_date)
    proven = outcome_day <= extract
    keep = proven & ~removed

    # truth on the sample: both potential outcomes under the cohort's counting rule
    counted = in_after & (outcome_day < start_of[person] + 365 + 182)
    y0 = np.bincount(person[counted], minlength=n)[part_person]
    y1 = np.bincount(person[counted & ~removed], minlength=n)[part_person]
    truth = {
        "scenario": scenario.name,
        "seed": seed,
        "effect": scenario.effect,
        "participants": int(n_part),
        "people": int(n),
        "offences_after_untreated": int(y0.sum()),
        "offences_after_treated": int(y1.sum()),
        "rate_ratio": float(y1.sum() / y0.sum()) if y0.sum() else None,
        "frequency_untreated": float(y0.mean()),
        "frequency_treated": float(y1.mean()),
        "frequency_difference": float(y1.mean() - y0.mean()),
        "reoffending_rate_untreated": float((y0 > 0).mean()),
        "reoffending_rate_treated": float((y1 > 0).mean()),
        "reoffending_rate_difference": float((y1 > 0).mean() - (y0 > 0).mean()),
        "participants_with_unrecorded_trait": float(trait[part_person].mean()),
        "people_with_unrecorded_trait": float(trait.mean()),
        "note": "Effects on the sample of participants: treated minus untreated potential outcomes, "
        "counting offences committed in the 365 days from the start and proven within a further 182 days.",
    }
    return keep, truth


def _tables(scenario: Scenario, rng: np.random.Generator, people: _People, offences: _Offences, starts: _Starts,
            keep: np.ndarray, say: Callable[[str], None]) -> dict[str, pl.DataFrame]:
    """The participants' programmes, ends and sources, then every table with its person ids."""
    n = scenario.people
    person, offence_day, outcome_day = offences.person, offences.offence_day, offences.outcome_day
    part_person, part_start, part_referral = starts.person, starts.start, starts.referral
    n_part, extract = len(part_person), _day(scenario.extract_date)
    birth_year, ppo, mappa = people.birth_year, people.ppo, people.mappa
    # --- participants table ---------------------------------------------------------
    prog_names = tuple(p[0] for p in scenario.programmes)
    programme = _choice(rng, scenario.programmes, n_part)
    if scenario.high_risk_programme:
        hr = (ppo[part_person] | mappa[part_person]) & (rng.random(n_part) < 0.6)
        programme = np.where(hr, scenario.high_risk_programme, programme)
    duration = rng.integers(40, 330, n_part)
    end_day = part_start + duration
    end_known = (rng.random(n_part) > 0.1) & (end_day <= extract)
    age_at_start = (scenario.referral_start.year - birth_year[part_person])
    source = np.where(age_at_start < 18, "youth offending team", np.where(rng.random(n_part) < 0.45, "prison", "probation"))
    second = rng.random(n_part) < scenario.second_start_share
    second_start = part_start + rng.integers(30, 400, n_part)
    second = second & (second_start <= extract)
    second_prog = np.array(prog_names)[rng.integers(0, len(prog_names), n_part)]

    # --- write ----------------------------------------------------------------------
    say("writing files")
    perm = rng.permutation(n)
    ids = (
        pl.DataFrame({"n": perm})
        .select(pl.concat_str(pl.lit("SYN"), pl.col("n").cast(pl.String).str.zfill(len(str(n)))).alias("person_id"))
        .to_series()
    )

    def to_date(days: np.ndarray) -> pl.Series:
        return pl.Series(days.astype(np.int32)).cast(pl.Date)

    people_table = pl.DataFrame(
        {
            "person_id": ids,
            "birth_year": birth_year,
            "sex": people.sex,
            "ethnicity": people.ethnicity,
            "mappa": mappa,
            "ppo": ppo,
            "ogrs3": people.ogrs3,
        }
    )
    sel = np.nonzero(keep)[0]
    category, disposal = offences.category, offences.disposal
    is_custody, custody_days = offences.is_custody, offences.custody_days
    offence_table = pl.DataFrame(
        {
            "person_id": ids.gather(person[sel]),
            "offence_date": to_date(offence_day[sel]),
            "outcome_date": to_date(outcome_day[sel]),
            "category": _enum(list(_CATEGORY_NAMES), category[sel]),
            "disposal": _enum(_DISPOSAL_NAMES, disposal[sel]),
            "custody_days": pl.Series(custody_days[sel]).set(pl.Series(~is_custody[sel]), None),
        }
    )
    first_rows = pl.DataFrame(
        {
            "person_id": ids.gather(part_person),
            "programme": programme,
            "start_date": to_date(part_start),
            "end_date": to_date(end_day).set(pl.Series(~end_known), None),
            "referral_date": to_date(part_referral),
            "referral_source": source,
        }
    )
    if not scenario.with_referral_date:
        first_rows = first_rows.drop("referral_date")
    second_rows = first_rows.filter(pl.Series(second)).with_columns(
        programme=pl.Series(second_prog[second]),
        start_date=to_date(second_start[second]),
        end_date=pl.lit(None, dtype=pl.Date),
        **({"referral_date": pl.lit(None, dtype=pl.Date)} if scenario.with_referral_date else {}),
    )
    participants = pl.concat([first_rows, second_rows]).sort("person_id", "start_date")
    tables = {"people": people_table, "offences": offence_table, "participants": participants}
    if scenario.with_custody:
        cust = np.nonzero(keep & is_custody)[0]
        cend = outcome_day[cust] + custody_days[cust]
        tables["custody"] = pl.DataFrame(
            {
                "person_id": ids.gather(person[cust]),
                "custody_start": to_date(outcome_day[cust]),
                "custody_end": to_date(cend).set(pl.Series(cend > extract), None),
            }
        )
    return tables


def generate(
    scenario: Scenario,
    out_dir: str | os.PathLike,
    *,
    seed: int | None = None,
    progress: Callable[[str], None] | None = None,
    option: str = "--out",
    council_list: bool = False,
) -> GeneratedData:
    """Generate the scenario's tables into ``out_dir`` and write ``truth.json`` (``option``:
    how the caller's user named the folder, for a refusal's message). ``council_list``: the
    participants as a council knows them instead, by name and date of birth
    (``council_list.csv``, with a council's headers, UK dates and a real list's errors), and
    the police's identified people (``identified.csv``); truth.json holds each row's true link."""
    say = progress or (lambda _m: None)
    seed = scenario.default_seed if seed is None else seed
    rng = np.random.default_rng(seed)
    n = scenario.people
    from evaluation.files.output_folder import check_output_folder, write_folder

    out = check_output_folder(out_dir, kind="synthetic data", option=option)  # before the work, not after it

    say(f"people: {n:,}")
    people = _draw_people(scenario, rng)
    months, counts = _monthly_counts(scenario, rng, people, say)
    offences = _draw_offences(scenario, rng, people, months, counts, say)
    del counts
    starts = _draw_referrals(scenario, rng, people, offences, say)
    keep, truth = _programme_effect(scenario, rng, seed, people, offences, starts)
    tables = _tables(scenario, rng, people, offences, starts, keep, say)

    if council_list:
        from synthetic_data.identities import council_export, identified_people
        from synthetic_data.identities import council_list as spoilt_list

        say("writing identified people and the council's list")
        identified = identified_people(tables["people"], seed)
        keep = [c for c in ("person_id", "programme", "start_date", "referral_date") if c in tables["participants"].columns]
        listed, links = spoilt_list(identified, tables.pop("participants").select(keep), seed)
        tables["identified"], tables["council_list"] = identified, council_export(listed)
        truth["links"] = {"file": "council_list.csv", "rows": listed.height,
                          "person_id_by_row": links["person_id"].to_list(),
                          "note": "row 1 is the first row under the header; null: a person the police data never recorded"}
    files = {name: out / f"{name}.{'csv' if name in ('identified', 'council_list') else scenario.file_format}"
             for name in tables}
    truth["settings"] = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in asdict(scenario).items()
                         if k not in ("offending", "referral", "trait")}
    truth["settings"]["offending"] = asdict(scenario.offending)
    truth["settings"]["referral"] = asdict(scenario.referral)
    truth["settings"]["trait"] = None if scenario.trait is None else asdict(scenario.trait)
    def fill(staging: Path) -> None:
        for name, frame in tables.items():
            path = staging / files[name].name
            if path.suffix == ".csv":
                frame.write_csv(path)
            else:
                frame.write_parquet(path, compression="lz4", statistics=False)
        (staging / "truth.json").write_text(json.dumps(truth, indent=2, default=list) + "\n")

    # the whole folder at once, and only over a folder of synthetic data this tool wrote
    write_folder(out, fill, kind="synthetic data", option=option)
    return GeneratedData(out, files, truth, {k: v.height for k, v in tables.items()})


def scenario_with(name: str, *, effect: float | None = None, people: int | None = None,
                  participants: int | None = None, file_format: str | None = None,
                  trait: UnrecordedTrait | None = None) -> Scenario:
    """A named scenario with some settings changed (None keeps the scenario's own);
    ``trait`` adds an unrecorded persistent trait (selection on something no record shows)."""
    from evaluation.errors import SettingsError

    if name not in SCENARIOS:
        raise SettingsError(f"unknown scenario {name!r}; choose from {', '.join(SCENARIOS)}")
    changes = {k: v for k, v in {"effect": effect, "people": people, "participants": participants,
                                 "file_format": file_format, "trait": trait}.items() if v is not None}
    scenario = replace(SCENARIOS[name], **changes)
    if not 0 <= scenario.effect < 1:
        raise SettingsError("--effect must be at least 0 and below 1 (0.25 = 25% fewer offences)")
    if scenario.participants < 1 or scenario.participants * 10 > scenario.people:
        raise SettingsError(f"--people must be at least 10 x participants ({scenario.participants * 10:,})")
    if scenario.trait is not None and not (0 < scenario.trait.share < 1 and scenario.trait.referral_multiplier > 0
                                           and scenario.trait.offending_multiplier > 0):
        raise SettingsError("the unrecorded trait needs a share between 0 and 1 and positive multipliers")
    if scenario.file_format not in ("csv", "parquet"):
        raise SettingsError("--format must be csv or parquet")
    return scenario
