"""``reoffend demo``: the Southampton study on generated data, then six synthetic councils
pooled in an evidence library."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from cli import app as app_module
from cli.app import Quiet, Verbose, app, say

#: The study file the demo evaluates (its data and output folders are the demo's own).
DEMO_STUDY = Path(__file__).resolve().parents[1] / "studies" / "southampton.toml"


@app.command()
def demo(data: Path = Path("data/southampton"), out: Path = Path("out/southampton"),
         library: Annotated[Optional[Path], typer.Option(
             help="evidence library the demo builds (its site goes beside it); default: library/library.duckdb "
                  "beside the --out folder")] = None,
         councils: Annotated[bool, typer.Option(help="also evaluate six synthetic councils for the library")] = True,
         keep_work: bool = False, verbose: Verbose = False, quiet: Quiet = False) -> None:
    """Generate the southampton scenario (a known 10% effect) and evaluate it end to end; then
    evaluate six synthetic councils and pool them all in an evidence library."""
    from evaluation.files.output_folder import check_output_folder
    from evaluation.settings.model import load_study
    from synthetic_data import SOUTHAMPTON, generate

    check_output_folder(out, data_dir=data)
    library = library or out.parent / "library" / "library.duckdb"
    generate(SOUTHAMPTON, data, progress=say(quiet), option="--data")
    # the study file's settings (programmes, costs, library tags), with the demo's folders
    settings = load_study(DEMO_STUDY, {"data_dir": data, "out_dir": out, "library": library, "keep_work": keep_work})
    app_module.evaluate_and_print(settings, verbose=verbose, quiet=quiet)
    if councils:
        _demo_councils(*demo_council_folders(data, out), library, quiet=quiet)


def demo_council_folders(data: Path, out: Path) -> tuple[Path, Path]:
    """Where the demo's councils' data and outputs go: ``councils`` beside the data folder
    and beside the output folder; ``councils-out`` for the outputs when the two folders
    share a parent (the councils' outputs would otherwise be their data folders)."""
    data_root, out_root = data.parent / "councils", out.parent / "councils"
    if data_root.resolve() == out_root.resolve():
        out_root = out.parent / "councils-out"
    return data_root, out_root


def _demo_councils(data_root: Path, out_root: Path, library: Path, *, quiet: bool) -> None:
    """The library demo: each synthetic council generated and evaluated (partner audience,
    without the re-matching checks, for speed), each run adding itself to the library."""
    from evaluation.files.output_folder import check_output_folder
    from evaluation.library.update import site_folder
    from evaluation.pipeline.runner import run_evaluation
    from evaluation.settings.model import StudySettings
    from synthetic_data import generate
    from synthetic_data.councils import DEMO_COUNCILS

    progress = say(quiet)
    last = None
    for council in DEMO_COUNCILS:
        data, out = data_root / council.name, out_root / council.name
        check_output_folder(out, data_dir=data)
        generate(council.scenario(), data, seed=council.seed, option="--data")
        progress(f"council {council.council}: {council.programme_type}, true effect {council.effect:.0%}")
        last = StudySettings(data_dir=data, out_dir=out, name=council.name, title=council.title, council=council.council,
                             programme_type=council.programme_type, programme_setting=council.setting, seed=council.seed,
                             audience="partner", robustness=False, library=library)
        run_evaluation(last)
    from evaluation.library.pooling import pool_library
    from evaluation.library.store import read_library

    for result in pool_library(read_library(library)):
        print(result.summary())
    if last is not None:
        print(f"library: {site_folder(last) / 'index.html'}")
