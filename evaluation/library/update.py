"""After an evaluation: add its partner view to the study's evidence library and rebuild
the library's site (the pipeline's last step when ``[study.library] path`` is set)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from evaluation.library.pooling import PooledResult
from evaluation.library.site import build_site
from evaluation.library.store import add_evaluation, evaluation_from
from evaluation.report.build import json_text, partner_manifest
from evaluation.report.disclosure import partner_results
from evaluation.settings.model import StudySettings


@dataclass(frozen=True)
class LibraryUpdate:
    """What the update did: ``outcome`` (added, replaced), the library and the site."""

    outcome: str
    library: Path
    site: Path
    pooled: tuple[PooledResult, ...]
    warnings: tuple[str, ...] = ()

    def brief(self) -> str:
        return (f"{self.outcome} in {self.library}; site {self.site / 'index.html'}"
                + "".join(f"; warning: {w}" for w in self.warnings))


def site_folder(settings: StudySettings) -> Path:
    return settings.library.site or Path(settings.library.path).parent / "site"


def update_library(settings: StudySettings, results: dict, write) -> LibraryUpdate:
    """Add the run's partner results (whatever the run's own audience) and rebuild the site.
    ``write`` is what the write step made: its manifest, and its view when that is the
    partner's (made once per run); through JSON, as the library reads a folder's files."""
    manifest = write.manifest
    view = write.view if settings.audience.kind == "partner" else \
        partner_results(results, settings.audience.suppression_threshold)[0]
    evaluation = evaluation_from(json.loads(json_text(view)), json.loads(json_text(partner_manifest(manifest))),
                                 where=str(settings.out_dir),
                                 added=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    outcome, *warning = add_evaluation(Path(settings.library.path), evaluation).split("\n")
    for line in warning:  # a pooled study leaving the pool is said, never silent
        logging.getLogger("reoffend.progress").warning(f"evidence library: {line}")
    folder, pooled = build_site(Path(settings.library.path), site_folder(settings), data_dir=settings.data_dir,
                                option="--library-site")
    return LibraryUpdate(outcome, Path(settings.library.path), folder, tuple(pooled), tuple(warning))
