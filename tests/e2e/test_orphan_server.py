"""No orphaned Prefect server (safety issue, finding 7): SIGKILL, SIGTERM or Ctrl-C of
`reoffend evaluate` while its temporary server runs leaves no server behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from synthetic_data import SOUTHAMPTON, generate


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        text = (task / "children").read_text().split() if (task / "children").exists() else []
        out += [int(c) for c in text]
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def is_server(pid: int) -> bool:
    try:
        return b"uvicorn" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("orphan") / "data"
    generate(replace(SOUTHAMPTON, people=3000, participants=60), folder, seed=8)
    return folder


@pytest.mark.server
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_killing_evaluate_leaves_no_prefect_server(data, tmp_path, sig):
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "evaluate", "--data", str(data),
                             "--out", str(tmp_path / "out"), "--quiet"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = None
    deadline = time.monotonic() + 60
    while server is None and time.monotonic() < deadline and proc.poll() is None:
        server = next((c for c in children(proc.pid) if is_server(c)), None)
        time.sleep(0.1)
    assert server is not None, "the command started no server child"
    time.sleep(1.0)
    proc.send_signal(sig)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 20
    while alive(server) and time.monotonic() < deadline:
        time.sleep(0.2)
    still = alive(server)
    if still:
        os.kill(server, signal.SIGKILL)
    assert not still, f"the Prefect server (pid {server}) outlived the command after {sig.name}"
