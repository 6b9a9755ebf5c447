"""Crashes and re-runs: an evaluation killed (SIGKILL) at any stage leaves the previous
outputs intact and complete with no partial files, and a re-run succeeds with the same
results; concurrent evaluations do not interfere or corrupt a shared folder."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from evaluation.files.workspace import run_lock, work_folder
from synthetic_data import SOUTHAMPTON, generate

DRIVER = textwrap.dedent('''
    import os, signal, sys
    from pathlib import Path
    import evaluation.load.loader as L
    import evaluation.files.output_folder as O
    import dataclasses
    import evaluation.pipeline.runner as P
    import evaluation.pipeline.steps as S
    from evaluation.settings.model import StudySettings

    data, out, kill_at = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    def after(key):
        """Die as soon as the declared step ``key`` has finished."""
        def wrap(run):
            def wrapped(*args, **kwargs):
                run(*args, **kwargs)
                die()
            return wrapped
        S.STEPS = tuple(dataclasses.replace(s, run=wrap(s.run)) if s.key == key else s for s in S.STEPS)

    def on_call(module, name, n):
        original, calls = getattr(module, name), []
        def wrapped(*args, **kwargs):
            calls.append(1)
            if len(calls) == n:
                die()
            return original(*args, **kwargs)
        setattr(module, name, wrapped)

    if kill_at == "during load":
        on_call(L, "_read_file", 2)          # after the first table is read
    elif kill_at.startswith("after "):
        after(kill_at.split()[1])
    elif kill_at == "mid write":
        on_call(O.os, "fsync", 3)            # some output files written, not all
    elif kill_at == "before swap":
        O._exchange = die
    P.run_evaluation(StudySettings(data_dir=data, out_dir=out, bootstrap_resamples=100))
''')

# Between two steps nothing is written beside the outputs (only the private work folder and
# the database in it), so three of the seven gaps stand for them all: after the load, after
# the match (the matched sample in memory and in the work folder) and after the last check.
KILL_POINTS = ["during load", "after load", "after match", "after falsification", "mid write", "before swap"]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def run_driver(tmp_path: Path, data: Path, out: Path, kill_at: str) -> subprocess.CompletedProcess:
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    return subprocess.run([sys.executable, str(script), str(data), str(out), kill_at],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    data = tmp_path_factory.mktemp("crash") / "data"
    generate(replace(SOUTHAMPTON, people=2500, participants=80), data, seed=9)
    return data


def test_sigkill_at_every_stage_leaves_previous_outputs_intact(small, tmp_path):
    out = tmp_path / "out"
    first = run_driver(tmp_path, small, out, "none")
    assert first.returncode == 0, first.stderr
    before = snapshot(out)
    assert "results.json" in before and "report.html" in before
    for kill_at in KILL_POINTS:
        proc = run_driver(tmp_path, small, out, kill_at)
        assert proc.returncode == -signal.SIGKILL, (kill_at, proc.returncode, proc.stderr[-2000:])
        assert snapshot(out) == before, f"outputs changed after a kill {kill_at}"
    rerun = run_driver(tmp_path, small, out, "none")
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads((out / "results.json").read_text()) == json.loads(before["results.json"])
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith((".out.new-", ".out.old-"))]
    assert leftovers == []
    assert not work_folder(out).exists(), "the person-level work folder was not removed after the run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["driver.py", "out"], "files left beside the outputs"


def test_two_evaluations_to_different_folders_do_not_interfere(small, tmp_path):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    procs = [subprocess.Popen([sys.executable, str(script), str(small), str(tmp_path / name), "none"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name in ("a", "b")]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    assert (tmp_path / "a" / "results.json").read_bytes() == (tmp_path / "b" / "results.json").read_bytes()


def test_a_second_evaluation_of_the_same_folder_fails_clearly(small, tmp_path):
    out = tmp_path / "out"
    with run_lock(out):  # as if another evaluation were writing it
        proc = run_driver(tmp_path, small, out, "none")
    assert proc.returncode != 0
    assert "another evaluation" in proc.stderr and "is writing this output folder" in proc.stderr
    assert not out.exists()


def test_concurrent_evaluations_of_one_folder_leave_it_complete(small, tmp_path):
    out = tmp_path / "out"
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    procs = [subprocess.Popen([sys.executable, str(script), str(small), str(out), "none"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outcomes = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    assert any(code == 0 for code, _ in outcomes)
    for code, err in outcomes:
        assert code == 0 or "another evaluation" in err, err[-1500:]
    results = json.loads((out / "results.json").read_text())
    assert results["cohort"]["participants"] == 80
    assert {"report.html", "summary.md", "manifest.json"} <= {p.name for p in out.iterdir()}
