"""Scheduled evaluations against a real Prefect server on loopback: serve a study,
trigger a run through Prefect's CLI, check the outputs appear, and check the schedule
stays active after the serving process stops."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from synthetic_data import SOUTHAMPTON, generate

pytestmark = pytest.mark.server
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float, what: str, interval: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_LOGGING_LEVEL="WARNING",
               PREFECT_RUNNER_POLL_FREQUENCY="2")
    log = open(home / "server.log", "w")
    proc = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def healthy():
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                return r.status == 200
        except OSError:
            return proc.poll() is not None and pytest.fail((home / "server.log").read_text()[-2000:])

    try:
        wait_for(healthy, 120, "the Prefect server")
        yield url, {**env, "PREFECT_API_URL": url}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


def prefect_cli(env, *args, timeout=60):
    return subprocess.run([str(BIN / "prefect"), *args], env=env, capture_output=True, text=True, timeout=timeout)


def small_data_and_studies(tmp_path, seed):
    """A small generated data folder (150 participants) and an empty studies folder."""
    data, studies = tmp_path / "data", tmp_path / "studies"
    generate(replace(SOUTHAMPTON, people=6000, participants=150), data, seed=seed)
    studies.mkdir()
    return data, studies


def test_served_study_runs_on_request_and_keeps_its_schedule(server, tmp_path):
    url, env = server
    data, studies = small_data_and_studies(tmp_path, seed=3)
    out = tmp_path / "out"
    (studies / "pilot.toml").write_text(
        f'[study]\nname = "pilot"\ndata_dir = "{data}"\nout_dir = "{out}"\nbootstrap_resamples = 200\n\n'
        '[study.schedule]\ncron = "0 6 2 * *"\ntimezone = "Europe/London"\n'
    )
    log = open(tmp_path / "serve.log", "w")
    serving = subprocess.Popen([str(BIN / "reoffend"), "serve", str(studies)], env=env, cwd=tmp_path,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def deployed():
            r = prefect_cli(env, "deployment", "inspect", "evaluate/pilot")
            return r.returncode == 0 and r.stdout

        inspected = wait_for(deployed, 90, "the deployment to register")
        assert "0 6 2 * *" in inspected and "Europe/London" in inspected
        run = prefect_cli(env, "deployment", "run", "evaluate/pilot")
        assert run.returncode == 0, run.stdout + run.stderr
        wait_for(lambda: (out / "results.json").exists(), 240, "the served run's results", interval=2)
        results = json.loads((out / "results.json").read_text())
        assert results["cohort"]["participants"] == 150
        assert (out / "manifest.json").exists()
    finally:
        os.killpg(serving.pid, signal.SIGTERM)
        serving.wait(timeout=60)
        log.close()
    # the serving process is gone; the deployment's schedule is still active
    after = prefect_cli(env, "deployment", "inspect", "evaluate/pilot")
    assert after.returncode == 0
    assert "'paused': False" in after.stdout or '"paused": false' in after.stdout
    assert "'active': True" in after.stdout or '"active": true' in after.stdout


def test_work_pool_with_two_workers_runs_several_studies(server, tmp_path):
    url, env = server
    data, studies = small_data_and_studies(tmp_path, seed=4)
    outs = {}
    for name, programme_days in (("alpha", 365), ("beta", 300), ("gamma", 240)):
        outs[name] = tmp_path / f"out-{name}"
        (studies / f"{name}.toml").write_text(
            f'[study]\nname = "{name}"\ndata_dir = "{data}"\nout_dir = "{outs[name]}"\n'
            f"bootstrap_resamples = 200\n\n[study.windows]\nafter_days = {programme_days}\n"
        )
    created = prefect_cli(env, "work-pool", "create", "evaluations", "--type", "process")
    assert created.returncode == 0, created.stdout + created.stderr
    deployed = subprocess.run([str(BIN / "reoffend"), "serve", str(studies), "--pool", "evaluations"],
                              env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert deployed.stdout.count("deployed evaluate/") == 3
    workers, logs = [], []
    try:
        for i in range(2):
            logs.append(open(tmp_path / f"worker{i}.log", "w"))
            workers.append(subprocess.Popen(
                # one run at a time each: three runs cannot all go to one worker
                [str(BIN / "prefect"), "worker", "start", "--pool", "evaluations", "--name", f"worker-{i}",
                 "--limit", "1"],
                env={**env, "PREFECT_WORKER_QUERY_SECONDS": "2", "PREFECT_LOGGING_LEVEL": "INFO"}, cwd=tmp_path,
                stdout=logs[-1], stderr=subprocess.STDOUT, start_new_session=True))
        for name in outs:
            run = prefect_cli(env, "deployment", "run", f"evaluate/{name}")
            assert run.returncode == 0, run.stdout + run.stderr
        wait_for(lambda: all((o / "results.json").exists() for o in outs.values()), 360,
                 "three evaluations on two workers", interval=3)
        for name, out in outs.items():
            results = json.loads((out / "results.json").read_text())
            assert results["study"]["name"] == name
    finally:
        for w in workers:
            os.killpg(w.pid, signal.SIGTERM)
        for w in workers:
            w.wait(timeout=60)
        for log in logs:
            log.close()
    # both workers picked up work
    worker_logs = [(tmp_path / f"worker{i}.log").read_text() for i in range(2)]
    assert all("flow run" in text.lower() for text in worker_logs), [t[-1500:] for t in worker_logs]


def test_the_operators_prefect_commands_work_against_a_real_server(server):
    """prefect 3.8.8's client sends explicit nulls (``{"limit": null, "sort": null}``) that
    fastapi 0.151 and later reject with HTTP 422; the pinned fastapi maps them to defaults."""
    url, env = server
    for command in (("deployment", "ls"), ("artifact", "ls"), ("flow-run", "ls"), ("work-pool", "ls")):
        result = prefect_cli(env, *command)
        assert result.returncode == 0, f"prefect {' '.join(command)}: {result.stdout[-800:]}{result.stderr[-800:]}"
        assert "Unprocessable" not in result.stdout + result.stderr  # (a bare "422" can be part of an id)
    log = (Path(env["PREFECT_HOME"]) / "server.log").read_text()
    assert " 422" not in log, [line for line in log.splitlines() if " 422" in line][:3]
