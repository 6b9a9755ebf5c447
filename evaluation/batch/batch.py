"""``reoffend batch``: every request folder evaluated against one national extract, each
into its own output folder, with a record (``batch.json``) and a page (``index.html``) of how
each went. A request that fails, fails alone.

The batch's output folder is written like an evaluation's: built beside the target and
swapped in whole at the end, only over a folder this tool wrote as a batch. How the requests
are run is the caller's: the batch flow (flows/batch.py) runs them as Prefect tasks on local
worker processes or a Dask cluster; :func:`one_after_another` runs them in this process.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from evaluation.batch.request import Request, find_requests, run_request
from evaluation.errors import SettingsError
from evaluation.files.output_folder import check_output_folder, write_folder
from evaluation.files.workspace import make_work, remove_abandoned_work, remove_work, run_lock, state_dir, work_folder
from evaluation.load import contract
from evaluation.load.loader import load_snapshot
from evaluation.settings.model import StudySettings

#: Runs the runnable requests ((name, settings record) pairs), each loading from the national
#: snapshot (a path, or None to read every file), and returns their summaries, in order.
Submit = Callable[[Sequence[tuple[str, dict]], str | None], list[dict]]


def one_after_another(runnable: Sequence[tuple[str, dict]], snapshot: str | None = None) -> list[dict]:
    return [run_request(name, record, snapshot) for name, record in runnable]


@dataclass(frozen=True)
class BatchResult:
    out_dir: Path
    requests: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[dict]:
        return [r for r in self.requests if r["status"] != "done"]

    def summary(self) -> str:
        lines = []
        for r in self.requests:
            if r["status"] == "done":
                h = r["headline"]
                effect = ("before/after only" if h["before_after_only"] or h["rate_ratio"] is None
                          else f"rate ratio {h['rate_ratio']:.2f} ({h['ci95'][0]:.2f} to {h['ci95'][1]:.2f})")
                lines.append(f"  done    {r['name']}: {h['participants']:,} analysed, {effect} ({r['seconds']:.0f} s)")
            else:
                lines.append(f"  FAILED  {r['name']}: {r['reason']}")
        done = len(self.requests) - len(self.failed)
        return "\n".join([f"{done} of {len(self.requests)} requests evaluated in {self.seconds:.0f} s", *lines,
                          f"outputs: {self.out_dir} (batch.json, index.html, one folder per request)"])


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Batch of {{ requests | length }} evaluations</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}
.failed{color:#a00}.num{text-align:right}</style></head><body>
<h1>Batch of {{ requests | length }} evaluations</h1>
<p>{{ done }} evaluated, {{ requests | length - done }} failed; finished {{ finished }} in {{ seconds }} s.</p>
<table><thead><tr><th>Request</th><th>Status</th><th class="num">Analysed</th><th>Impact (rate ratio, 95% CI)</th>
<th class="num">Time</th></tr></thead><tbody>
{% for r in requests %}<tr>
{% if r.status == "done" %}<td><a href="{{ r.name }}/report.html">{{ r.name }}</a></td><td>done</td>
<td class="num">{{ "{:,}".format(r.headline.participants) if r.headline.participants is number
  else r.headline.participants }}</td>
<td>{% if r.headline.rate_ratio is none %}before/after only{% else %}{{ "%.2f" | format(r.headline.rate_ratio) }}
({{ "%.2f" | format(r.headline.ci95[0]) }} to {{ "%.2f" | format(r.headline.ci95[1]) }}){% endif %}</td>
{% else %}<td>{{ r.name }}</td><td class="failed">failed</td><td></td><td class="failed">{{ r.reason }}</td>{% endif %}
<td class="num">{{ r.seconds }} s</td></tr>
{% endfor %}</tbody></table></body></html>
"""


def run_batch(requests_dir: str | Path, national: str | Path, out_dir: str | Path, *,
              submit: Submit = one_after_another, settings: dict | None = None,
              progress: Callable[[str], None] | None = None) -> BatchResult:
    """Evaluate every request in ``requests_dir`` against the national extract ``national``
    (people, offences and custody, no participants) into ``out_dir``. ``settings``: flat
    settings every request starts from (its study.toml may change the evaluation's).

    The national extract is loaded once, into a snapshot in the batch's private work
    folder (under ``settings["work_dir"]`` when given: a path every worker can read), and
    each request's load copies it and reads only its participants."""
    from jinja2 import Environment

    say = progress or (lambda _m: None)
    started = time.perf_counter()
    requests_dir, national = Path(requests_dir), Path(national)
    target = check_output_folder(out_dir, data_dir=national, kind="batch outputs")
    given = requests_dir.expanduser().resolve()
    if target == given or given in target.parents or target in given.parents:
        raise SettingsError(f"--out {out_dir}: the output folder and the requests folder {requests_dir} must be apart "
                            "(neither inside the other)")
    if not national.is_dir():
        raise SettingsError(f"{national}: the national extract's folder does not exist")
    own = [p.name for p in (national / f"participants{s}" for s in contract.FILE_SUFFIXES) if p.is_file()]
    if own:
        raise SettingsError(f"{national / own[0]}: the national extract holds participants; each request brings "
                            "its own (move it into a request folder)")
    summaries: list[dict] = []

    def fill(staging: Path) -> None:
        requests: list[Request] = find_requests(requests_dir, national, staging, settings)
        runnable = [(r.name, r.record) for r in requests if r.record is not None]
        say(f"{len(requests)} requests, {len(runnable)} to evaluate")
        snapshot = None
        if runnable:
            data = StudySettings.model_validate(runnable[0][1]).data  # a request may not set these: the same for all
            snapshot = work / "national.duckdb"
            say("loading the national extract once, for every request")
            load_snapshot(national, snapshot, cutoff=data.cutoff, date_format=data.date_format, columns=data.columns,
                          progress=say)
        done = iter(submit(runnable, None if snapshot is None else str(snapshot)))
        for r in requests:
            summaries.append(next(done) if r.record is not None else
                             {"name": r.name, "status": "failed", "seconds": 0.0, "reason": r.problem})
        finished = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        seconds = round(time.perf_counter() - started, 1)
        record = {"schema": "reoffend batch", "schema_version": 1, "finished": finished, "seconds": seconds,
                  "requests": [{k: v for k, v in s.items() if k != "traceback"} for s in summaries]}
        (staging / "batch.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        page = Environment(autoescape=True).from_string(_PAGE).render(
            requests=record["requests"], done=sum(s["status"] == "done" for s in summaries), finished=finished,
            seconds=seconds)
        (staging / "index.html").write_text(page, encoding="utf-8")

    with run_lock(out_dir):  # another batch writing this folder fails at once
        remove_abandoned_work(state_dir() / "work", (settings or {}).get("work_dir"))
        work = make_work(work_folder(out_dir, (settings or {}).get("work_dir")))
        try:
            out = write_folder(out_dir, fill, data_dir=national, kind="batch outputs")
        finally:
            remove_work(work)  # the snapshot: person-level
    return BatchResult(out, summaries, time.perf_counter() - started)
