"""Scheduled evaluations against a real Prefect server on loopback: a run the scheduler
creates on a one-minute cron completes and logs its steps to Prefect; a failing study
fails once with its one-line reason and announces it to a webhook; a study served and
run on request keeps its schedule; a work pool's workers share studies; Ctrl-C stops
serving cleanly."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
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
               PREFECT_RUNNER_POLL_FREQUENCY="2",
               # the scheduler looks for schedules to fill every 5 s (default 60 s), so a
               # one-minute cron gets its first run within the minute
               PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="5")
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


def two_requests(participants: Path) -> dict[str, str]:
    """The participants file's rows split into two requests' files, a and b."""
    header, *rows = participants.read_text().splitlines()
    return {"a": "\n".join([header, *rows[::2]]) + "\n", "b": "\n".join([header, *rows[1::2]]) + "\n"}


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


def api(url: str, path: str, body: dict) -> list[dict]:
    """POST a filter to the server's API (every field given: prefect 3.8.8's server
    rejects explicit nulls)."""
    request = urllib.request.Request(f"{url}/{path}", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def runs_of(url: str, deployment_name: str) -> list[dict]:
    deployments = api(url, "deployments/filter", {"deployments": {"name": {"any_": [deployment_name]}}, "limit": 5})
    if not deployments:  # not registered yet
        return []
    return api(url, "flow_runs/filter", {"flow_runs": {"deployment_id": {"any_": [deployments[0]["id"]]}},
                                         "limit": 50, "sort": "EXPECTED_START_TIME_ASC"})


class Webhook(http.server.BaseHTTPRequestHandler):
    """A notification receiver on loopback: keeps each POST's body."""

    received: list[str] = []

    def do_POST(self):  # noqa: N802 - the standard library's name
        self.received.append(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_scheduled_runs_fire_complete_log_their_steps_and_a_failure_is_announced(server, tmp_path):
    """The scheduler itself creates the runs (auto_scheduled): with prefect 3.8.8 and
    SQLAlchemy 2.1 its every loop failed with "Can't evaluate bulk DML statement" and no
    run was ever created, although the schedule showed as active."""
    url, env = server
    data, studies = small_data_and_studies(tmp_path, seed=5)
    broken = tmp_path / "broken-data"
    shutil.copytree(Path(__file__).parents[1] / "data" / "bad" / "missing_required_column", broken)
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    made = subprocess.run([str(BIN / "python"), "-c", (
        "import sys; from prefect.blocks.notifications import CustomWebhookNotificationBlock as B; "
        "B(name='ops', url=sys.argv[1], json_data={'text': '{{subject}}: {{body}}'}).save('ops-alerts')"),
        f"http://127.0.0.1:{receiver.server_address[1]}/hook"], env=env, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr[-2000:]
    every_minute = '[study.schedule]\ncron = "* * * * *"\ntimezone = "Europe/London"\n'
    (studies / "monthly.toml").write_text(
        f'[study]\nname = "monthly"\ndata_dir = "{data}"\nout_dir = "{tmp_path / "out"}"\n'
        f"bootstrap_resamples = 200\n\n{every_minute}")
    (studies / "broken.toml").write_text(
        f'[study]\nname = "broken"\ndata_dir = "{broken}"\nout_dir = "{tmp_path / "out-broken"}"\n\n{every_minute}\n'
        '[study.notify]\non_failure = "custom-webhook/ops-alerts"\n')
    # a batch (issue 38): two requests against the extract, on the same schedule, into batches/<day>
    national, requests = tmp_path / "national", tmp_path / "requests"
    national.mkdir()
    for name in ("people.csv", "offences.csv", "custody.csv"):
        shutil.copy(data / name, national / name)
    for name, lines in two_requests(data / "participants.csv").items():
        (requests / name).mkdir(parents=True)
        (requests / name / "participants.csv").write_text(lines)
    (studies / "regional.toml").write_text(
        f'[batch]\nname = "regional"\nrequests = "{requests}"\ndata = "{national}"\nout = "{tmp_path / "batches"}"\n'
        f'workers = 1\n[batch.study]\nbootstrap_resamples = 200\nrobustness = false\n'
        f'{every_minute.replace("[study.", "[batch.")}')
    log = open(tmp_path / "serve.log", "w")
    as_a_user = {k: v for k, v in env.items() if k != "PREFECT_LOGGING_LEVEL"}  # the tool's own default
    serving = subprocess.Popen([str(BIN / "reoffend"), "serve", str(studies)], env=as_a_user, cwd=tmp_path,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def finished(name, state):
            done = [r for r in runs_of(url, name) if r["auto_scheduled"] and r["state_type"] == state]
            return done[0] if done else None

        completed = wait_for(lambda: finished("monthly", "COMPLETED"), 200, "a scheduled run to complete", 3)
        failed = wait_for(lambda: finished("broken", "FAILED"), 60, "the broken study's scheduled run", 2)
        wait_for(lambda: finished("regional", "COMPLETED"), 200, "the scheduled batch to complete", 3)
        day = next((tmp_path / "batches").iterdir())
        record = json.loads((day / "batch.json").read_text())
        assert [(r["name"], r["status"]) for r in record["requests"]] == [("a", "done"), ("b", "done")], record
        assert json.loads((day / "a" / "results.json").read_text())["cohort"]["submitted"] > 0
        assert json.loads((tmp_path / "out" / "results.json").read_text())["cohort"]["participants"] == 150
        # the run's log in Prefect holds the step lines the terminal shows
        def run_log():  # Prefect sends logs in batches (every 2 s): wait for the last step's line
            logs = api(url, "logs/filter", {"logs": {"flow_run_id": {"any_": [completed["id"]]}}, "limit": 200,
                                            "sort": "TIMESTAMP_ASC"})
            messages = [entry["message"] for entry in logs]
            return messages if any(m.startswith("write outputs: done in") for m in messages) else None

        messages = wait_for(run_log, 30, "the run's log", 1)
        for line in ("load and validate the data: done in", "build cohorts: done in", "estimate: done in",
                     "write outputs: done in"):
            assert any(m.startswith(line) for m in messages), (line, messages[:30])
        # the failure: its one line as the state message, within seconds, the load tried once
        reason = f"{broken}/offences.csv, column 'outcome_date': required column is missing"
        message = failed["state"]["message"]
        assert message.startswith(reason) and "\n" not in message, message  # the tool's own line, as it is
        assert failed["total_run_time"] < 15, failed["total_run_time"]
        tasks = api(url, "task_runs/filter", {"flow_runs": {"id": {"any_": [failed["id"]]}}, "limit": 50})
        assert [t["run_count"] for t in tasks if t["name"].startswith("load and validate")] == [1], tasks
        # ... announced to the webhook the study names
        wait_for(lambda: Webhook.received, 30, "the failure notification", 1)
        assert "evaluation 'broken' failed" in Webhook.received[0] and "required column is missing" in Webhook.received[0]
    finally:
        # Ctrl-C (SIGINT to the terminal's process group) stops serving within seconds, cleanly
        os.killpg(serving.pid, signal.SIGINT)
        try:
            code = serving.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(serving.pid, signal.SIGKILL)
            code = "did not stop within 15 s of Ctrl-C"
        log.close()
        receiver.shutdown()
    output = (tmp_path / "serve.log").read_text()
    assert code == 0, (code, output[-3000:])
    assert "Traceback" not in output, output[-3000:]
    assert "evaluate/monthly run" in output and "completed: outputs in" in output, output[-3000:]
    assert "evaluate/broken run" in output and "failed: " in output and "required column is missing" in output
    assert "scheduled-batch/regional run" in output and "completed: 2 requests, outputs in" in output
    assert "stopped serving" in output
    assert "build cohorts" not in output  # step lines go to the run's log, not the serving terminal
