"""Access to the parameterised queries in ``sql/``.

Values always travel as bound parameters (``$name`` in the query). Table names cannot be
parameters, so a query may hold ``{{ identifier }}`` placeholders, which are filled only
from the whitelist of table and column names the project itself defines.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources

from evaluation.load.contract import TABLES

_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

#: Every identifier that may be substituted into a query.
ALLOWED_IDENTIFIERS: frozenset[str] = frozenset(
    {t.name for t in TABLES}
    | {f"{prefix}_{t.name}" for t in TABLES for prefix in ("read", "shift", "raw")}
    | {f"{t.name}_checked" for t in TABLES}
    | {c.name for t in TABLES for c in t.columns}
    | {
        "participant_starts", "participant_cohort", "participant_outcomes", "window_offences", "custody_periods",
        "comparison_candidates", "study_population", "unit_outcomes", "unit_covariates", "matched_units",
        "matcher_output", "plain_read",
    }
    # the session variables the staging checks read (sql/load/set_check_value.sql)
    | {"cutoff", "true_words", "false_words", "person_id_pattern", "sexes", "categories", "disposals", "min_age",
       "required_dates", "bounded_dates", "earliest_date", "on_or_after", "on_or_before", "date_format",
       "date_format_name"}
)


@cache
def read_sql(name: str) -> str:
    """Return the text of ``sql/<layer>/<file>.sql``, e.g. ``read_sql("staging/people_checked")``."""
    layer, _, stem = name.rpartition("/")
    package = "sql" + ("." + layer.replace("/", ".") if layer else "")
    return resources.files(package).joinpath(stem + ".sql").read_text(encoding="utf-8")


_HEADER_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")


def render_sql(name: str, identifiers: Mapping[str, str], header_names: frozenset[str] = frozenset()) -> str:
    """Read a query and substitute whitelisted identifiers for its ``{{ name }}`` placeholders.

    An identifier must be one the project defines, or (for a tool working on a user's own
    columns) one of ``header_names`` read from the file itself, of at most 200 printable
    characters ("PNC ID"); it is quoted, a double quote in it doubled."""
    text = read_sql(name)
    for value in identifiers.values():
        allowed = (value in ALLOWED_IDENTIFIERS and _IDENTIFIER.match(value)) or (
            value in header_names and _HEADER_NAME.match(value))
        if not allowed:
            raise ValueError(f"{value!r} is not an allowed table or column name")
    def sub(m: re.Match[str]) -> str:
        key = m.group(1)
        if key not in identifiers:
            raise KeyError(f"query {name} needs identifier {key!r}")
        return '"' + identifiers[key].replace('"', '""') + '"'
    return _PLACEHOLDER.sub(sub, text)


_PARAMETER = re.compile(r"\$([A-Za-z_]\w*)")

#: When set, called with each query's name and the seconds it took to execute (the
#: benchmark's profile sets it: ``reoffend bench``).
on_query: Callable[[str, float], None] | None = None


def run_sql(
    con,
    name: str,
    params: Mapping[str, object] | None = None,
    identifiers: Mapping[str, str] | None = None,
    header_names: frozenset[str] = frozenset(),
):
    """Execute ``sql/<name>.sql`` binding the parameters it uses (and only those) from ``params``.

    The one way the project runs a query: ``identifiers`` fill the query's ``{{ name }}``
    placeholders from the allow-list (or ``header_names``, see :func:`render_sql`), values
    are bound, and each execution is timed when :data:`on_query` is set."""
    text = render_sql(name, identifiers, header_names) if identifiers else read_sql(name)
    wanted = set(_PARAMETER.findall(text))
    given = params or {}
    missing = wanted - set(given)
    if missing:
        raise KeyError(f"query {name} needs parameter(s) {sorted(missing)}")
    start = time.perf_counter()
    result = con.execute(text, {k: v for k, v in given.items() if k in wanted})
    if on_query is not None:
        on_query(name, time.perf_counter() - start)
    return result
