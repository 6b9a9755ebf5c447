"""The library's static site: an index with one pooled meta-analysis per programme type,
and one page per evaluation. Self-contained HTML (inline CSS and SVG, no scripts, no
network requests), written as a whole folder the tool owns (evaluation.files.output_folder)."""

from __future__ import annotations

import json
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from evaluation.files.output_folder import write_outputs
from evaluation.library import charts
from evaluation.library.pooling import PooledResult, pool_library
from evaluation.library.store import Evaluation, read_library, slug
from evaluation.report import jdl
from evaluation.report.wording import count_text, display_title

_env = Environment(loader=PackageLoader("evaluation.library", "templates"), autoescape=True,
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_env.filters.update(num=count_text, pct=jdl.pct, freq=jdl.freq, p=jdl.p_value,
                    rr=lambda v: "n/a" if v is None else f"{v:.2f}", id_of=id)


def page_names(evaluations: list[Evaluation]) -> dict[int, str]:
    """Each evaluation's page (by position), unique however the names collide."""
    names, used = {}, set()
    for i, e in enumerate(evaluations):
        base = slug(f"{e.council or 'council'}-{e.name}-{e.data_cutoff or ''}")
        name, n = base, 2
        while name in used:
            name, n = f"{base}-{n}", n + 1
        used.add(name)
        names[i] = f"evaluations/{name}.html"
    return names


def _not_pooled(e: Evaluation) -> str | None:
    if not e.programme_type:
        return "no programme type in its study file ([study.library] type)"
    if not e.estimable:
        return "no rate ratio in its partner view (withheld because one of its counts is small, or not estimable)"
    return None


def site_files(evaluations: list[Evaluation], *, title: str = "What works: reoffending evidence library") -> dict[str, str]:
    """Every file of the site (relative path -> text). The site shows the newest version of
    each evaluation only: an older one kept on purpose (``library add --keep-older``) stays in
    the library file for its operator, never beside the newest on the shared site."""
    evaluations = [e for e in evaluations if e.is_current]
    pooled: list[PooledResult] = pool_library(evaluations)
    pages = page_names(evaluations)
    page_of = {id(e): pages[i] for i, e in enumerate(evaluations)}
    figures = {}
    for result in pooled:
        if result.k >= 1:
            figures[(result.programme_type, "forest")] = charts.forest(result)
        if result.funnel:
            figures[(result.programme_type, "funnel")] = charts.funnel(result)
    files = {
        "index.html": _env.get_template("index.html.j2").render(
            title=title, pooled=pooled, evaluations=evaluations, page_of=page_of, figures=figures,
            not_pooled=[(e, _not_pooled(e)) for e in evaluations if _not_pooled(e)], display_title=display_title),
        "library.json": json.dumps({"pooled": [p.to_dict() for p in pooled],
                                    "evaluations": [{"council": e.council, "name": e.name, "title": e.title,
                                                     "programme_type": e.programme_type,
                                                     "programme_setting": e.programme_setting,
                                                     "data_cutoff": e.data_cutoff, "participants": e.participants,
                                                     "rate_ratio": e.rate_ratio, "ci95": [e.ci_low, e.ci_high],
                                                     "maryland": e.maryland, "nesta": e.nesta,
                                                     "current": e.is_current, "page": page_of[id(e)]}
                                                    for e in evaluations]}, indent=2, allow_nan=False)
                        .replace("<", "\\u003c").replace(">", "\\u003e") + "\n",  # safe even if pasted into HTML
    }
    for e in evaluations:
        files[page_of[id(e)]] = _env.get_template("evaluation.html.j2").render(
            e=e, r=e.results, title=title, display_title=display_title, why_not=_not_pooled(e))
    for (kind, name), figure in figures.items():
        files[f"figures/{slug(kind)}-{name}.svg"] = figure.svg
    return files


def build_site(library: Path, out_dir: Path, *, data_dir: Path | None = None,
               option: str = "--out") -> tuple[Path, list[PooledResult]]:
    """Write the site for a library file into ``out_dir`` (replaced whole, only if this
    tool wrote it as a library site, and never in ``data_dir``); returns the folder and the
    pooled results."""
    evaluations = read_library(library)
    files = site_files(evaluations)
    folder = write_outputs(out_dir, files, data_dir=data_dir, kind="library site", option=option)
    return folder, pool_library(evaluations)
