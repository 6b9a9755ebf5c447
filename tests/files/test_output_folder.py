"""The output-folder policy: the tool replaces only a folder it wrote itself, and never
puts locks or person-level work files beside the outputs (safety issue, finding 1 and 8).

Each refusal is checked through the real command: exit 2, one line, nothing changed."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from evaluation.errors import OutputFolderError
from evaluation.files.output_folder import MARKER, check_output_folder, write_outputs
from evaluation.files.workspace import state_dir, work_folder
from evaluation.pipeline.runner import run_evaluation
from evaluation.settings.model import StudySettings
from synthetic_data import SOUTHAMPTON, generate

SMALL = replace(SOUTHAMPTON, people=4000, participants=100)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): (b"<dir>" if p.is_dir() else p.read_bytes())
            for p in sorted(folder.rglob("*"))}


def evaluate_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli.main", "evaluate", *args, "--quiet"],
                          capture_output=True, text=True, cwd=cwd, env={**os.environ, **(env or {})}, timeout=120)


def assert_refused(proc: subprocess.CompletedProcess, words: str) -> None:
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert words in proc.stderr, proc.stderr


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("outfolders") / "data"
    generate(SMALL, folder, seed=4)
    return folder


def test_home_folder_is_refused_and_untouched(tmp_path, data):
    home = tmp_path / "home"
    for name, text in {"Documents/cv.txt": "mine", ".ssh/id_ed25519": "key", ".bashrc": "alias"}.items():
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        (home / name).write_text(text)
    before = snapshot(home)
    proc = evaluate_cli("--data", str(data), "--out", str(home), env={"HOME": str(home)})
    assert_refused(proc, "home folder")
    assert snapshot(home) == before


def test_data_folder_and_its_relatives_are_refused(tmp_path, data):
    before = snapshot(data)
    assert_refused(evaluate_cli("--data", str(data), "--out", str(data)), "is the data folder")
    assert_refused(evaluate_cli("--data", str(data), "--out", str(data.parent)), "contains the data folder")
    assert_refused(evaluate_cli("--data", str(data), "--out", str(data / "out")), "inside the data folder")
    assert snapshot(data) == before
    assert not (data / "out").exists()


def test_root_folder_is_refused_and_nothing_is_written_there(data):
    before = set(os.listdir("/"))
    assert_refused(evaluate_cli("--data", str(data), "--out", "/"), "root folder")
    assert set(os.listdir("/")) == before


def test_current_folder_is_refused_with_one_line(tmp_path, data):
    work = tmp_path / "here"
    work.mkdir()
    (work / "notes.txt").write_text("keep me")
    proc = evaluate_cli("--data", str(data), "--out", ".", cwd=work)
    assert_refused(proc, "current folder")
    assert sorted(os.listdir(work)) == ["notes.txt"]


def test_symlinked_out_is_refused_and_its_target_untouched(tmp_path, data):
    target = tmp_path / "target"
    target.mkdir()
    (target / "precious.txt").write_text("x")
    link = tmp_path / "link"
    link.symlink_to(target)
    assert_refused(evaluate_cli("--data", str(data), "--out", str(link)), "symbolic link")
    assert link.is_symlink() and sorted(os.listdir(target)) == ["precious.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "target"]  # no dangling staging link


def test_foreign_non_empty_folder_is_refused(tmp_path, data):
    out = tmp_path / "reports"
    out.mkdir()
    (out / "budget.xlsx").write_text("x")
    assert_refused(evaluate_cli("--data", str(data), "--out", str(out)), "did not write (budget.xlsx)")
    assert sorted(os.listdir(out)) == ["budget.xlsx"]


def test_own_folder_is_replaced_but_not_if_someone_added_a_file(tmp_path):
    out = tmp_path / "out"
    write_outputs(out, {"results.json": "{}", "tables/a.csv": "a\n"})
    assert (out / MARKER).is_file()
    write_outputs(out, {"results.json": "{\"v\": 2}"})  # ours: replaced whole
    assert sorted(os.listdir(out)) == [MARKER, "results.json"]
    (out / "my-notes.md").write_text("mine")
    with pytest.raises(OutputFolderError, match="my-notes.md"):
        write_outputs(out, {"results.json": "{}"})
    assert (out / "my-notes.md").read_text() == "mine"
    check_output_folder(tmp_path / "new")  # a folder that does not exist is fine
    (tmp_path / "empty").mkdir()
    check_output_folder(tmp_path / "empty")


def test_no_lock_or_work_files_beside_the_outputs_and_work_removed(tmp_path, data):
    out = tmp_path / "outputs" / "study"
    settings = StudySettings(data_dir=data, out_dir=out, bootstrap_resamples=100, robustness=False)
    run_evaluation(settings)
    assert sorted(os.listdir(out.parent)) == ["study"], "lock or work files beside the output folder"
    assert not settings.work_path.exists(), "person-level work folder left after a successful run"
    assert state_dir() in settings.work_path.parents
    assert not any(p.suffix == ".duckdb" for p in out.rglob("*"))


def test_keep_work_keeps_the_database_in_the_state_folder(tmp_path, data):
    out = tmp_path / "study"
    settings = StudySettings(data_dir=data, out_dir=out, bootstrap_resamples=100, robustness=False, keep_work=True)
    run_evaluation(settings)
    assert settings.db_path.is_file() and settings.work_path == work_folder(out)
    assert settings.work_path.stat().st_mode & 0o777 == 0o700
    assert sorted(os.listdir(tmp_path)) == ["study"]


def test_operator_work_dir_gets_a_subfolder_that_alone_is_removed(tmp_path, data):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (scratch / "other.txt").write_text("not ours")
    settings = StudySettings(data_dir=data, out_dir=tmp_path / "o", work_dir=scratch,
                             bootstrap_resamples=100, robustness=False)
    # in this user's private folder of the scratch folder, with a name nobody can guess
    assert settings.work_path.parent.parent == scratch
    assert settings.work_path.parent.name.startswith(f"reoffend-{os.getuid()}-")
    run_evaluation(settings)
    assert sorted(os.listdir(scratch)) == ["other.txt"]


def test_work_dir_inside_the_outputs_is_refused(tmp_path):
    from evaluation.errors import SettingsError

    with pytest.raises(SettingsError, match="inside the output folder"):
        StudySettings(data_dir=tmp_path, out_dir=tmp_path / "o", work_dir=tmp_path / "o" / "w")


def test_a_link_planted_in_a_shared_work_dir_is_never_followed(tmp_path, data):
    """Found (issue 35, 4): with a shared --work-dir the work folder's name was predictable;
    a symlink planted there was followed and the person-level database written into the
    attacker's 0777 folder."""
    from evaluation.files.workspace import folder_key

    shared, attacker = tmp_path / "shared", tmp_path / "attacker"
    shared.mkdir(mode=0o777)
    attacker.mkdir(mode=0o777)
    out = tmp_path / "o"
    # every name the old code would have used, and a guess at the new parent's, point at the attacker
    (shared / f"reoffend-o-{folder_key(out)}").symlink_to(attacker)
    (shared / f"reoffend-{os.getuid()}-guess").symlink_to(attacker)
    settings = StudySettings(data_dir=data, out_dir=out, work_dir=shared, bootstrap_resamples=100,
                             robustness=False, keep_work=True)
    run_evaluation(settings)
    assert list(attacker.iterdir()) == []
    work = settings.work_path
    assert not work.parent.is_symlink() and (work / "evaluation.duckdb").is_file()
    for folder in (work.parent, work):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_a_killed_runs_person_level_files_are_removed_by_the_next_run_of_any_study(tmp_path, data):
    """Found (issue 35, 4): after SIGKILL the person-level database stayed until the same
    --out ran again."""
    from evaluation.files.workspace import make_work

    killed = StudySettings(data_dir=data, out_dir=tmp_path / "killed", bootstrap_resamples=100, robustness=False)
    left = make_work(killed.work_path)
    (left / "evaluation.duckdb").write_bytes(b"person-level")  # as a killed run leaves it
    kept = StudySettings(data_dir=data, out_dir=tmp_path / "kept", bootstrap_resamples=100, robustness=False,
                         keep_work=True)
    run_evaluation(kept)
    other = StudySettings(data_dir=data, out_dir=tmp_path / "other", bootstrap_resamples=100, robustness=False)
    run_evaluation(other)  # another study
    assert not left.exists()
    assert (kept.work_path / "evaluation.duckdb").is_file()  # kept on purpose: stays


