"""The national snapshot (issue 38): the national extract loaded once, each request's load a
copy of it with only the participants read. A request's database, rejects and report are
those a load of every file gives; a snapshot of other files or options is refused."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb
import pytest

from evaluation.errors import DataFileError
from evaluation.load.loader import load_data, load_snapshot

PEOPLE = ["P1,1980,MALE,,,,", "P2,1980,M,,,,", "P4,1975,F,,,,", "P5,1990,M,,1,,"]
OFFENCES = ["P1,2010-01-01,2010-02-01,theft,,", "P2,2010-01-01,2010-02-01,public order,,",
            "P3,2010-01-01,2010-02-01,theft,,", "P2,2010-01-03,2010-02-03,theft,,",
            "P4,2009-05-01,2009-06-01,burglary,custody,90", "P5,2010-01-01,not a date,theft,,",
            "P4,2010-05-01,2010-12-01,theft,,"]
CUSTODY = ["P4,2009-06-01,2009-08-30", "P5,2010-02-01,2009-01-01"]
PARTICIPANTS = ["P1,OLASS,2010-03-01,,", "P2,OLASS,2010-03-01,,", "P4,OLASS,2010-13-01,,", "P9,OLASS,2010-03-01,,",
                "P4,OLASS,2010-04-01,,", "P5,Other,2010-04-01,,"]


def _national(folder, tmp_path: Path) -> tuple[Path, Path]:
    data = folder(people=PEOPLE, offences=OFFENCES, participants=PARTICIPANTS, custody=CUSTODY)
    request = tmp_path / "request"
    request.mkdir()
    (data / "participants.csv").rename(request / "participants.csv")
    return data, request / "participants.csv"


def _tables(db: Path) -> dict[str, list]:
    with duckdb.connect(str(db), read_only=True) as con:
        names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        return {n: con.execute(f'SELECT * FROM "{n}" ORDER BY ALL').fetchall() for n in names}


@pytest.mark.parametrize("cutoff", [None, dt.date(2011, 1, 1)])
def test_a_load_from_the_snapshot_equals_a_load_of_every_file(folder, tmp_path, cutoff):
    data, participants = _national(folder, tmp_path)
    whole = load_data(data, tmp_path / "whole" / "work.duckdb", participants=participants, cutoff=cutoff)
    snapshot = tmp_path / "snap" / "national.duckdb"
    snapshot.parent.mkdir()
    info = load_snapshot(data, snapshot, cutoff=cutoff)
    assert info["read"] == {"people": 4, "offences": 7, "custody": 2} and "participants" not in info["read"]
    copied = load_data(data, tmp_path / "copy" / "work.duckdb", participants=participants, cutoff=cutoff,
                       snapshot=snapshot)
    assert copied.to_dict() == whole.to_dict() and copied.reject_kinds == whole.reject_kinds
    assert copied.summary() == whole.summary()
    assert (tmp_path / "copy" / "rejects.csv").read_bytes() == (tmp_path / "whole" / "rejects.csv").read_bytes()
    assert (tmp_path / "copy" / "load_report.json").read_bytes() == (tmp_path / "whole" / "load_report.json").read_bytes()
    assert _tables(tmp_path / "copy" / "work.duckdb") == _tables(tmp_path / "whole" / "work.duckdb")
    # a participant whose person was rejected in the snapshot's people is rejected for it
    rejects = (tmp_path / "copy" / "rejects.csv").read_text()
    assert "participants,participants.csv,2,person_id,its person was rejected in people" in rejects.replace('"', "")
    # the snapshot is read, never changed, and a second request's load from it is the same
    before = snapshot.read_bytes()
    again = load_data(data, tmp_path / "again" / "work.duckdb", participants=participants, cutoff=cutoff,
                      snapshot=snapshot)
    assert again.to_dict() == whole.to_dict() and snapshot.read_bytes() == before
    assert oct(os.stat(tmp_path / "copy" / "work.duckdb").st_mode & 0o777) == "0o600"


def test_a_snapshot_of_other_files_or_options_is_refused(folder, tmp_path):
    data, participants = _national(folder, tmp_path)
    snapshot = tmp_path / "national.duckdb"
    load_snapshot(data, snapshot)
    work = tmp_path / "work" / "work.duckdb"
    with pytest.raises(DataFileError, match="does not match this load \\(date_format differ\\)"):
        load_data(data, work, participants=participants, date_format="DD/MM/YYYY", snapshot=snapshot)
    with pytest.raises(DataFileError, match="cutoff_given differ"):
        load_data(data, work, participants=participants, cutoff=dt.date(2011, 1, 1), snapshot=snapshot)
    with (data / "offences.csv").open("a") as fh:  # the national file changed after the snapshot
        fh.write("P2,2010-01-04,2010-02-04,theft,,\n")
    with pytest.raises(DataFileError, match="files differ.*make it again"):
        load_data(data, work, participants=participants, snapshot=snapshot)
    forged = tmp_path / "forged.duckdb"
    duckdb.connect(str(forged)).close()
    with pytest.raises(DataFileError, match="is not a national snapshot made by reoffend"):
        load_data(data, work, participants=participants, snapshot=forged)
    assert not work.exists() and not list(work.parent.glob(".*tmp"))  # nothing half-made left
