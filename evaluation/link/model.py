"""The linkage model: a Fellegi-Sunter model in splink, on DuckDB.

Each comparison of a list row with an identified person scores names, date of birth,
postcode and sex level by level. u (how often two different people agree at a level) is
estimated from random pairs, which are almost all different people; m (how often the same
person does) by expectation maximisation within blocking rules, u held fixed; the prior
from pairs that agree on name and date of birth exactly, with an assumed recall. Every
step is seeded or exact, so a seed always gives the same links.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import duckdb

#: Blocking: the pairs that are scored at all. A true link is missed only when it differs on
#: every rule, which takes errors in two of forename, surname, date of birth and postcode.
BLOCKING_RULES = (
    ("date_of_birth",),
    ("forename", "surname"),
    ("surname", "year_of_birth"),
    ("forename", "year_of_birth", "sex"),
    ("postcode",),
)

#: Pairs the prior is estimated from, and how many of the true links they are assumed to hold.
DETERMINISTIC_RULES = (("forename", "surname", "date_of_birth"),)
DETERMINISTIC_RECALL = 0.8

#: Expectation maximisation runs within these blocks (each one leaves its own columns' m
#: probabilities to the other).
TRAINING_BLOCKS = (("date_of_birth",), ("forename", "surname"))

#: Random pairs for u.
U_PAIRS = 2_000_000


@dataclass(frozen=True)
class Level:
    comparison: str
    level: str
    m: float | None
    u: float | None


def _comparisons():
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    def name(column: str, nickname: bool):
        levels = [cll.NullLevel(column), cll.ExactMatchLevel(column)]
        if nickname:  # a nickname and its formal name, or two nicknames of one name
            levels.append(cll.ArrayIntersectLevel(f"{column}_names", 1).configure(label_for_charts="nickname"))
        levels += [cll.JaroWinklerLevel(column, 0.92), cll.JaroWinklerLevel(column, 0.8), cll.ElseLevel()]
        return cl.CustomComparison(comparison_levels=levels, output_column_name=column)

    dob = cl.CustomComparison(output_column_name="date_of_birth", comparison_levels=[
        cll.NullLevel("date_of_birth"),
        cll.ExactMatchLevel("date_of_birth"),
        cll.CustomLevel("year_of_birth_l = year_of_birth_r AND month(date_of_birth_l) = day(date_of_birth_r) "
                        "AND day(date_of_birth_l) = month(date_of_birth_r)", "day and month swapped"),
        cll.DamerauLevenshteinLevel("dob_text", 1),
        cll.AbsoluteDateDifferenceLevel("date_of_birth", input_is_string=False, threshold=1, metric="year"),
        cll.ElseLevel(),
    ])
    postcode = cl.CustomComparison(output_column_name="postcode", comparison_levels=[
        cll.NullLevel("postcode"), cll.ExactMatchLevel("postcode"), cll.ExactMatchLevel("postcode_district"),
        cll.ElseLevel()])
    return [name("forename", True), name("surname", False), dob, postcode, cl.ExactMatch("sex")]


def settings():
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="uid",
        comparisons=_comparisons(),
        blocking_rules_to_generate_predictions=[block_on(*rule) for rule in BLOCKING_RULES],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


@dataclass
class FittedModel:
    linker: object
    prior: float
    levels: tuple[Level, ...]


def fit(con: duckdb.DuckDBPyConnection, list_table, people_table, seed: int) -> FittedModel:
    """Train the model on the list and the identified people (Arrow tables, put in ``con``)."""
    from splink import DuckDBAPI, Linker, block_on

    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.ERROR)  # its advice is for notebooks
    db = DuckDBAPI(connection=con)
    left = db.register(list_table, table_name="link_left")
    right = db.register(people_table, table_name="link_right")
    linker = Linker([left, right], settings(), log_level=None)
    training = linker.training
    training.estimate_probability_two_random_records_match(
        [block_on(*rule) for rule in DETERMINISTIC_RULES], recall=DETERMINISTIC_RECALL)
    if not linker._settings_obj._probability_two_random_records_match > 0:  # the prior's log is every weight's start
        from evaluation.errors import ReoffendError

        raise ReoffendError("no row of the list has the forename, surname and date of birth of an identified person "
                            "exactly, so the model cannot learn how many of the list are in the police data; check "
                            "--column, --people-column and --date-format (a list of real participants has many)")
    training.estimate_u_using_random_sampling(max_pairs=U_PAIRS, seed=seed)
    _exact_u(linker, list_table, people_table)
    for rule in TRAINING_BLOCKS:
        training.estimate_parameters_using_expectation_maximisation(block_on(*rule))
    _settle(linker)
    # the m and u prediction uses: a level never seen among random pairs gets splink's u of 1e-6
    levels = tuple(Level(c.output_column_name, lv.label_for_charts, lv.m_probability, lv.u_probability)
                   for c in linker._settings_obj.comparisons for lv in c.comparison_levels if not lv.is_null_level)
    prior = linker._settings_obj._probability_two_random_records_match
    return FittedModel(linker, float(prior), levels)


def _agreement(left, right, column: str) -> float:
    """P(a random list row and a random identified row have the same, known, ``column``)."""
    import polars as pl

    def shares(table) -> pl.DataFrame:
        values = pl.from_arrow(table.select([column])).to_series().drop_nulls()
        return values.value_counts(name="n").with_columns(pl.col("n") / table.num_rows)

    joined = shares(left).join(shares(right), on=column)
    return float((joined["n"] * joined["n_right"]).sum())


def _exact_u(linker, left, right) -> None:
    """u of exact agreement computed from the two files' value frequencies, not sampled. At
    national scale two random records share a postcode about once in ten million pairs, which
    no affordable sample sees (splink then assumes 1e-6, a hundred times too often)."""
    comparisons = {c.output_column_name: c for c in linker._settings_obj.comparisons}
    for column in ("forename", "surname", "date_of_birth", "postcode"):
        exact = comparisons[column].comparison_levels[1]  # after the null level
        exact.u_probability = max(_agreement(left, right, column), 1e-12)
    district = comparisons["postcode"].comparison_levels[2]
    district.u_probability = max(_agreement(left, right, "postcode_district")
                                 - comparisons["postcode"].comparison_levels[1].u_probability, 1e-12)


def _settle(linker) -> None:
    """Every parameter to 8 significant figures. DuckDB's sums come out in a different order
    from run to run, changing the last bits of m (1e-16), and the same seed must give the same
    model and links; a change that crosses a rounding step is about a chance in ten million."""
    def settled(value: float) -> float:
        return float(f"{value:.8g}")

    for comparison in linker._settings_obj.comparisons:
        for level in comparison.comparison_levels:
            if level.is_null_level:
                continue
            if level.m_probability is not None:
                level.m_probability = settled(level.m_probability)
            if level.u_probability is not None:
                level.u_probability = settled(level.u_probability)
    settings = linker._settings_obj
    settings._probability_two_random_records_match = settled(settings._probability_two_random_records_match)


def candidate_pairs(model: FittedModel, threshold: float = 0.001) -> duckdb.DuckDBPyRelation:
    """Every scored pair with a match probability of at least ``threshold``: uid_l (list
    row), uid_r (identified person's row), match_weight, match_probability."""
    frame = model.linker.inference.predict(threshold_match_probability=threshold)
    return frame.as_duckdbpyrelation().select("uid_l, uid_r, match_weight, match_probability")
