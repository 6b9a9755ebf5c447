"""``reoffend batch``: every request folder evaluated against one national extract."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from cli.app import Quiet, Verbose, app, say


@app.command()
def batch(requests: Annotated[Path, typer.Argument(metavar="REQUESTS", help="one sub-folder per request, each with "
                                                   "its participants file (and linkage.json, study.toml)")],
          data: Annotated[Path, typer.Option(help="the national extract: people, offences, custody (no participants)")],
          out: Annotated[Path, typer.Option(help="output folder: one folder per request, batch.json and index.html")],
          workers: Annotated[int, typer.Option(min=1, max=64, help="requests evaluated at once")] = 2,
          dask: Annotated[Optional[str], typer.Option(
              metavar="ADDRESS", help="run on the Dask scheduler at ADDRESS (tcp://host:8786), or 'local' for a "
                                      "temporary cluster of --workers processes")] = None,
          date_format: Annotated[str, typer.Option(help="how the national extract writes its dates")] = "YYYY-MM-DD",
          column: Annotated[Optional[list[str]], typer.Option(
              metavar="COLUMN=HEADER", help="the national extract's column map (repeat for several)")] = None,
          work_dir: Annotated[Optional[Path], typer.Option(
              help="where the person-level work goes: the national extract loaded once, and each request's database "
                   "(with --dask on other machines, a path every worker can read)")] = None,
          library: Annotated[Optional[Path], typer.Option(
              help="evidence library to add every evaluated request to, once at the end (its site beside it)")] = None,
          verbose: Verbose = False, quiet: Quiet = False) -> None:
    """Evaluate many programmes against one national extract: a request that fails, fails alone."""
    import os

    from cli.progress import show_progress
    from evaluation.batch.batch import run_batch
    from flows.run import prefect_session

    show_progress(quiet)
    # one BLAS thread per worker: OpenBLAS's spinning threads took the cores from the other
    # worker (docs/operations.md, "Several evaluations on one machine")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if not verbose:  # Dask's own lines (scheduler and workers starting and closing) only with --verbose
        import logging

        os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")
        logging.getLogger("distributed").setLevel(logging.WARNING)
    base = {"date_format": date_format, **({"columns": column} if column else {}),
            **({"work_dir": work_dir} if work_dir else {})}
    where = f"Dask at {dask}" if dask else f"{workers} worker processes"
    with prefect_session(f"evaluating the requests in {requests} on {where}", verbose=verbose):
        from flows.batch import submit_with

        result = run_batch(requests, data, out, submit=submit_with(workers, dask), settings=base,
                           progress=say(quiet))
    print(result.summary())
    if library is not None:
        from evaluation.batch.library import add_batch

        print(add_batch(library, result.out_dir, result.requests, data_dir=data))
    raise typer.Exit(1 if result.failed else 0)
