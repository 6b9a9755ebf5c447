"""linkage.json read by an evaluation: another machine's file, checked before a number of it is used."""

from __future__ import annotations

import json
import os

import pytest

from evaluation.errors import DataFileError
from evaluation.link.fields import NO_MATCH, TOO_CLOSE
from evaluation.link.flow import read_linkage
from evaluation.provenance.manifest import sha256_file
from evaluation.report.disclosure import partner_results

ROWS = "person_id,programme,start_date,referral_date\nA,P,2010-01-01,\nB,P,2010-02-01,\nA,P,2011-01-01,\nC,Q,2010-03-01,\n"


def _linked(folder, **changes):
    folder.mkdir(exist_ok=True)
    (folder / "participants.csv").write_text(ROWS)
    document = {
        "schema": "reoffend linkage", "schema_version": 1,
        "by_programme": {"P": {"listed": 6, "identified": 3, "not_identified": {NO_MATCH: 2, TOO_CLOSE: 1},
                               "duplicates": 1},
                         "Q": {"listed": 1, "identified": 1, "not_identified": {}, "duplicates": 0}},
        "participants": {"file": "participants.csv", "rows": 4, "sha256": sha256_file(folder / "participants.csv")},
        "estimated": {"precision": 0.998, "recall": 0.97},
        "threshold": {"match_probability": 0.9},
    }
    for key, value in changes.items():
        document[key] = value
    (folder / "linkage.json").write_text(json.dumps(document))
    return folder / "participants.csv"


def test_the_flow_sums_the_evaluated_programmes_and_counts_people_once(tmp_path):
    flow = read_linkage(_linked(tmp_path / "l"), ("P",))
    assert (flow.listed, flow.identified, flow.identified_people, flow.duplicates) == (6, 3, 2, 1)
    assert flow.not_identified == {NO_MATCH: 2, TOO_CLOSE: 1}
    both = read_linkage(_linked(tmp_path / "l"), ("P", "Q"))
    assert (both.listed, both.identified, both.identified_people) == (7, 4, 3)


def test_no_linkage_json_is_no_linkage(tmp_path):
    (tmp_path / "participants.csv").write_text(ROWS)
    assert read_linkage(tmp_path / "participants.csv", ("P",)) is None


@pytest.mark.parametrize("forge, why", [
    (lambda f: (f / "participants.csv").write_text(ROWS + "D,P,2010-04-01,\n"), "another participants file"),
    (lambda f: _linked(f, by_programme={"P": {"listed": 9, "identified": 3, "not_identified": {NO_MATCH: 2},
                                              "duplicates": 0}}), "listed is not identified"),
    (lambda f: _linked(f, by_programme={"P": {"listed": 4, "identified": 4, "not_identified": {},
                                              "duplicates": 0}}), "the participants file has 3"),
    (lambda f: _linked(f, by_programme={"P": {"listed": 4, "identified": 3, "not_identified": {"<b>7 people</b>": 1},
                                              "duplicates": 0}}), "not a linkage.json"),
    (lambda f: _linked(f, by_programme={"P": {"listed": -1, "identified": 3, "not_identified": {},
                                              "duplicates": 0}}), "not a linkage.json"),
    (lambda f: _linked(f, schema="something else"), "not a linkage.json"),
    (lambda f: (f / "linkage.json").write_text("[1, 2]"), "not a JSON object"),
    (lambda f: (f / "linkage.json").write_text('{"a": NaN}'), "not valid JSON"),
    (lambda f: ((f / "linkage.json").unlink(), os.symlink("/etc/passwd", f / "linkage.json")), "a link is refused"),
])
def test_a_forged_or_broken_linkage_json_is_refused_in_one_line(tmp_path, forge, why):
    participants = _linked(tmp_path / "l")
    forge(tmp_path / "l")
    with pytest.raises(DataFileError, match=why) as caught:
        read_linkage(participants, ("P",))
    assert "\n" not in str(caught.value)


def test_a_partner_sees_the_list_in_rounded_counts_that_add_up():
    from tests.report import stored

    results = stored.results()
    results["cohort"]["linkage"] = {"listed": 431, "identified": 402, "identified_people": 397,
                                    "not_identified": {NO_MATCH: 26, TOO_CLOSE: 3}, "duplicates": 2,
                                    "estimated_precision": 0.9991, "estimated_recall": 0.9712, "threshold": 0.9}
    view, _ = partner_results(results, 5, key=b"k" * 32)
    link = view["cohort"]["linkage"]
    counts = [link["listed"], link["identified"], link["identified_people"], link["duplicates"],
              *link["not_identified"].values()]
    assert all(n % 5 == 0 for n in counts)
    assert link["listed"] == link["identified"] + sum(link["not_identified"].values())
