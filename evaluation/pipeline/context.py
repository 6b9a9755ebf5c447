"""What the steps of one evaluation share in memory: a :class:`RunContext`.

It is made where the evaluation session starts (:func:`evaluation.pipeline.runner.evaluation_session`)
and passed to the steps that declare ``"context"`` among their needs, so every sharing of
data between steps is visible in the step declaration, and two evaluations in one process
(a batch, a served deployment, a test) never see each other's data. It holds person-level
data (covariates, matched samples): it lives only in memory, is emptied when the session
ends, and is never a step's result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl


@dataclass(eq=False)
class RunContext:
    """In-memory data shared by the steps of one evaluation.

    Attributes
    ----------
    match_frame : the units' covariates the match step fitted on (None before it runs).
    fits : propensity fits already made on ``match_frame``, by (covariates, exact columns):
        the match step's, then those the checks add (the sensitivity table's fit without the
        prior-offence detail is the falsification test's).
    matched : the stored matched sample's outcomes and its count of contaminated
        comparisons, read once by the first step that needs them.
    snapshot : a batch's snapshot of the national extract (evaluation.load.loader.load_snapshot),
        which the load step copies and adds the participants to; None reads every file.
    """

    snapshot: Path | None = None
    match_frame: pl.DataFrame | None = None
    fits: dict[tuple, Any] = field(default_factory=dict)
    matched: tuple[Any, int] | None = None

    def clear(self) -> None:
        """Drop every person-level value (the session does, when it ends)."""
        self.match_frame, self.matched = None, None
        self.fits = {}

    def __repr__(self) -> str:  # never print person-level data in a log or a traceback
        return (f"RunContext(snapshot={self.snapshot}, match_frame={'set' if self.match_frame is not None else None}, "
                f"fits={len(self.fits)}, matched={'set' if self.matched is not None else None})")
