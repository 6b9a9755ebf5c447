"""The claims of docs/architecture.md that a test can check (issue 36: three of them were false)."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Modules of evaluation/ without a test file of their own name, and the test file that tests them.
TESTED_THROUGH = {
    "batch/batch": "tests/e2e/test_batch.py",
    "batch/library": "tests/e2e/test_batch.py",
    "db/connection": "tests/db/test_queries.py",
    "errors": "tests/e2e/test_cli.py",
    "estimate/significance": "tests/estimate/test_significance_and_types.py",
    "estimate/types": "tests/estimate/test_significance_and_types.py",
    "estimate/stacked": "tests/estimate/test_censoring.py",
    "files/workspace": "tests/files/test_output_folder.py",
    "library/pooling": "tests/library/test_library.py",
    "library/schema": "tests/library/test_trust_boundary.py",
    "library/site": "tests/library/test_library.py",
    "library/store": "tests/library/test_library.py",
    "library/update": "tests/pipeline/test_steps.py",
    "link/fields": "tests/link/test_linkage.py",
    "link/model": "tests/link/test_linkage.py",
    "link/read": "tests/link/test_linkage.py",
    "load/preflight": "tests/settings/test_bounds.py",
    "load/pseudonymise": "tests/e2e/test_security.py",
    "match/sample": "tests/checks/test_falsification.py",
    "pipeline/context": "tests/pipeline/test_steps.py",
    "pipeline/runner": "tests/pipeline/test_steps.py",
    "report/charts": "tests/report/test_report_pages.py",
    "report/evidence": "tests/report/test_build.py",
    "report/jdl": "tests/report/test_build.py",
    "report/rounding": "tests/report/test_disclosure_differencing.py",
}


def _modules() -> list[str]:
    return sorted(str(p.relative_to(ROOT / "evaluation").with_suffix("")) for p in (ROOT / "evaluation").rglob("*.py")
                  if p.name != "__init__.py")


def test_every_module_has_its_own_test_file_or_names_the_file_that_tests_it():
    missing = []
    for module in _modules():
        stage, _, name = module.rpartition("/")
        own = ROOT / "tests" / (stage or ".") / f"test_{name}.py"
        if own.is_file():
            assert module not in TESTED_THROUGH, f"{module} has its own test file now: drop it from TESTED_THROUGH"
            continue
        through = TESTED_THROUGH.get(module)
        if through is None:
            missing.append(module)
            continue
        text = (ROOT / through).read_text(encoding="utf-8")
        dotted = "evaluation." + module.replace("/", ".")
        imported = re.search(rf"from evaluation\.{stage.replace('/', '.')} import [^\n]*\b{name}\b", text)
        assert dotted in text or f"evaluation/{module}.py" in text or imported, f"{through} does not name {module}"
    assert missing == [], "modules with no test file: add tests/<stage>/test_<module>.py"
    assert set(TESTED_THROUGH) <= set(_modules()), "TESTED_THROUGH names a module that is gone"


def test_the_library_never_imports_prefect():
    for path in (ROOT / "evaluation").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n == "prefect" or n.startswith(("prefect.", "prefect_")) for n in names), path


def test_each_command_module_stays_under_250_lines():
    for path in (ROOT / "cli").glob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) < 250, path.name


def _repeated_blocks(lines_of: dict[str, list[str]], size: int = 6) -> list[tuple[str, str]]:
    """Places where ``size`` lines of code (not blank, comments or imports) stand again word for word."""
    seen: dict[tuple, list[str]] = defaultdict(list)
    for name, lines in lines_of.items():
        kept = [(i + 1, line.strip()) for i, line in enumerate(lines)
                if line.strip() and not line.strip().startswith(("#", "--", "import ", "from ", '"""'))]
        for k in range(len(kept) - size + 1):
            window = tuple(text for _, text in kept[k:k + size])
            if sum(map(len, window)) >= 60:  # six closing brackets are not a repeated block
                seen[window].append(f"{name}:{kept[k][0]}")
    return [(places[0], places[1]) for places in seen.values() if len(places) > 1]


def test_no_block_of_six_lines_is_repeated_in_the_library_or_its_queries():
    files = {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8").splitlines()
             for folder, pattern in (("evaluation", "*.py"), ("sql", "*.sql")) for p in (ROOT / folder).rglob(pattern)}
    assert _repeated_blocks(files) == []


def test_the_repeated_block_check_can_fail():
    block = ["total = 0", "for row in rows:", "    total += row.value", "    if total > limit:",
             "        raise ValueError(total)", "return total"]
    assert _repeated_blocks({"a.py": ["x = 1", *block], "b.py": [*block, "y = 2"]}) == [("a.py:2", "b.py:1")]