def test_the_state_folder_and_work_folders_are_private(tmp_path, data, monkeypatch):
    """Found (issue 35, 4): the state folder and work/ were created 0755."""
    state = tmp_path / "fresh-state"
    monkeypatch.setenv("REOFFEND_STATE_DIR", str(state / "nested"))
    settings = StudySettings(data_dir=data, out_dir=tmp_path / "o", bootstrap_resamples=100, robustness=False,
                             keep_work=True)
    run_evaluation(settings)
    for folder in (state, state / "nested", state / "nested" / "work", settings.work_path):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_the_demo_names_its_data_option_and_a_legacy_synthetic_folder_is_kept_with_the_fix_named(tmp_path, capsys):
    """Found running `make demo` over the data an earlier version generated (no marker): it
    was refused, rightly, but the line named --out, which the user had not given, and did
    not say what to do."""
    from cli.main import main

    data = tmp_path / "data"
    data.mkdir()
    (data / "people.csv").write_text("person_id\n")
    (data / "truth.json").write_text('{"scenario": "southampton"}')
    assert main(["demo", "--data", str(data), "--out", str(tmp_path / "out"), "--no-councils", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"reoffend: error: --data {data}:") and "earlier version" in err and "delete" in err
    assert "--out" not in err and sorted(p.name for p in data.iterdir()) == ["people.csv", "truth.json"]
