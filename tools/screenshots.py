"""Small PNG screenshots of the demo's reports for docs/img/ (run by `make screenshots`).

For each report given (audience=path/to/report.html): the top of the page as a reader sees
it on screen, and every page of its A4 PDF as a contact sheet. Headless Chromium (Debian's
chromium package) through Playwright, with pypdfium2 to draw the PDF pages.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image
from playwright.sync_api import sync_playwright

COLUMNS = 4
PAGE_SCALE = 0.5  # 595 x 842 pt pages drawn at about 300 x 420 px


def _small(image: Image.Image) -> Image.Image:
    return image.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)


def shoot(audience: str, report: Path, out: Path, chromium: str) -> list[Path]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1000, "height": 1250}, device_scale_factor=0.8)
        page.goto(report.resolve().as_uri())
        screen = out / f"report-{audience}-screen.png"
        page.screenshot(path=str(screen))
        pdf = page.pdf(format="A4", print_background=True)
        browser.close()
    _small(Image.open(screen)).save(screen, optimize=True)
    pages = [pg.render(scale=PAGE_SCALE).to_pil() for pg in pdfium.PdfDocument(pdf)]
    w, h = pages[0].size
    rows = -(-len(pages) // COLUMNS)
    sheet = Image.new("RGB", (COLUMNS * (w + 8) + 8, rows * (h + 8) + 8), "#b0bec5")
    for i, page_image in enumerate(pages):
        sheet.paste(page_image, (8 + (i % COLUMNS) * (w + 8), 8 + (i // COLUMNS) * (h + 8)))
    sheet_path = out / f"report-{audience}-pdf-pages.png"
    _small(sheet).save(sheet_path, optimize=True)
    return [screen, sheet_path]


def shoot_library(index: Path, out: Path, chromium: str) -> list[Path]:
    """The library site's index: its first screen, and each programme type's forest plot."""
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1000, "height": 1100}, device_scale_factor=0.8)
        page.goto(index.resolve().as_uri())
        written.append(out / "library-index-screen.png")
        page.screenshot(path=str(written[-1]))
        for i, figure in enumerate(page.locator("figure.chart[id^=forest]").all(), start=1):
            written.append(out / f"library-forest-{i}.png")
            figure.screenshot(path=str(written[-1]))
        browser.close()
    for path in written:
        _small(Image.open(path)).save(path, optimize=True)
    return written


def main(argv: list[str]) -> int:
    chromium = shutil.which("chromium")
    if chromium is None:
        print("screenshots need Debian's chromium package: sudo apt-get install chromium", file=sys.stderr)
        return 2
    out = Path("docs/img")
    out.mkdir(parents=True, exist_ok=True)
    for arg in argv:
        audience, _, path = arg.partition("=")
        shots = shoot_library(Path(path), out, chromium) if audience == "library" else shoot(audience, Path(path), out, chromium)
        for written in shots:
            print(f"{written} ({written.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
