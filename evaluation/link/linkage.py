"""``reoffend link``: a council's participant list linked to the police extract's identified
people by name, date of birth, sex and postcode, on the data holder's side.

The output folder gets the participants table in the data contract (person_id, programme,
start_date, referral_date), ``linkage.json`` (how every row of the list was placed, the
model and its estimated precision and recall) and ``clerical_review.csv``, the uncertain pairs
with their names: identified data, for the data holder only, never to leave the folder.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from evaluation.errors import ReoffendError
from evaluation.files.atomic import private_file
from evaluation.files.output_folder import check_output_folder, write_folder
from evaluation.link import decide as decisions
from evaluation.link import model as linkage_model
from evaluation.link import prepare
from evaluation.link.accuracy import model_recall
from evaluation.link.fields import (
    DUPLICATE,
    IDENTIFIED,
    LIST,
    NO_MATCH,
    NOT_IDENTIFIED_REASONS,
    SAME_LINK,
    TOO_CLOSE,
)
from evaluation.link.read import read_table
from evaluation.load import contract
from evaluation.provenance.manifest import sha256_file

SCHEMA = "reoffend linkage"
SCHEMA_VERSION = 1
PARTICIPANTS_FILE = "participants.csv"
LINKAGE_FILE = contract.LINKAGE_FILE
REVIEW_FILE = "clerical_review.csv"



@dataclass(frozen=True)
class LinkageResult:
    """How every row of a list was placed. ``rows`` = ``duplicates`` + Σ ``by_reason`` + ``linked``."""

    out_dir: Path
    rows: int
    linked: int
    duplicates: int
    not_identified: dict[str, int]
    by_programme: dict[str, dict]
    #: rows whose date of birth or referral date was written but is not a date (then missing)
    unreadable: dict[str, int]
    #: identified people's rows without a person_id (left out)
    without_person_id: int
    participants: int
    estimated_precision: float | None
    estimated_recall: float | None
    threshold: float
    seconds: float
    model: dict = field(repr=False, default_factory=dict)
    #: every list row: row, programme, start_date, person_id (when linked), match_probability, outcome
    decisions: pl.DataFrame = field(repr=False, default_factory=pl.DataFrame)

    def summary(self) -> str:
        lines = [f"{self.rows:,} rows in the list: {self.linked:,} identified, "
                 f"{sum(self.not_identified.values()):,} not identified, {self.duplicates:,} duplicate rows"]
        lines += [f"  not identified, {reason}: {n:,}" for reason, n in self.not_identified.items() if n]
        lines += [f"  {column.replace('_', ' ')} written but not a date (taken as missing): {n:,} rows"
                  for column, n in self.unreadable.items() if n]
        if self.without_person_id:
            lines.append(f"identified people's rows without a person_id, left out: {self.without_person_id:,}")
        est = ", ".join(f"{name} {value:.3f}" for name, value in
                        (("precision", self.estimated_precision), ("recall", self.estimated_recall)) if value is not None)
        lines.append(f"estimated by the model at match probability {self.threshold:g}: {est or 'nothing linked'}")
        lines.append(f"wrote {self.participants:,} participant starts to {self.out_dir / PARTICIPANTS_FILE}")
        lines.append(f"clerical review (names: keep it in this folder): {self.out_dir / REVIEW_FILE}")
        return "\n".join(lines)


def _counts(rows: pl.DataFrame) -> tuple[dict[str, int], dict[str, dict]]:
    """Not-identified counts by reason, overall and by programme (rows carry ``outcome``)."""
    listed = rows.filter(pl.col("outcome") != DUPLICATE)
    reasons = NOT_IDENTIFIED_REASONS
    overall = {r: int((listed["outcome"] == r).sum()) for r in reasons}
    by_programme = {}
    for programme in sorted(listed["programme"].drop_nulls().unique().to_list()):
        own = rows.filter(pl.col("programme") == programme)
        kept = own.filter(pl.col("outcome") != DUPLICATE)
        by_programme[programme] = {
            "listed": kept.height,
            "identified": int((kept["outcome"] == decisions.LINKED).sum()),
            "not_identified": {r: int((kept["outcome"] == r).sum()) for r in reasons if (kept["outcome"] == r).any()},
            "duplicates": own.height - kept.height,
        }
    return overall, by_programme


def one_link_per_start(rows: pl.DataFrame) -> pl.DataFrame:
    """A linked row with the same person, programme and start as an earlier *linked* row is
    counted once, as a duplicate (an ambiguous or unlinked row's best candidate is no link)."""
    linked = pl.col("outcome") == decisions.LINKED
    first = pl.when(linked).then(pl.col("row")).min().over("person_id", "programme", "start_date")
    again = linked & (first != pl.col("row"))
    return rows.with_columns(pl.when(again).then(pl.lit(DUPLICATE)).otherwise(pl.col("outcome")).alias("outcome"),
                             pl.when(again).then(pl.lit(SAME_LINK)).otherwise(pl.col("set_aside")).alias("set_aside"))


def link_list(list_path: str | os.PathLike, people_path: str | os.PathLike, out_dir: str | os.PathLike, *,
              columns: Mapping[str, str] | None = None, people_columns: Mapping[str, str] | None = None,
              date_format: str = contract.ISO_DATES,
              threshold: float = decisions.THRESHOLD, seed: int = 1,
              progress: Callable[[str], None] | None = None) -> LinkageResult:
    """Link the list at ``list_path`` to the identified people at ``people_path`` and write
    ``out_dir`` (a new folder, or one this command wrote before). ``columns`` and
    ``people_columns``: the column maps of the list and of the identified people
    (``{field: header}``); a header that is a field's name but for case and punctuation needs none."""
    say = progress or (lambda _m: None)
    started = time.perf_counter()
    if not 0.5 <= threshold < 1:
        raise ReoffendError("--threshold must be a match probability from 0.5 to below 1 (default 0.9)")
    check_output_folder(out_dir, kind="linked list")  # before the work, not after it
    say("reading the list and the identified people")
    raw_list = read_table(list_path, LIST, columns=columns, date_format=date_format, option="LIST")
    raw_people = read_table(people_path, IDENTIFIED, columns=people_columns, date_format=date_format, option="--people")
    if raw_list.height == 0:
        raise ReoffendError(f"{list_path}: the list has no rows under its header")
    rows, comparable = prepare.prepare_list(raw_list, date_format)
    if comparable.height == 0:
        reasons = rows["set_aside"].value_counts(sort=True)
        raise ReoffendError(f"{list_path}: no row of the list can be linked ({reasons['set_aside'][0]}: "
                            f"{reasons['count'][0]:,} of {rows.height:,} rows); check --column and --date-format")
    people, no_id = prepare.prepare_identified(raw_people, date_format)
    if people.height < 1_000:
        raise ReoffendError(f"{people_path}: {people.height:,} identified people with a person_id; linkage needs the "
                            "police extract's people (at least 1,000) to learn how often names agree by chance")
    say(f"linking {comparable.height:,} rows to {people.height:,} identified people (splink)")
    con = duckdb.connect()
    try:
        fitted = linkage_model.fit(con, comparable.to_arrow(), people.to_arrow(), seed)
        pairs = linkage_model.candidate_pairs(fitted).pl()
    finally:
        con.close()
    ranked = decisions.best_people(pairs, people)
    decided = decisions.decide(rows.filter(pl.col("set_aside").is_null()).select("row"), ranked, threshold)
    precision = decisions.estimated_precision(decided)
    recall = model_recall([asdict(level) for level in fitted.levels], fitted.prior, _null_shares(comparable, people),
                          threshold)
    rows = rows.join(decided.select("row", "person_id", "match_probability", "decision"), on="row", how="left")
    rows = rows.with_columns(pl.coalesce(
        pl.col("set_aside"),
        pl.col("decision").replace_strict({decisions.LINKED: decisions.LINKED, decisions.AMBIGUOUS: TOO_CLOSE,
                                           decisions.NOT_LINKED: NO_MATCH}, default=None)).alias("outcome"))
    rows = one_link_per_start(rows)
    overall, by_programme = _counts(rows)
    unreadable = {c: int(rows[f"{c}_unreadable"].sum()) for c in ("date_of_birth", "referral_date")}
    duplicates = int((rows["outcome"] == DUPLICATE).sum())
    linked = rows.filter(pl.col("outcome") == decisions.LINKED).sort("row")
    participants = linked.select("person_id", "programme", "start_date", "referral_date")
    review = _review(decisions.for_review(decided, ranked), raw_list, raw_people)
    if rows.height != duplicates + sum(overall.values()) + linked.height:
        raise ReoffendError("internal error: the list's rows do not reconcile")
    result_model = {"probability_two_random_records_match": fitted.prior,
                    "levels": [asdict(level) for level in fitted.levels],
                    "blocking_rules": [list(r) for r in linkage_model.BLOCKING_RULES],
                    "u_pairs": linkage_model.U_PAIRS, "seed": seed}

    def fill(staging: Path) -> None:
        target = staging / PARTICIPANTS_FILE
        participants.write_csv(target, date_format="%Y-%m-%d")
        review.write_csv(staging / REVIEW_FILE)
        for name in (PARTICIPANTS_FILE, REVIEW_FILE):
            private_file(staging / name)
        document = {
            "schema": SCHEMA, "schema_version": SCHEMA_VERSION,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "list": {"file": Path(list_path).name, "rows": rows.height},
            "identified": {"file": Path(people_path).name, "rows": raw_people.height,
                           "without_person_id": no_id, "people": people["person_id"].n_unique()},
            "rows": {"listed": rows.height, "duplicates": duplicates,
                     "identified": linked.height, "not_identified": overall,
                     "date_of_birth_unreadable": unreadable["date_of_birth"],
                     "referral_date_unreadable": unreadable["referral_date"]},
            "by_programme": by_programme,
            "participants": {"file": PARTICIPANTS_FILE, "rows": participants.height, "sha256": sha256_file(target)},
            "threshold": {"match_probability": threshold, "margin_match_weight": round(decisions.MARGIN_WEIGHT, 4)},
            "estimated": {"precision": precision, "recall": recall,
                          "how": "precision: the linked rows' mean match probability; recall: the share of true "
                                 "matches whose match weight reaches the threshold, under the model"},
            "model": result_model,
        }
        (staging / LINKAGE_FILE).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")

    say("writing the participants, linkage.json and the clerical review")
    out = write_folder(out_dir, fill, kind="linked list")
    return LinkageResult(out, rows.height, linked.height, duplicates, overall,
                         by_programme, unreadable, no_id, participants.height, precision, recall, threshold,
                         time.perf_counter() - started, result_model,
                         rows.select("row", "programme", "start_date", "person_id", "match_probability", "outcome"))


def _null_shares(comparable: pl.DataFrame, people: pl.DataFrame) -> dict[str, float]:
    """Per comparison, the share of pairs in which either record lacks the value."""
    def share(frame: pl.DataFrame, column: str) -> float:
        return frame[column].null_count() / frame.height if frame.height else 0.0
    return {c: 1 - (1 - share(comparable, c)) * (1 - share(people, c))
            for c in ("forename", "surname", "date_of_birth", "postcode", "sex")}


def _review(pairs: pl.DataFrame, raw_list: pl.DataFrame, raw_people: pl.DataFrame) -> pl.DataFrame:
    """The uncertain pairs with the names as each file wrote them."""
    listed = raw_list.with_row_index("row", 1).select(
        pl.col("row").cast(pl.Int64), *(pl.col(c).cast(pl.String).alias(f"list_{c}")
                                        for c in ("forename", "surname", "date_of_birth")))
    police = raw_people.with_row_index("uid_r", 1).select(
        pl.col("uid_r").cast(pl.Int64), *(pl.col(c).cast(pl.String).alias(f"police_{c}")
                                          for c in ("person_id", "forename", "surname", "date_of_birth")))
    names = ["list_forename", "list_surname", "list_date_of_birth", "police_person_id", "police_forename",
             "police_surname", "police_date_of_birth"]
    return (pairs.join(listed, left_on="uid_l", right_on="row").join(police, on="uid_r")
            .select(pl.col("uid_l").alias("list_row"), "decision", pl.col("rank").alias("candidate"),
                    pl.col("match_probability").round(4), *names)
            # the data holder opens it in a spreadsheet: a name that starts like a formula stays text
            .with_columns(pl.when(pl.col(c).str.contains(r"^[=+\-@\t\r]")).then("'" + pl.col(c)).otherwise(pl.col(c))
                          .alias(c) for c in names))
