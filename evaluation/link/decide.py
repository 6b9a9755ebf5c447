"""From scored pairs to one decision per list row, and what the model expects of them.

A list row is linked to the identified person whose best pair scores highest, when that
pair's match probability reaches the threshold and the next person's best pair is at least
``MARGIN_WEIGHT`` lower in match weight (ten times less likely); a row whose two best people
are closer than that is ambiguous and goes to clerical review, not to a guess.

The model's own view of its precision: the linked rows' mean match probability estimates the
share of links that are right; it rests on the model's probabilities being calibrated, which
the tests check against the generator's true links. Recall: evaluation/link/accuracy.py.
"""

from __future__ import annotations

import math

import polars as pl

#: The match probability a link needs, by default.
THRESHOLD = 0.9
#: How much more likely (in match weight, log2 of the Bayes factor) the linked person must be
#: than the next: 10 times.
MARGIN_WEIGHT = math.log2(10)
#: Pairs at least this likely go to clerical review when their row is not linked, or is
#: linked with less than REVIEW_CEILING.
REVIEW_FLOOR = 0.2
REVIEW_CEILING = 0.99

LINKED, AMBIGUOUS, NOT_LINKED = "linked", "ambiguous", "not linked"


def best_people(pairs: pl.DataFrame, people: pl.DataFrame) -> pl.DataFrame:
    """Per list row (``uid_l``), each candidate person's best pair, ranked: person_id,
    match_weight, match_probability, rank (1 = best)."""
    return (pairs.join(people.select(pl.col("uid").alias("uid_r"), "person_id"), on="uid_r")
            .group_by("uid_l", "person_id")
            .agg(pl.col("match_weight").max(), pl.col("match_probability").max(), pl.col("uid_r").min())
            .sort(["uid_l", "match_weight", "person_id"], descending=[False, True, False])
            .with_columns(pl.int_range(1, pl.len() + 1).over("uid_l").alias("rank")))


def decide(rows: pl.DataFrame, ranked: pl.DataFrame, threshold: float = THRESHOLD) -> pl.DataFrame:
    """``rows`` (the list rows to link, ``row``) with person_id, match_probability and decision."""
    best = ranked.filter(pl.col("rank") == 1).drop("rank")
    second = ranked.filter(pl.col("rank") == 2).select("uid_l", pl.col("match_weight").alias("next_weight"))
    scored = rows.join(best, left_on="row", right_on="uid_l", how="left").join(
        second, left_on="row", right_on="uid_l", how="left")
    clear = pl.col("next_weight").is_null() | (pl.col("match_weight") - pl.col("next_weight") >= MARGIN_WEIGHT)
    likely = pl.col("match_probability") >= threshold
    return scored.with_columns(
        pl.when(likely & clear).then(pl.lit(LINKED)).when(likely).then(pl.lit(AMBIGUOUS))
        .otherwise(pl.lit(NOT_LINKED)).alias("decision"))


def estimated_precision(decided: pl.DataFrame) -> float | None:
    """The model's own estimate of the share of links that are right: their mean match probability."""
    linked = decided.filter(pl.col("decision") == LINKED)["match_probability"]
    return float(linked.mean()) if linked.len() else None


def for_review(decided: pl.DataFrame, ranked: pl.DataFrame) -> pl.DataFrame:
    """The uncertain pairs a person should look at: each candidate of a row that is ambiguous,
    not linked, or linked with less than REVIEW_CEILING, when the pair is at least REVIEW_FLOOR."""
    uncertain = decided.filter((pl.col("decision") != LINKED) | (pl.col("match_probability") < REVIEW_CEILING))
    return (ranked.join(uncertain.select("row", "decision"), left_on="uid_l", right_on="row")
            .filter(pl.col("match_probability") >= REVIEW_FLOOR)
            .sort(["uid_l", "rank"]))
