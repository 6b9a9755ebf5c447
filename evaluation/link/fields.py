"""What ``reoffend link`` reads: a council's participant list and the police extract's
identified people, described like the data contract's tables so the column map, the date
format and the missing-column hints work on them as they do on the data."""

from __future__ import annotations

from evaluation.load.contract import SEXES, Column, Table

LIST = Table(
    "list",
    required=True,
    description="A council's participant list: one row per person and start, keyed by name and date of birth.",
    columns=(
        Column("forename", "text", description="first name as the council recorded it"),
        Column("surname", "text", description="family name"),
        Column("date_of_birth", "date", description="date of birth (a missing one is linked on the rest)"),
        Column("sex", "enum", required=False, allowed=SEXES, description="M, F or U"),
        Column("postcode", "text", required=False, description="home postcode"),
        Column("programme", "text", description="programme name"),
        Column("start_date", "date", description="date the person started"),
        Column("referral_date", "date", required=False, description="date the person was referred"),
    ),
)

IDENTIFIED = Table(
    "identified",
    required=True,
    description="The police extract's identified people: one row per person_id.",
    columns=(
        Column("person_id", "text", description="the id the people, offences and custody tables use"),
        Column("forename", "text", description="first name"),
        Column("surname", "text", description="family name"),
        Column("date_of_birth", "date", description="date of birth"),
        Column("sex", "enum", required=False, allowed=SEXES, description="M, F or U"),
        Column("postcode", "text", required=False, description="last known postcode"),
    ),
)

FIELDS = frozenset(c.name for t in (LIST, IDENTIFIED) for c in t.columns)

#: Words a list uses for sex, read as the contract's codes.
SEX_WORDS = {"m": "M", "male": "M", "man": "M", "f": "F", "female": "F", "woman": "F", "u": "U", "unknown": "U",
             "not known": "U", "x": "U", "other": "U"}

#: Why a list row was set aside before linking, or not identified by it: the only reasons a
#: linkage.json may give (an evaluation refuses others, so no free text reaches a report).
NO_NAME = "no forename or surname"
NO_PROGRAMME = "no programme"
NO_START = "start date missing or not a date"
NO_MATCH = "no match in the police data above the threshold"
TOO_CLOSE = "more than one possible match (see the clerical review)"
NOT_IDENTIFIED_REASONS = (NO_MATCH, TOO_CLOSE, NO_NAME, NO_START, NO_PROGRAMME)
#: A row counted once: typed twice, or linked to the same person, programme and start as an earlier row.
DUPLICATE = "the same person, programme and start as an earlier row"
SAME_LINK = "linked to the same person, programme and start as an earlier row"
