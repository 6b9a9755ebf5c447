"""The prose of an evaluation (evaluation/report/wording.py), on the stored evaluation
(tests/report/stored.py) for both audiences: every surface gives the same numbers. A
partner view with the impact withheld is in tests/report/test_disclosure.py."""

from __future__ import annotations

from evaluation.report.disclosure import partner_results
from evaluation.report.wording import cli_lines, headline, headline_markdown, rate_ratio_pct
from tests.report import stored

KEY = b"a test key that is not a real one, 0123456789abcdef"


def test_the_headline_the_command_line_and_the_artifact_give_the_same_numbers():
    results = stored.results()
    for view in (results, partner_results(results, 5, key=KEY)[0]):
        effect, (lo, hi) = rate_ratio_pct(view["matched"]["rate_ratio"])
        words = f"{abs(effect):.0f}% {'fewer' if effect < 0 else 'more'} proven offences per day at risk"
        said, lines, markdown = headline(view), "\n".join(cli_lines(view)), headline_markdown(view)
        assert words in said and words in lines
        assert f"{lo:+.0f}% to {hi:+.0f}%" in said and f"{lo:+.0f}% to {hi:+.0f}%" in lines
        assert f"{view['matched']['rate_ratio']['estimate']:.2f} (95% CI" in markdown
        change = view["before_after"]["percent_change"]
        assert f"fell {abs(change):.0f}%" in said and f"({change:.1f}%" in markdown
