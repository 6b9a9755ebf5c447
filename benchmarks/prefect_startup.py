"""Prefect start-up on this machine, apart from the evaluation's own work (issue 16).

Each figure is the median of a few runs of a trivial flow in a fresh process, timed from
the start of its imports to the flow's return:

- ``temporary_server``: as ``reoffend evaluate`` runs with no ``PREFECT_API_URL``: the
  command starts its own temporary server (``flows/local_server.py``) and stops it after;
- ``long_running_server``: with ``PREFECT_API_URL`` pointing at a server already running
  (the recipe in docs/operations.md), so a run pays only for importing Prefect and
  talking to it.

Both are measured quiet, and loaded: with one busy process per core running alongside.
A side measurement never sinks the benchmark: a failure is recorded as its error text.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

#: The trivial flow, timed in a fresh process; {server} opens the command's own temporary
#: server around it, or nothing.
_FLOW = """import time
t = time.perf_counter()
from contextlib import nullcontext
from prefect import flow
{import_server}
@flow
def f():
    return 1
with {server}:
    f()
print(time.perf_counter() - t)
"""

RUNS = 3


def _time_flow(env: dict[str, str], *, own_server: bool) -> float:
    code = _FLOW.format(import_server="from flows.local_server import supervised_server" if own_server else "",
                        server="supervised_server()" if own_server else "nullcontext()")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError((proc.stderr.strip().splitlines() or ["no output"])[-1])
    return float(lines[-1])


@contextmanager
def _busy_cores() -> Iterator[None]:
    """One process spinning on each core while the block runs."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 2)]
    try:
        yield
    finally:
        for p in spinners:
            p.kill()
            p.wait()


def _median(env: dict[str, str], *, own_server: bool) -> float | str:
    times, error = [], ""
    for _ in range(RUNS):
        try:
            times.append(_time_flow(env, own_server=own_server))
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            error = str(exc)
    return statistics.median(times) if times else f"failed: {error}"


def measure() -> dict:
    """Median seconds to a trivial flow's return, with a temporary and with a
    long-running server, quiet and loaded."""
    from flows.local_server import supervised_server

    out: dict[str, float | str] = {}
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "PREFECT_HOME": home, "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
               "PREFECT_LOGGING_LEVEL": "ERROR"}
        env.pop("PREFECT_API_URL", None)
        out["temporary_server_quiet"] = _median(env, own_server=True)
        with _busy_cores():
            out["temporary_server_loaded"] = _median(env, own_server=True)
        saved = os.environ.get("PREFECT_HOME")
        os.environ["PREFECT_HOME"] = home
        try:
            with supervised_server() as url:  # stands in for `prefect server start`, left running
                served = {**env, "PREFECT_API_URL": url or os.environ["PREFECT_API_URL"]}  # or the user's own
                _time_flow(served, own_server=False)  # the first run against a new server sets up its database
                out["long_running_server_quiet"] = _median(served, own_server=False)
                with _busy_cores():
                    out["long_running_server_loaded"] = _median(served, own_server=False)
        except Exception as exc:  # noqa: BLE001 - recorded, never fatal
            out.setdefault("long_running_server_quiet", f"failed: {exc}")
        finally:
            if saved is None:
                os.environ.pop("PREFECT_HOME", None)
            else:
                os.environ["PREFECT_HOME"] = saved
    return out


if __name__ == "__main__":
    import json
    print(json.dumps(measure(), indent=2))
