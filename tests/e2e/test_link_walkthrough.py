"""The analyst's walk-through of issue 37, with documented options only: a council's Excel list
("First Name", "DOB", UK dates) linked to the police's identified people, and the police
extract ("PNC ID", "Offence Date", dd/mm/yyyy) evaluated, the report's cohort flow starting at
the list submitted. Before `reoffend link`, none of it could get in, and the people a
hand-written linkage lost were never counted."""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import replace

import polars as pl
import pytest

from cli.main import main
from evaluation.load import contract
from evaluation.report.disclosure import partner_results
from synthetic_data import SOUTHAMPTON, generate

POLICE_HEADERS = {"person_id": "PNC ID", "offence_date": "Offence Date"}


def _uk(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col(c).str.to_date("%Y-%m-%d").dt.strftime("%d/%m/%Y")
                              for c in frame.columns if c.endswith(("_date", "_start", "_end", "of_birth")))


@pytest.fixture(scope="module")
def council(tmp_path_factory):
    """A police extract as the police export it and a council's list as the council keeps it."""
    import xlsxwriter

    root = tmp_path_factory.mktemp("walk")
    made = generate(replace(SOUTHAMPTON, people=6_000, participants=250), root / "synth", seed=8, council_list=True)
    police = root / "police"
    police.mkdir()
    for table in contract.TABLES:
        source = made.out_dir / f"{table.name}.csv"
        if source.exists():
            _uk(pl.read_csv(source, infer_schema=False)).rename(
                lambda c: POLICE_HEADERS.get(c, c)).write_csv(police / source.name)
    identified = root / "identified"
    identified.mkdir()
    _uk(pl.read_csv(made.out_dir / "identified.csv", infer_schema=False)).rename(
        {"person_id": "PNC ID", "forename": "Forename", "surname": "Surname", "date_of_birth": "Date of Birth",
         "sex": "Sex", "postcode": "Postcode"}).write_csv(identified / "people.csv")
    # the list as a workbook: start dates as Excel dates, dates of birth typed as text
    with open(made.out_dir / "council_list.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    book = xlsxwriter.Workbook(str(root / "participants.xlsx"))
    sheet, as_date = book.add_worksheet(), book.add_format({"num_format": "dd/mm/yyyy"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if r and rows[0][c] == "Start Date" and value:
                sheet.write_datetime(r, c, dt.datetime.strptime(value, "%d/%m/%Y"), as_date)
            else:
                sheet.write_string(r, c, value)
    book.close()
    return {"police": police, "identified": identified / "people.csv", "list": root / "participants.xlsx",
            "truth": made.truth["links"], "root": root}


def test_a_council_list_is_linked_and_the_police_extract_evaluated_from_the_list_submitted(council, capsys):
    root = council["root"]
    assert main(["link", str(council["list"]), "--people", str(council["identified"]), "--out", str(root / "linked"),
                 "--column", "forename=First Name", "--column", "date_of_birth=DOB",
                 "--people-column", "person_id=PNC ID", "--date-format", "DD/MM/YYYY", "--quiet"]) == 0
    said = capsys.readouterr().out
    linkage = json.loads((root / "linked" / "linkage.json").read_text())
    listed = council["truth"]["rows"] - linkage["rows"]["duplicates"]
    assert f"{council['truth']['rows']:,} rows in the list" in said

    assert main(["evaluate", "--data", str(council["police"]), "--participants", str(root / "linked" / "participants.csv"),
                 "--column", "person_id=PNC ID", "--column", "offence_date=Offence Date",
                 "--date-format", "DD/MM/YYYY", "--out", str(root / "out"), "--quiet"]) == 0
    said = capsys.readouterr().out
    results = json.loads((root / "out" / "results.json").read_text())
    link, cohort = results["cohort"]["linkage"], results["cohort"]
    assert link["listed"] == listed == link["identified"] + sum(link["not_identified"].values())
    assert link["identified_people"] >= cohort["submitted"] == cohort["participants"] + sum(cohort["excluded"].values())
    assert all(t["rejected"] == 0 for t in results["load"]["tables"].values())  # every UK date and header read
    # the flow starts at the list, in every output
    flow = pl.read_csv(root / "out" / "tables" / "cohort_flow.csv")
    assert flow["stage"][0] == "submitted on the council's list" and flow["people"][0] == listed
    line = (f"{listed:,} submitted on the council's list, {link['identified']:,} identified in the police data "
            f"({link['identified_people']:,} people), {cohort['participants']:,} analysed")
    assert line in said and line in (root / "out" / "summary.md").read_text()
    html = (root / "out" / "report.html").read_text()
    assert "on the council&#39;s list" in html or "on the council's list" in html
    # the partner view: the same flow, in rounded counts that add up
    view, _ = partner_results(results, 5, key=b"w" * 32)
    shown = view["cohort"]["linkage"]
    assert shown["listed"] % 5 == 0 and shown["listed"] == shown["identified"] + sum(shown["not_identified"].values())
    # the analyst's manifest records where the participants and linkage.json were; a partner's does not
    from evaluation.report.build import partner_manifest

    manifest = json.loads((root / "out" / "manifest.json").read_text())
    assert {e["table"] for e in manifest["inputs"]} >= {"participants", "linkage", "people", "offences"}
    assert str(root / "linked") in json.dumps(manifest)
    assert str(root / "linked") not in json.dumps(partner_manifest(manifest))
    # the reproduce command finds the participants where the run read them
    assert main(["reproduce", str(root / "out" / "manifest.json")]) == 0
    # ... and where it is now, when it has moved (its linkage.json beside it): --participants
    (root / "linked").rename(root / "moved")
    assert main(["reproduce", str(root / "out" / "manifest.json")]) == 1
    assert "missing; give where it is now with --participants FILE" in capsys.readouterr().out
    assert main(["reproduce", str(root / "out" / "manifest.json"), "--participants",
                 str(root / "moved" / "participants.csv")]) == 0
    (root / "moved").rename(root / "linked")
