"""Bounded resources and settings that used to be internal errors (issue 35, finding 5):
each is refused in one line, before any work starts."""

from __future__ import annotations

import json
import os

import pytest

from evaluation.errors import DataFileError, SettingsError
from evaluation.settings.model import StudySettings, load_study, study_with_operations


@pytest.mark.parametrize("setting, value, match", [
    ("seed", -1, "seed"),  # was an internal error after Prefect started
    ("index_shift_days", 10 ** 12, "index_shift_days"),
    ("bootstrap_resamples", 100_000_000, "bootstrap_resamples"),  # asked for 149 GiB
    ("cutoff", "2100-01-01", "in the future"),  # was accepted without a warning
    ("name", "x" * 500, "name"),
    ("name", "   ", "name"),
    ("programmes", ("p" * 300,), "longer than 200"),
    ("programmes", tuple(f"p{i}" for i in range(1001)), "programmes"),
])
def test_an_out_of_bounds_setting_is_refused_in_one_line(tmp_path, setting, value, match):
    with pytest.raises(SettingsError, match=match) as caught:
        StudySettings(data_dir=tmp_path, out_dir=tmp_path / "o", **{setting: value})
    assert "\n" not in str(caught.value)


def test_a_study_file_that_is_not_utf8_is_refused(tmp_path):
    study = tmp_path / "s.toml"
    study.write_bytes(b'[study]\nname = "caf\xe9"\ndata_dir = "d"\nout_dir = "o"\n')
    for read in (load_study, study_with_operations):
        with pytest.raises(SettingsError, match="not UTF-8"):
            read(study)


def test_a_data_folder_naming_too_many_programmes_is_refused_before_loading(folder, tmp_path):
    """Found: 100,000 programmes crashed after 101 s (UndefinedError 'note')."""
    from evaluation.load.preflight import MAX_PROGRAMMES, preflight

    data = folder(people=["P1,1980,M,W,0,0,50"], offences=["P1,2006-01-01,2006-02-01,theft,fine,"],
                  participants=[f"P1,prog{i},2006-05-01,," for i in range(MAX_PROGRAMMES + 1)])
    with pytest.raises(SettingsError, match="choose them with --programme"):
        preflight(StudySettings(data_dir=data, out_dir=tmp_path / "out"))


def test_a_table_that_is_a_link_to_a_device_is_refused_not_skipped(folder, tmp_path):
    """Found: custody.csv as a symlink to /dev/zero was loaded as 0 rows, silently."""
    from evaluation.load.loader import find_table_files

    data = folder(people=["P1,1980,M,W,0,0,50"], offences=["P1,2006-01-01,2006-02-01,theft,fine,"],
                  participants=["P1,A,2006-05-01,,"])
    (data / "custody.csv").symlink_to("/dev/zero")
    with pytest.raises(DataFileError, match="not a plain file"):
        find_table_files(data)


def test_reproduce_reads_only_the_data_folders_own_files(tmp_path):
    """Found: a manifest naming ../../etc/passwd had it hashed; one without data_dir was an
    internal error."""
    from evaluation.provenance.reproduce import reproduce

    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "data").mkdir()
    (out / "results.json").write_text("{}")
    manifest = {"inputs": [{"file": "../../etc/passwd", "table": "people", "sha256": "0" * 64}],
                "data_dir": str(tmp_path / "data"), "settings": {}}
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SettingsError, match="not a file name in the data folder"):
        reproduce(out / "manifest.json")
    del manifest["data_dir"]
    manifest["inputs"][0]["file"] = "people.csv"
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SettingsError, match="records no data folder"):
        reproduce(out / "manifest.json")


@pytest.mark.parametrize("variable", ["REOFFEND_PSEUDONYM_KEY", "REOFFEND_DISCLOSURE_KEY"])
def test_a_key_of_one_repeated_character_is_refused(monkeypatch, variable):
    from evaluation.load.pseudonymise import key_from_environment
    from evaluation.report.rounding import disclosure_key

    monkeypatch.setenv(variable, "a" * 32)
    with pytest.raises(SettingsError, match="repeat|repetitive"):
        (key_from_environment if variable == "REOFFEND_PSEUDONYM_KEY" else disclosure_key)()
    monkeypatch.setenv(variable, os.urandom(24).hex())
    assert (key_from_environment if variable == "REOFFEND_PSEUDONYM_KEY" else disclosure_key)()
