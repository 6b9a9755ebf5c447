"""Never overwrite what the tool did not write, for every path option (issue 35, finding 3):
one policy (evaluation/files/output_folder.py), tested here per option."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest

from evaluation.errors import OutputFolderError, SettingsError
from evaluation.files.output_folder import MARKER, check_output_folder, write_outputs
from synthetic_data import SOUTHAMPTON, generate

SMALL = replace(SOUTHAMPTON, people=2000, participants=60)


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_library_site_equal_to_out_or_in_the_data_folder_is_refused(tmp_path):
    """Found: --library-site equal to --out replaced the evaluation's report with the site
    (and still printed "report: .../report.html"); inside the data folder it wrote there."""
    from evaluation.settings.model import StudySettings

    base = dict(data_dir=tmp_path / "data", out_dir=tmp_path / "out", council="X", programme_type="employment",
                library=tmp_path / "lib" / "library.duckdb")
    for site, where in ((tmp_path / "out", "output folder"), (tmp_path / "out" / "site", "output folder"),
                        (tmp_path / "data" / "site", "data folder")):
        with pytest.raises(SettingsError, match=f"library_site must be outside the {where}"):
            StudySettings(**base, library_site=site)
    with pytest.raises(SettingsError, match="library must be outside the output folder"):
        StudySettings(**{**base, "library": tmp_path / "out" / "library.duckdb"})


def test_a_folder_is_replaced_only_by_the_same_kind(tmp_path):
    """The marker says what the tool wrote: a site never replaces an evaluation's outputs,
    synthetic data never replaces outputs, and so on; the same kind replaces itself."""
    out = write_outputs(tmp_path / "out", {"results.json": "{}"})
    before = digest(out)
    assert json.loads((out / MARKER).read_text())["kind"] == "evaluation outputs"
    for kind in ("library site", "pseudonymised data", "synthetic data"):
        with pytest.raises(OutputFolderError, match=f"holds evaluation outputs this tool wrote, not {kind}"):
            write_outputs(out, {"index.html": "x"}, kind=kind)
    assert digest(out) == before
    write_outputs(out, {"results.json": "{\"again\": 1}"})  # the same kind: replaced
    assert (out / "results.json").read_text() == "{\"again\": 1}"


def test_library_build_over_an_evaluations_outputs_is_refused(tmp_path):
    from evaluation.library.site import build_site
    from evaluation.library.store import _connect

    out = write_outputs(tmp_path / "out", {"results.json": "{}", "report.html": "<p>"})
    library = tmp_path / "library.duckdb"
    _connect(library, create=True).close()
    with pytest.raises(OutputFolderError, match="not library site"):
        build_site(library, out)
    assert (out / "report.html").read_text() == "<p>"


def test_synth_never_writes_over_a_folder_it_did_not_make(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "people.csv").write_text("my own file\n")
    with pytest.raises(OutputFolderError, match="holds files this tool did not write"):
        generate(SMALL, mine)
    assert (mine / "people.csv").read_text() == "my own file\n"
    made = generate(SMALL, tmp_path / "synth")
    generate(SMALL, tmp_path / "synth", seed=2)  # its own synthetic data: replaced whole
    assert json.loads((made.out_dir / MARKER).read_text())["kind"] == "synthetic data"


def test_load_never_replaces_a_file_its_loader_did_not_write(tmp_path):
    """Found: `reoffend load --db FILE` overwrote any existing file, a library included."""
    from evaluation.library.store import _connect
    from evaluation.load.loader import load_data

    data = generate(SMALL, tmp_path / "data").out_dir
    library = tmp_path / "library.duckdb"
    _connect(library, create=True).close()
    notes = tmp_path / "notes.duckdb"
    notes.write_text("my notes\n")
    for path, match in ((library, "loader did not write"), (notes, "not a DuckDB database"),
                        (data / "records.duckdb", "inside the data folder")):
        before = path.read_bytes() if path.exists() else None
        with pytest.raises(OutputFolderError, match=match):
            load_data(data, path)
        assert (path.read_bytes() if path.exists() else None) == before
    db = tmp_path / "work" / "records.duckdb"
    load_data(data, db)
    load_data(data, db)  # its own database: replaced


def test_pseudonymise_out_is_refused_over_an_evaluations_outputs(tmp_path, monkeypatch):
    from evaluation.load.pseudonymise import pseudonymise

    data = generate(SMALL, tmp_path / "data").out_dir
    out = write_outputs(tmp_path / "out", {"results.json": "{}"})
    with pytest.raises(OutputFolderError, match="not pseudonymised data"):
        pseudonymise(data, out, id_column="person_id", key=b"k7#Qz!x9Lm2@Vb5^Tr8&Wn4*Yp1(Hs6)")
    assert (out / "results.json").read_text() == "{}"


def test_reproduce_never_writes_a_library_or_site(tmp_path):
    """Found: reproduce honoured the library path and site a manifest recorded."""
    from evaluation.provenance.reproduce import settings_from_manifest
    from evaluation.settings.model import StudySettings

    recorded = StudySettings(data_dir=tmp_path / "d", out_dir=tmp_path / "o", council="X", programme_type="employment",
                             library=tmp_path / "elsewhere" / "library.duckdb", library_site=tmp_path / "www")
    again = settings_from_manifest(json.loads(json.dumps(recorded.record())), tmp_path / "re", tmp_path / "d")
    assert again.library.path is None and again.library.site is None


def test_the_output_folder_checks_name_the_option(tmp_path):
    with pytest.raises(OutputFolderError, match="^--library-site"):
        check_output_folder(tmp_path / "x", data_dir=tmp_path / "x", option="--library-site")
