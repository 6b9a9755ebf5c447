"""The input data contract: one definition that loading, docs and tests share.

A data folder holds one file per table, named ``<table>.csv``, ``<table>.parquet`` or
``<table>.xlsx`` (its first sheet; evaluation/load/excel.py).
The staging SQL in ``sql/staging/`` enforces the row-level rules listed here; this
module holds the names, types and allowed values that the loader checks at file level
and that ``docs/data-contract.md`` documents.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

CATEGORIES: tuple[str, ...] = (
    "violence",
    "sexual",
    "robbery",
    "burglary",
    "theft",
    "criminal_damage",
    "drugs",
    "public_order",
    "fraud",
    "motoring",
    "other",
)

#: Offence groups used in reports (Southampton's "largest falls" were in the first three).
OFFENCE_GROUPS: dict[str, tuple[str, ...]] = {
    "against_the_person": ("violence", "sexual", "robbery"),
    "property": ("burglary", "theft", "criminal_damage", "fraud"),
    "drugs": ("drugs",),
    "other": ("public_order", "motoring", "other"),
}

DISPOSALS: tuple[str, ...] = (
    "custody",
    "community",
    "suspended",
    "fine",
    "discharge",
    "caution",
    "other",
)

SEXES: tuple[str, ...] = ("M", "F", "U")

#: Spellings accepted for booleans (compared case-insensitively, surrounding space ignored).
TRUE_WORDS: tuple[str, ...] = ("true", "1", "y", "yes")
FALSE_WORDS: tuple[str, ...] = ("false", "0", "n", "no")

PERSON_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"

#: Earliest date accepted anywhere in the data.
EARLIEST_DATE = "1900-01-01"

#: The ways a file may write its dates (the study's ``date_format``), and how each is read.
#: One format for every date column of a folder's text files; Parquet's typed dates are
#: read as they are.
DATE_FORMATS: dict[str, str] = {
    "YYYY-MM-DD": "%Y-%m-%d",
    "DD/MM/YYYY": "%d/%m/%Y",
    "DD-MM-YYYY": "%d-%m-%Y",
    "DD.MM.YYYY": "%d.%m.%Y",
    "MM/DD/YYYY": "%m/%d/%Y",
}
ISO_DATES = "YYYY-MM-DD"

#: A table with more than this share of rows rejected gets a warning.
REJECT_WARNING_SHARE = 0.05

#: Age of criminal responsibility in England and Wales.
MIN_AGE_AT_OFFENCE = 10


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # "text", "int", "float", "date", "bool", "enum"
    required: bool = True
    description: str = ""
    allowed: tuple[str, ...] = ()
    #: a date that must lie between EARLIEST_DATE and the data cut-off
    bounded: bool = False
    #: a date that must be on or after (or before) another date column of its table
    on_or_after: str = ""
    on_or_before: str = ""

    @property
    def duckdb_type(self) -> str:
        return {
            "text": "VARCHAR",
            "enum": "VARCHAR",
            "int": "INTEGER",
            "float": "DOUBLE",
            "date": "DATE",
            "bool": "BOOLEAN",
        }[self.type]


@dataclass(frozen=True)
class Table:
    name: str
    required: bool
    description: str
    columns: tuple[Column, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


PEOPLE = Table(
    "people",
    required=True,
    description="One row per anonymised person.",
    columns=(
        Column("person_id", "text", description="1-64 letters, digits, '_' or '-'; unique"),
        Column("birth_year", "int", description="year of birth, 1900 or later"),
        Column("sex", "enum", allowed=SEXES, description="M, F or U"),
        Column("ethnicity", "text", required=False, description="free text"),
        Column("mappa", "bool", required=False, description="managed under MAPPA; default false"),
        Column("ppo", "bool", required=False, description="prolific and priority offender; default false"),
        Column("ogrs3", "float", required=False, description="OGRS3 risk score, 0-100"),
    ),
)

OFFENCES = Table(
    "offences",
    required=True,
    description="One row per proven offence (conviction or caution).",
    columns=(
        Column("person_id", "text", description="must be in people"),
        Column("offence_date", "date", bounded=True, description="date the offence was committed"),
        Column("outcome_date", "date", bounded=True, on_or_after="offence_date",
               description="date proven; on or after offence_date"),
        Column("category", "enum", allowed=CATEGORIES, description="offence category"),
        Column("disposal", "enum", required=False, allowed=DISPOSALS, description="sentence or outcome"),
        Column("custody_days", "int", required=False, description="days in custody for this offence, >= 0"),
    ),
)

PARTICIPANTS = Table(
    "participants",
    required=True,
    description="One row per programme start.",
    columns=(
        Column("person_id", "text", description="must be in people"),
        Column("programme", "text", description="programme name"),
        Column("start_date", "date", bounded=True, description="date the person started"),
        Column("end_date", "date", required=False, on_or_after="start_date",
               description="date the person left; on or after start_date"),
        Column("referral_date", "date", required=False, on_or_before="start_date",
               description="date the person was referred; on or before start_date. When given, their record is "
               "measured as at the latest conviction, caution or release on or before it"),
        Column("referral_source", "text", required=False, description="e.g. prison, probation, yot"),
    ),
)

CUSTODY = Table(
    "custody",
    required=False,
    description="Periods in custody (optional). An empty custody_end means still in custody.",
    columns=(
        Column("person_id", "text", description="must be in people"),
        Column("custody_start", "date", bounded=True, description="first day in custody"),
        Column("custody_end", "date", required=False, on_or_after="custody_start",
               description="release date; on or after custody_start"),
    ),
)

#: Tables in load order: people first, because the others are checked against it.
TABLES: tuple[Table, ...] = (PEOPLE, OFFENCES, PARTICIPANTS, CUSTODY)
TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}

FILE_SUFFIXES: tuple[str, ...] = (".csv", ".parquet", ".xlsx")
#: What reoffend link writes beside the participants it identified: how the list was linked,
#: read by an evaluation of those participants (its cohort flow starts at the list).
LINKAGE_FILE = "linkage.json"

#: Headers exports commonly give the contract's columns, for the hint when one is missing
#: (the column map, the study's ``columns``, says which header is which).
COMMON_HEADERS: dict[str, tuple[str, ...]] = {
    "person_id": ("pnc id", "pnc", "pnc number", "pnc no", "nominal id", "offender id", "person", "id", "cro number"),
    "birth_year": ("year of birth", "yob", "birth year"),
    "sex": ("gender",),
    "offence_date": ("date of offence", "offence committed", "committed date", "date committed"),
    "outcome_date": ("conviction date", "date of conviction", "disposal date", "sentence date", "date proven",
                     "outcome"),
    "category": ("offence category", "offence type", "offence group", "crime type"),
    "disposal": ("sentence", "disposal type", "outcome type"),
    "programme": ("programme name", "program", "intervention", "scheme", "project"),
    "start_date": ("date started", "programme start", "start", "date of start"),
    "referral_date": ("date referred", "referred", "date of referral"),
    "custody_start": ("reception date", "date into custody", "custody date"),
    "custody_end": ("release date", "discharge date", "date released"),
    # a council's participant list and the police's identified people (reoffend link)
    "forename": ("first name", "firstname", "given name", "forenames", "first names", "christian name"),
    "surname": ("last name", "lastname", "family name", "second name"),
    "date_of_birth": ("dob", "d.o.b", "birth date", "date of birth", "birthdate"),
    "postcode": ("post code", "postal code", "zip"),
}
#: Files that look like a table but that the loader cannot read, and what to do about them.
UNREADABLE_SUFFIXES: dict[str, str] = {
    ".xls": "an Excel 97-2003 workbook; save it as .xlsx or as CSV (UTF-8)",
    ".xlsm": "an Excel workbook with macros; save it as .xlsx or as CSV (UTF-8)",
    ".ods": "an OpenDocument spreadsheet; save it as .xlsx or as CSV (UTF-8)",
    ".tsv": "tab-separated; save it as CSV (comma-separated, UTF-8)",
    ".txt": "a text file; save it as CSV (comma-separated, UTF-8) named .csv",
    ".json": "JSON; give the table as CSV, Parquet or .xlsx",
}


#: The date columns of every table, whose checks (sql/staging/macros.sql, date_problem) read
#: their rules from here: required, bounded, and ordered against another date column.
DATE_COLUMNS: tuple[Column, ...] = tuple(c for t in TABLES for c in t.columns if c.type == "date")


def date_rules(date_format: str = ISO_DATES) -> dict[str, object]:
    """The contract's date rules as the values the staging checks read (load/set_check_value;
    a dict becomes a MAP, load/set_check_map), with the data's date format."""
    return {
        "date_format_name": date_format,
        "date_format": DATE_FORMATS[date_format],
        "required_dates": [c.name for c in DATE_COLUMNS if c.required],
        "bounded_dates": [c.name for c in DATE_COLUMNS if c.bounded],
        "earliest_date": dt.date.fromisoformat(EARLIEST_DATE),
        "on_or_after": {c.name: c.on_or_after for c in DATE_COLUMNS if c.on_or_after},
        "on_or_before": {c.name: c.on_or_before for c in DATE_COLUMNS if c.on_or_before},
    }
