"""A batch's evaluations added to an evidence library once, at the end, in one transaction,
and the library's site rebuilt once. Each request's partner view goes in, whatever its own
audience: from its analyst results (exact) it is made as the single evaluation's library step
makes it; a partner output is taken as it is."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from evaluation.library.site import build_site
from evaluation.library.store import add_evaluations, evaluation_from
from evaluation.report.build import json_text, partner_manifest
from evaluation.report.disclosure import partner_results


def add_batch(library: Path, out_dir: Path, requests: list[dict], *, site: Path | None = None,
              data_dir: Path | None = None) -> str:
    """Add the done requests of a batch written to ``out_dir``; one line saying what was done."""
    added = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    rows = []
    for request in (r for r in requests if r["status"] == "done"):
        folder = out_dir / request["name"]
        results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if results.get("audience") != "partner":
            results = partner_results(results, results["study"]["suppression_threshold"])[0]
            manifest = partner_manifest(manifest)
        rows.append(evaluation_from(json.loads(json_text(results)), json.loads(json_text(manifest)),
                                    where=str(folder), added=added))
    if not rows:
        return "evidence library: no request was evaluated; nothing added"
    report = add_evaluations(Path(library), rows)
    folder, _ = build_site(Path(library), site or Path(library).parent / "site", data_dir=data_dir,
                           option="--library-site")
    return (f"evidence library: {len(report.added):,} added or replaced in {library}; site {folder / 'index.html'}"
            + "".join(f"; warning: {w}" for w in report.warnings))
