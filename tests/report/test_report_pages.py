"""The report as readers meet it: the charts they expect, plain wording, a partner report
written for partners, and a visual regression check in headless Chromium (every figure
visible, no text overflowing its box, no half-empty A4 page but the last). Screenshots of
both audiences and of the PDF pages go to test-artifacts/.

Each test names the finding of the report review (issue 17) it guards against."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from evaluation.errors import SettingsError
from evaluation.report import charts
from evaluation.report.build import build_outputs, settings_changed
from evaluation.report.wording import covariate_label, display_title, effect_words, headline
from evaluation.settings.model import StudySettings
from tests.report import stored
from tests.report.test_build import OFFLINE_CHROMIUM, chromium  # noqa: F401  (the fixture)

ROOT = Path(__file__).resolve().parents[2]
ANALYST_FIGURES = {"headline-chart", "before-after-chart", "overlap", "love-plot", "km", "costs-chart",
                   "falsification-chart", "sensitivity-chart", "subgroups-chart"}
#: The partner report leaves out the charts that show single people or narrow bands of them.
PARTNER_FIGURES = ANALYST_FIGURES - {"overlap", "km"}


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """The stored evaluation of the Southampton-like demo data (tests/report/stored.py),
    rendered for both audiences. No caliper, so that every participant is matched and the
    partner view shows the comparison (with the default caliper one demo participant has no
    close comparison, and the partner view withholds it: tests/checks/test_steps.py)."""
    base = tmp_path_factory.mktemp("reports")
    results, manifest = stored.results(), stored.manifest()
    for audience in ("analyst", "partner"):
        for name, text in build_outputs(results, manifest, audience=audience, threshold=5).items():
            (base / audience / name).parent.mkdir(parents=True, exist_ok=True)
            (base / audience / name).write_text(text)
    return {"analyst": base / "analyst", "partner": base / "partner", "results": results}


def _text_svg(draw):
    """A chart drawn with real <text> elements, so a test can read its words."""
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        return draw()


def _rows(svg: str) -> str:
    return " ".join(re.findall(r">([^<>]+)</text>", svg))


# --- wording and charts, without a browser -------------------------------------------------
def test_the_before_and_after_heading_names_no_council(tmp_path):
    # issue 39, finding 6: "what Southampton measured" headed every council's report, partners' too
    results = stored.results()
    results["study"] = {**results["study"], "name": "northgate_mentoring", "council": "Northgate"}
    for audience in ("analyst", "partner"):
        html = build_outputs(results, stored.manifest(), audience=audience, threshold=5)["report.html"]
        heading = re.search(r'<h2 id="before-after-section">([^<]+)</h2>', html).group(1)
        assert "Southampton" not in heading and "without a comparison group" in heading




def test_the_headline_says_fewer_or_more_not_a_signed_percentage(reports):
    # found: "participants' reoffending was -7%"
    text = headline(reports["results"])
    assert "was -" not in text and "was +" not in text
    assert re.search(r"\d+% (fewer|more) proven offences per day at risk", text)
    assert "rate ratio p = " in text  # the one headline measure and its own p-value
    assert effect_words(-7.2) == "7% fewer" and effect_words(2.4) == "2% more"


def test_every_p_value_in_the_report_names_its_measure(reports):
    # found: three p-values (0.469, 0.20, 0.35) near the headline, none saying which measure
    html = (reports["analyst"] / "report.html").read_text()
    text = re.sub(r"<[^>]+>", " ", html)
    for hit in re.finditer(r"\bp(?:-value)?\s*(?:=\s*)?(?:<?\d\.\d\d|&lt;0\.01)", text):
        before = text[max(0, hit.start() - 60):hit.start()]
        assert re.search(r"(rate ratio|reoffending rate|Log-rank|hazard ratio|before/after|Wilcoxon|McNemar|"
                         r"Holm|measure|difference)\W*[\w\s(),;:.-]*$", before), before + text[hit.start():hit.end()]


def test_the_love_plot_uses_the_tables_labels_and_keeps_its_legend_off_the_points(reports):
    # found: "prior offences 365", "ogrs3", "distance" on the chart, friendly names in the table
    rows = reports["results"]["matched"]["matching"]["balance"]["covariates"]
    svg = _text_svg(lambda: charts.love_plot(rows, distance="logit").svg)
    words = _rows(svg)
    for raw in ("prior offences 365", "ogrs3", "distance"):
        assert raw not in words
    assert covariate_label("ogrs3") in words and covariate_label("distance", "logit") in words
    # the legend sits below the axes, where no point can be
    legend_y = [float(y) for y in re.findall(r'<text[^>]*\by="([\d.]+)"[^>]*>before matching<', svg)]
    point_y = [float(y) for y in re.findall(r'<use[^>]*\by="([\d.]+)"', svg)]
    assert legend_y and point_y and min(legend_y) > max(point_y)


def test_the_kaplan_meier_chart_has_bands_numbers_at_risk_and_an_honest_caption(reports):
    # found: no bands, no numbers at risk, and a caption giving a hazard ratio the curves contradict
    curves = reports["results"]["matched"]["time_to_first_reoffence"]["curves"]
    for curve in curves.values():
        assert len(curve["lower"]) == len(curve["survival"]) == len(curve["upper"])
        assert all(lo <= s <= hi for lo, s, hi in zip(curve["lower"], curve["survival"], curve["upper"]))
    figure = charts.km_chart(curves, after_days=365)
    words = _rows(_text_svg(lambda: charts.km_chart(curves, after_days=365).svg))
    assert "Number at risk" in words and f"{curves['treated']['at_risk'][0]:,.0f}" in words
    treated = 100 * curves["treated"]["survival"][-1]
    comparison = 100 * curves["comparison"]["survival"][-1]
    assert f"{treated:.0f}% of participants and {comparison:.0f}% of the comparison group" in figure.caption
    assert "hazard ratio" not in figure.caption.lower()


def test_no_label_of_the_numbers_at_risk_overlaps_a_number(reports, monkeypatch):
    # issue 39, finding 6: "participants587": the row labels ran into the first column of numbers
    drawn = []
    monkeypatch.setattr(charts, "_svg", lambda fig, alt: drawn.append(fig) or "<svg/>")
    curves = reports["results"]["matched"]["time_to_first_reoffence"]["curves"]
    for scale in (1, 10_000):  # numbers of three digits, and of seven with their commas
        big = {k: {**c, "at_risk": [n * scale for n in c["at_risk"]]} for k, c in curves.items()}
        charts.km_chart(big, after_days=365)
        fig = drawn[-1]
        renderer = fig.canvas.get_renderer()
        texts = [t for t in fig.axes[0].texts if t.get_text()]
        boxes = [t.get_window_extent(renderer) for t in texts]
        for i, a in enumerate(boxes):
            for j, b in enumerate(boxes[:i]):
                assert not a.overlaps(b), (texts[i].get_text(), texts[j].get_text())


def test_the_headline_chart_puts_the_effect_on_its_own_axis(reports):
    # found: a rate ratio (-7%) drawn as a third bar beside two percentage changes
    svg = _text_svg(lambda: charts.headline_chart(-64.0, -60.0, -7.0, (-23.0, 13.0)).svg)
    words = _rows(svg)
    assert "7% fewer" in words and "2. The programme's effect" in words
    assert svg.count('id="axes_') == 2  # two panels, two scales


def test_each_chart_has_alt_text_and_a_caption(reports):
    html = (reports["analyst"] / "report.html").read_text()
    figures = re.findall(r'<figure id="([^"]+)" class="chart">(.*?)</figure>', html, flags=re.S)
    assert {name for name, _ in figures} == ANALYST_FIGURES
    for name, body in figures:
        assert re.search(r'<svg role="img" aria-label="[^"]{20,}"', body), name
        caption = re.search(r"<figcaption>(.*?)</figcaption>", body, flags=re.S)
        assert caption and len(caption.group(1).split()) >= 8, name


def test_the_title_is_readable(reports):
    # found: the title was the study's lowercase slug
    assert display_title({"name": "southampton_demo"}) == "Southampton demo"
    assert display_title({"name": "x", "title": "Southampton skills and jobs projects"}).startswith("Southampton skills")
    html = (reports["analyst"] / "report.html").read_text()
    assert "<h1>Southampton demo: did the programme reduce reoffending?</h1>" in html
    with pytest.raises(SettingsError, match="title"):
        StudySettings(data_dir=Path("."), out_dir=Path("o"), title="x" * 500)


def test_provenance_is_a_small_table_not_raw_settings(reports):
    # found: the provenance section dumped raw settings JSON, and "prefect 3.8.8.Run"
    html = (reports["analyst"] / "report.html").read_text()
    section = html[html.index('id="provenance-section"'):]
    assert "{&#34;" not in section and '{"' not in section and "bootstrap_resamples" not in section.split("setting: ")[0]
    software = re.search(r"<td>software</td><td>([^<]*)</td>", section).group(1)
    assert re.search(r"\bprefect \d+\.\d+\.\d+(, |$)", software), software
    assert not re.search(r"prefect [\d.]+\.Run", html)
    changed = dict(settings_changed(reports["results"]["study"]))
    assert changed["bootstrap_resamples"] == "300" and changed["caliper"] == "None"  # the settings given
    assert "ratio" not in changed and "replace" not in changed  # and not the defaults
    assert "setting: bootstrap_resamples</td><td>300" in section


def test_reader_text_carries_no_note_for_the_cost_table_maintainer(reports):
    # found: unit costs marked "to verify against Table 1" in text meant for the reader
    for audience in ("analyst", "partner"):
        for name in ("report.html", "summary.md"):
            text = (reports[audience] / name).read_text()
            assert "Table 1" not in text and "marked for checking" not in text


def test_the_partner_report_explains_itself(reports):
    # found: the partner markers explained only in summary.md; the survival section dropped silently
    html = (reports["partner"] / "report.html").read_text()
    box = html[html.index('id="how-to-read"'):html.index("</section>")]
    for term in ("rounded to a multiple of 5", "even by comparing this report with another", "rate ratio",
                 "95% interval", "significant", "comparison group",
                 "propensity score", "SMD", "falsification test"):
        assert term in box, term
    assert "time-to-reoffence curves" in box and "Left out, and why" in box
    assert 'id="km"' not in html and 'id="overlap"' not in html
    assert not re.search(r"\bSYN\d+", html)  # nobody's id


# --- the report in headless Chromium ---------------------------------------------------------

OVERFLOW_JS = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('p, li, td, th, dd, dt, figcaption, h1, h2, h3, .step, .headline')) {
    if (el.scrollWidth > el.clientWidth + 1) bad.push(el.tagName + ': ' + el.textContent.slice(0, 60));
  }
  if (document.documentElement.scrollWidth > window.innerWidth) bad.push('page scrolls sideways');
  return bad;
}"""


