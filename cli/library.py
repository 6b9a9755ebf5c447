"""``reoffend library``: add partner outputs to an evidence library, build its site, remove
an evaluation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from cli.app import app

library_app = typer.Typer(name="library", no_args_is_help=True, rich_markup_mode=None,
                          help="An evidence library: partner evaluation outputs from many councils, pooled by programme type.")
app.add_typer(library_app)


@library_app.command("add")
def library_add(out_dirs: Annotated[list[Path], typer.Argument(help="partner evaluation output folders")],
                library: Annotated[Path, typer.Option("--library", help="library file (DuckDB), created if new")],
                keep_older: Annotated[bool, typer.Option(
                    help="keep an older version of a re-run evaluation in the library file (only the newest is "
                         "pooled and shown on the site)")] = False) -> None:
    """Add partner evaluation outputs (results.json and manifest.json) to a library."""
    from evaluation.library.store import add_outputs

    print(add_outputs(library, out_dirs, keep_older=keep_older).summary())


@library_app.command("build")
def library_build(library: Annotated[Path, typer.Argument(help="library file")],
                  out: Annotated[Path, typer.Option("--out", help="site folder (replaced whole if this tool wrote it)")]) -> None:
    """Write the library's static site: pooled results per programme type and a page per evaluation."""
    from evaluation.library.site import build_site

    folder, pooled = build_site(library, out)
    for result in pooled:
        print(result.summary())
    print(f"site:    {folder / 'index.html'}")


@library_app.command("remove")
def library_remove(library: Annotated[Path, typer.Argument(help="library file")],
                   study: Annotated[str, typer.Option("--study", help="the evaluation's study name")],
                   council: Annotated[Optional[str], typer.Option("--council", help="its council")] = None) -> None:
    """Remove every version of one evaluation from a library (rebuild the site afterwards)."""
    from evaluation.library.store import remove_evaluations

    gone = remove_evaluations(library, council=council, name=study)
    print(f"removed {gone} version(s) of '{study}' ({council or 'no council'}); rebuild the site with "
          f"reoffend library build {library} --out SITE")
