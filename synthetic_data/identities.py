"""Identified people and the participant lists councils send, with the errors real lists have.

The police extract's identified people carry a name, a date of birth (in the people table's
``birth_year``), a sex and a postcode. British names come from Faker's ``en_GB`` provider
(forenames by sex; surnames with Faker's frequency weights), drawn with numpy from a seeded
generator, so two million people take seconds and a seed always gives the same people.

A council's list is drawn from the participants and then spoilt as lists are: names in
capitals or with stray spaces, typing errors, nicknames (from the hand-curated ``nicknames``
package), surnames changed, day and month swapped, one digit of the date of birth wrong, dates
of birth missing or wrong, postcodes missing or moved, sex left blank, rows typed twice, and
people who are in no police record at all. The true link of every row (or none) is returned
beside it: the oracle that linkage is measured against.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from importlib import resources

import numpy as np
import polars as pl

_INWARD_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _faker_names() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from faker.providers.address.en_GB import Provider as Address
    from faker.providers.person.en_GB import Provider as Person

    surnames = Person.last_names
    names, weights = np.array(list(surnames)), np.array(list(surnames.values()), dtype=float)
    return (np.array(Person.first_names_male), np.array(Person.first_names_female), names, weights / weights.sum(),
            np.array(Address.POSTAL_ZONES))


def _postcodes(rng: np.random.Generator, zones: np.ndarray, n: int) -> np.ndarray:
    area = zones[rng.integers(0, len(zones), n)]
    district = rng.integers(1, 30, n).astype(str)
    sector = rng.integers(0, 10, n).astype(str)
    unit = np.char.add(_INWARD_LETTERS[rng.integers(0, 20, n)], _INWARD_LETTERS[rng.integers(0, 20, n)])
    return np.char.add(np.char.add(np.char.add(area, district), " "), np.char.add(sector, unit))


def identified_people(people: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Names, dates of birth and postcodes for the people table (``person_id``, ``birth_year``,
    ``sex``): the police extract's identified people, one row per person."""
    rng = np.random.default_rng([seed, 37])
    male, female, surnames, weights, zones = _faker_names()
    n = people.height
    sex = people["sex"].to_numpy()
    is_male = (sex == "M") | ((sex == "U") & (rng.random(n) < 0.5))
    forename = np.where(is_male, male[rng.integers(0, len(male), n)], female[rng.integers(0, len(female), n)])
    surname = surnames[rng.choice(len(surnames), n, p=weights)]
    first_day = pl.Series(people["birth_year"].to_numpy().astype(str)).str.to_date("%Y").to_physical().to_numpy()
    leap = (people["birth_year"].to_numpy() % 4 == 0) & (
        (people["birth_year"].to_numpy() % 100 != 0) | (people["birth_year"].to_numpy() % 400 == 0))
    born = first_day + np.floor(rng.random(n) * (365 + leap)).astype(np.int64)
    return pl.DataFrame({
        "person_id": people["person_id"],
        "forename": forename,
        "surname": surname,
        "date_of_birth": pl.Series(born.astype(np.int32)).cast(pl.Date),
        "sex": people["sex"],
        "postcode": _postcodes(rng, zones, n),
    })


@dataclass(frozen=True)
class ListErrors:
    """How often each error a council list has appears (a share of rows)."""

    capitals: float = 0.25          # FORENAME and SURNAME in capitals
    spaces: float = 0.05            # stray spaces around or inside a name
    forename_typo: float = 0.04
    surname_typo: float = 0.04
    nickname: float = 0.05          # a nickname where the police record has the formal name
    surname_changed: float = 0.03   # a different surname (marriage, a known-as name), mostly women's
    day_month_swapped: float = 0.02
    dob_digit: float = 0.03         # one digit of the date of birth wrong
    dob_missing: float = 0.02
    dob_wrong: float = 0.01         # another date altogether
    postcode_missing: float = 0.30
    postcode_moved: float = 0.15    # half of moves within the district
    sex_missing: float = 0.10
    sex_wrong: float = 0.005
    not_in_police_data: float = 0.06  # extra rows: people the police data never recorded
    duplicated: float = 0.02          # rows typed twice


