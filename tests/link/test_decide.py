"""One decision per list row: linked, ambiguous (two people too close to call) or not linked."""

from __future__ import annotations

import polars as pl

from evaluation.link import decide


def _decided(pairs: list[tuple[int, int, float, float]], people: dict[int, str], rows: list[int], **kw):
    frame = pl.DataFrame(pairs, schema=["uid_l", "uid_r", "match_weight", "match_probability"], orient="row")
    ids = pl.DataFrame({"uid": list(people), "person_id": list(people.values())})
    ranked = decide.best_people(frame, ids)
    return decide.decide(pl.DataFrame({"row": rows}), ranked, **kw), ranked


def test_a_clear_best_person_above_the_threshold_is_linked_and_a_close_second_makes_it_ambiguous():
    decided, _ = _decided([(1, 10, 20.0, 0.999), (1, 11, 10.0, 0.6),       # 1: clear
                           (2, 12, 20.0, 0.999), (2, 13, 19.0, 0.998),      # 2: twins, too close
                           (3, 14, 1.0, 0.7)],                               # 3: below the threshold
                          {10: "A", 11: "B", 12: "C", 13: "D", 14: "E"}, [1, 2, 3, 4])
    by_row = dict(zip(decided["row"].to_list(), decided["decision"].to_list()))
    assert by_row == {1: decide.LINKED, 2: decide.AMBIGUOUS, 3: decide.NOT_LINKED, 4: decide.NOT_LINKED}
    assert decided.filter(pl.col("row") == 1)["person_id"].item() == "A"


def test_the_margin_is_ten_times_as_likely():
    def verdict(second: float) -> str:
        decided, _ = _decided([(1, 10, 20.0, 0.999), (1, 11, second, 0.99)], {10: "A", 11: "B"}, [1])
        return decided["decision"].item()
    assert verdict(20.0 - decide.MARGIN_WEIGHT - 0.01) == decide.LINKED
    assert verdict(20.0 - decide.MARGIN_WEIGHT + 0.01) == decide.AMBIGUOUS


def test_two_records_of_one_person_are_not_two_candidates():
    # aliases: two rows of person A score alike; that is not ambiguity
    decided, ranked = _decided([(1, 10, 20.0, 0.999), (1, 11, 19.5, 0.998)], {10: "A", 11: "A"}, [1])
    assert decided["decision"].item() == decide.LINKED
    assert ranked.height == 1


def test_the_threshold_is_the_callers():
    decided, _ = _decided([(1, 10, 3.0, 0.95)], {10: "A"}, [1], threshold=0.99)
    assert decided["decision"].item() == decide.NOT_LINKED


def test_estimated_precision_is_the_links_mean_probability_and_review_takes_the_uncertain():
    decided, ranked = _decided([(1, 10, 20.0, 1.0), (2, 11, 4.0, 0.92), (3, 12, 0.0, 0.5), (4, 13, -5, 0.1)],
                               {10: "A", 11: "B", 12: "C", 13: "D"}, [1, 2, 3, 4])
    assert abs(decide.estimated_precision(decided) - (1.0 + 0.92) / 2) < 1e-12
    review = decide.for_review(decided, ranked)
    assert review["uid_l"].to_list() == [2, 3]  # linked below 0.99, and not linked above the floor
