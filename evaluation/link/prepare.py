"""The list and the identified people made comparable, and every list row given a place.

Names lose case, accents' marks, spaces and punctuation (``O'Brien`` and ``OBRIEN`` are one
name); each forename also carries the formal names it may be a nickname of (the
hand-curated ``nicknames`` package). Dates are read in the date format, or as ISO dates,
which cannot be mistaken for another format. Postcodes are written one way.

A list row that cannot be a participant (no name at all, no programme, no start date) is
set aside with its reason, and a row typed twice is counted once: nothing is dropped
without a count.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources

import polars as pl

from evaluation.link.fields import DUPLICATE, NO_NAME, NO_PROGRAMME, NO_START, SEX_WORDS
from evaluation.load import contract


@lru_cache(maxsize=1)
def nickname_pairs() -> pl.DataFrame:
    """(nickname, formal) pairs, lower case, from the ``nicknames`` package's names.csv."""
    with resources.files("nicknames").joinpath("names.csv").open(encoding="utf-8") as fh:
        rows = [(r["name2"], r["name1"]) for r in csv.DictReader(fh) if r["relationship"] == "has_nickname"]
    return pl.DataFrame(rows, schema=["nickname", "formal"], orient="row").unique()


def _name(column: str) -> pl.Expr:
    return (pl.col(column).str.normalize("NFKD").str.to_lowercase().str.replace_all(r"[^a-z]", "")
            .replace("", None).alias(column))


def _date(column: str, date_format: str) -> pl.Expr:
    """In the date format; or ISO, which no other format writes; or an Excel date cell as
    calamine writes it (2010-01-31 00:00:00)."""
    text = pl.col(column).cast(pl.String).str.strip_chars()
    cell = pl.when(text.str.contains(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?$")).then(text.str.slice(0, 10))
    return pl.coalesce(text.str.to_date(contract.DATE_FORMATS[date_format], strict=False),
                       text.str.to_date("%Y-%m-%d", strict=False),
                       cell.str.to_date("%Y-%m-%d", strict=False)).alias(column)


def _dates(frame: pl.DataFrame, names: list[str], date_format: str) -> pl.DataFrame:
    return frame.with_columns(pl.col(c) if frame.schema[c] == pl.Date else _date(c, date_format)
                              for c in names if c in frame.columns)


def _comparable(frame: pl.DataFrame) -> pl.DataFrame:
    """The columns the model compares (every input has forename, surname, date_of_birth)."""
    for optional in ("sex", "postcode"):
        if optional not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(optional))
    frame = frame.with_columns(
        _name("forename"), _name("surname"),
        pl.col("sex").str.strip_chars().str.to_lowercase().replace_strict(SEX_WORDS, default=None).alias("sex"),
        pl.col("postcode").str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "")
        .str.replace(r"^(.+)([0-9][A-Z]{2})$", "$1 $2").replace("", None).alias("postcode"),
    )
    names = (frame.select("uid", "forename").join(nickname_pairs(), left_on="forename", right_on="nickname")
             .group_by("uid").agg(pl.col("formal")))
    return (frame.join(names, on="uid", how="left")
            .with_columns(pl.concat_list(pl.col("forename"), pl.col("formal").fill_null([])).list.unique(maintain_order=True)
                          .alias("forename_names"),
                          pl.col("date_of_birth").dt.year().alias("year_of_birth"),
                          pl.col("date_of_birth").dt.strftime("%Y-%m-%d").alias("dob_text"),
                          pl.col("postcode").str.extract(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ", 1).alias("postcode_district"))
            .select("uid", "forename", "forename_names", "surname", "date_of_birth", "year_of_birth", "dob_text",
                    "sex", "postcode", "postcode_district"))


def prepare_list(raw: pl.DataFrame, date_format: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows, comparable): every list row with its ``row`` number (1 = first row under the
    header), its programme, dates, ``set_aside`` reason (null for a row to link) and whether a
    date of birth or referral date was written but is not a date (it is then missing: linked
    on the rest, or carried without a referral date, and counted); and the rows to link in
    the model's columns."""
    raw = raw.with_row_index("uid", 1).with_columns(pl.col("uid").cast(pl.Int64))
    if "referral_date" not in raw.columns:
        raw = raw.with_columns(pl.lit(None, pl.String).alias("referral_date"))
    frame = _dates(raw, ["date_of_birth", "start_date", "referral_date"], date_format)
    written = {c: raw[c].cast(pl.String).str.strip_chars().replace("", None).is_not_null()
               for c in ("date_of_birth", "referral_date")}
    frame = frame.with_columns((written[c] & pl.col(c).is_null()).alias(f"{c}_unreadable") for c in written)
    comparable = _comparable(frame.drop("programme", "start_date", "referral_date", "date_of_birth_unreadable",
                                        "referral_date_unreadable"))
    programme = pl.col("programme").str.strip_chars().replace("", None)
    rows = (frame.select("uid", programme.alias("programme"), "start_date", "referral_date",
                         "date_of_birth_unreadable", "referral_date_unreadable")
            .join(comparable.select("uid", "forename", "surname", "date_of_birth"), on="uid"))
    first_of = (pl.col("uid").min().over("forename", "surname", "date_of_birth", "programme", "start_date"))
    rows = rows.with_columns(
        pl.when(pl.col("forename").is_null() & pl.col("surname").is_null()).then(pl.lit(NO_NAME))
        .when(pl.col("programme").is_null()).then(pl.lit(NO_PROGRAMME))
        .when(pl.col("start_date").is_null()).then(pl.lit(NO_START))
        .when(first_of != pl.col("uid")).then(pl.lit(DUPLICATE))
        .alias("set_aside"),
        first_of.alias("first_row"),
    ).drop("forename", "surname", "date_of_birth").rename({"uid": "row"})
    keep = rows.filter(pl.col("set_aside").is_null())["row"]
    return rows, comparable.filter(pl.col("uid").is_in(keep.implode()))


def prepare_identified(raw: pl.DataFrame, date_format: str) -> tuple[pl.DataFrame, int]:
    """The identified people in the model's columns, with ``person_id``; and how many rows
    were set aside for having no person_id. A person_id on several rows is one person known
    by several names (aliases): each row is compared, and a link is to the person."""
    frame = _dates(raw.with_row_index("uid", 1).with_columns(pl.col("uid").cast(pl.Int64)), ["date_of_birth"],
                   date_format)
    frame = frame.with_columns(pl.col("person_id").str.strip_chars().replace("", None))
    usable = frame.filter(pl.col("person_id").is_not_null())
    comparable = _comparable(usable.drop("person_id")).join(usable.select("uid", "person_id"), on="uid")
    return comparable, frame.height - usable.height