def _fill(image) -> float:
    """How far down the page its content reaches (0: blank, 1: to the bottom margin)."""
    grey = np.asarray(image.convert("L"))
    rows = np.nonzero((grey < 245).any(axis=1))[0]
    return 0.0 if not len(rows) else (rows.max() + 1) / grey.shape[0]


@pytest.mark.browser
@pytest.mark.parametrize("audience", ["analyst", "partner"])
def test_report_pages_in_headless_chromium(reports, chromium, audience):  # noqa: F811
    import pypdfium2 as pdfium
    from playwright.sync_api import sync_playwright

    out = reports[audience]
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    expected = ANALYST_FIGURES if audience == "analyst" else PARTNER_FIGURES
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=OFFLINE_CHROMIUM)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.on("request", lambda r: requests.append(r.url))
        page.goto((out / "report.html").as_uri())
        width = page.evaluate("document.documentElement.scrollWidth")
        found = set(page.eval_on_selector_all("figure.chart", "els => els.map(e => e.id)"))
        assert found == expected, (audience, found ^ expected)
        for name in expected:
            svg = page.locator(f"#{name} svg")
            box = svg.bounding_box()
            assert svg.is_visible(), name
            assert box and box["width"] > 250 and box["height"] > 80, (name, box)
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, (name, box)
        assert page.evaluate(OVERFLOW_JS) == []
        page.screenshot(path=str(artifacts / f"report-{audience}.png"), full_page=True)
        pdf = page.pdf(format="A4", print_background=True)
        browser.close()
    assert requests == [(out / "report.html").as_uri()]  # self-contained: nothing fetched
    (artifacts / f"report-{audience}.pdf").write_bytes(pdf)
    doc = pdfium.PdfDocument(pdf)
    fills = []
    for number, pdf_page in enumerate(doc, start=1):
        image = pdf_page.render(scale=0.5).to_pil()
        image.save(artifacts / f"report-{audience}-page{number}.png")
        fills.append(_fill(image))
    assert len(fills) >= 2
    half_empty = [n for n, f in enumerate(fills[:-1], start=1) if f < 0.5]
    assert not half_empty, f"pages more than half empty: {half_empty} (fills {[round(f, 2) for f in fills]})"