def _nickname_table() -> dict[str, list[str]]:
    """Formal name (lower case) -> its nicknames, from the ``nicknames`` package's names.csv."""
    table: dict[str, list[str]] = {}
    with resources.files("nicknames").joinpath("names.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["relationship"] == "has_nickname":
                table.setdefault(row["name1"], []).append(row["name2"])
    return table


def _typo(rng: np.random.Generator, name: str) -> str:
    if len(name) < 3:
        return name + _LETTERS[rng.integers(0, 26)]
    i = int(rng.integers(1, len(name) - 1))
    kind = rng.integers(0, 4)
    letter = _LETTERS[rng.integers(0, 26)]
    if kind == 0:
        return name[:i] + letter + name[i + 1:]            # substituted
    if kind == 1:
        return name[:i] + name[i + 1:]                     # dropped
    if kind == 2:
        return name[:i] + letter + name[i:]                # inserted
    return name[:i - 1] + name[i] + name[i - 1] + name[i + 1:]  # transposed


def _digit_error(rng: np.random.Generator, born: dt.date) -> dt.date:
    text = born.strftime("%Y%m%d")
    for _ in range(20):
        i = int(rng.integers(2, 8))
        changed = text[:i] + str(rng.integers(0, 10)) + text[i + 1:]
        try:
            other = dt.datetime.strptime(changed, "%Y%m%d").date()
        except ValueError:
            continue
        if other != born:
            return other
    return born + dt.timedelta(days=1)


def council_list(identified: pl.DataFrame, participants: pl.DataFrame, seed: int,
                 errors: ListErrors = ListErrors()) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A council's participant list for ``participants`` (``person_id``, ``programme``,
    ``start_date`` and optionally ``referral_date``), spoilt by ``errors``; and the truth, one
    row per list row: ``row`` (1-based) and ``person_id`` (null for a person the police data
    never recorded). A list holds hundreds or thousands of rows: its errors are drawn per row."""
    rng = np.random.default_rng([seed, 38])
    male, female, surnames, weights, zones = _faker_names()
    nicknames = _nickname_table()
    people = participants.join(identified, on="person_id", how="left")
    missing = people.filter(pl.col("forename").is_null())
    if missing.height:
        raise ValueError(f"{missing.height} participants are not in the identified people")
    rows = people.to_dicts()
    # people the police data never recorded: new names, dates of birth and postcodes
    extra = int(round(errors.not_in_police_data * len(rows)))
    for _ in range(extra):
        like = rows[int(rng.integers(0, len(rows)))]
        female_name = rng.random() < 0.2
        rows.append({**like, "person_id": None, "sex": "F" if female_name else "M",
                     "forename": str((female if female_name else male)[rng.integers(0, len(male))]),
                     "surname": str(surnames[rng.choice(len(surnames), p=weights)]),
                     "date_of_birth": dt.date(int(rng.integers(1960, 2004)), 1, 1)
                     + dt.timedelta(days=int(rng.integers(0, 365))),
                     "postcode": str(_postcodes(rng, zones, 1)[0])})
    out = []
    for row in rows:
        forename, surname = row["forename"], row["surname"]
        born: dt.date | None = row["date_of_birth"]
        r = rng.random(16)
        if r[0] < errors.nickname and forename.lower() in nicknames:
            options = nicknames[forename.lower()]
            forename = options[int(rng.integers(0, len(options)))].title()
        if r[1] < errors.forename_typo:
            forename = _typo(rng, forename)
        if r[2] < errors.surname_changed * (1.8 if row["sex"] == "F" else 0.2):  # mostly on marriage
            surname = str(surnames[rng.choice(len(surnames), p=weights)])
        elif r[3] < errors.surname_typo:
            surname = _typo(rng, surname)
        if r[4] < errors.capitals:
            forename, surname = forename.upper(), surname.upper()
        if r[5] < errors.spaces:
            forename, surname = f" {forename}", f"{surname}  "
        if r[6] < errors.dob_missing:
            born = None
        elif r[7] < errors.day_month_swapped and born.day <= 12 and born.day != born.month:
            born = born.replace(month=born.day, day=born.month)
        elif r[8] < errors.dob_digit:
            born = _digit_error(rng, born)
        elif r[9] < errors.dob_wrong:
            born = born + dt.timedelta(days=int(rng.integers(400, 4000)))
        postcode = row["postcode"]
        if r[10] < errors.postcode_missing:
            postcode = None
        elif r[11] < errors.postcode_moved:
            moved = str(_postcodes(rng, zones, 1)[0])
            postcode = postcode.split(" ")[0] + " " + moved.split(" ")[1] if r[13] < 0.5 else moved
        sex = None if r[12] < errors.sex_missing else row["sex"]
        if sex and r[14] < errors.sex_wrong:
            sex = "F" if sex == "M" else "M"
        out.append({"forename": forename, "surname": surname, "date_of_birth": born, "sex": sex,
                    "postcode": postcode, "programme": row["programme"], "start_date": row["start_date"],
                    **({"referral_date": row["referral_date"]} if "referral_date" in row else {}),
                    "true_person_id": row["person_id"]})
    doubled = [dict(row) for row in out if rng.random() < errors.duplicated]
    out += doubled
    order = rng.permutation(len(out))
    frame = pl.DataFrame([out[i] for i in order], infer_schema_length=None)
    truth = frame.select(pl.int_range(1, frame.height + 1).alias("row"), pl.col("true_person_id").alias("person_id"))
    return frame.drop("true_person_id"), truth


def sample_people(n: int, seed: int) -> pl.DataFrame:
    """A people table of ``n`` people (person_id, birth_year, sex) for linkage trials without
    the whole offending history."""
    rng = np.random.default_rng([seed, 39])
    width = len(str(n))
    return pl.DataFrame({
        "person_id": pl.select(pl.concat_str(pl.lit("PNC"), pl.int_range(0, n).cast(pl.String).str.zfill(width)))
        .to_series(),
        "birth_year": rng.integers(1955, 2006, n),
        "sex": np.where(rng.random(n) < 0.85, "M", "F"),
    })


#: How a council's export names the list's fields.
COUNCIL_HEADERS = {"forename": "First Name", "surname": "Surname", "date_of_birth": "DOB", "sex": "Sex",
                   "postcode": "Postcode", "programme": "Programme", "start_date": "Start Date",
                   "referral_date": "Referral Date"}


def council_export(listed: pl.DataFrame) -> pl.DataFrame:
    """A list as a council's system exports it: its own headers, dates as DD/MM/YYYY, sex as words."""
    words = {"M": "Male", "F": "Female", "U": "Not known"}
    return (listed.with_columns(pl.col(c).dt.strftime("%d/%m/%Y") for c in ("date_of_birth", "start_date",
                                                                            "referral_date") if c in listed.columns)
            .with_columns(pl.col("sex").replace_strict(words, default=None))
            .rename({k: v for k, v in COUNCIL_HEADERS.items() if k in listed.columns}))
