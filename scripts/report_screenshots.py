"""Screenshots of a report for docs/: the index and three views of one cluster page (top, timeline, evidence).

Usage::

    cib demo -o /tmp/x && python scripts/report_screenshots.py /tmp/x/report docs/

The cluster shown is the highest-ranked one with repeated media (thumbnails), else the top-ranked one.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def main(report: Path, docs: Path) -> None:
    from playwright.sync_api import sync_playwright

    pages = sorted(report.glob("cluster-*.html"))
    index_html = (report / "index.html").read_text("utf-8")
    pages.sort(key=lambda p: index_html.find(f'href="{p.name}"'))
    chosen = next((p for p in pages if "Repeated media" in p.read_text("utf-8")), pages[0])
    docs.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"), headless=True,
                                     args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto((report / "index.html").as_uri())
        page.wait_for_function("window.__reportReady === true")
        page.screenshot(path=str(docs / "report-index.png"))
        page.goto(chosen.as_uri())
        page.wait_for_function("window.__reportReady === true")
        uid = page.evaluate("() => document.querySelector('#members tbody tr').getAttribute('data-account')")
        page.evaluate("uid => { window.network.selectNodes([uid]); window.highlightAccount(uid); }", uid)
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(docs / "report-cluster.png"))
        page.evaluate("() => document.querySelector('h2:nth-of-type(2)').scrollIntoView()")
        page.wait_for_timeout(300)
        page.screenshot(path=str(docs / "report-cluster-timeline.png"))
        page.evaluate("() => document.getElementById('evidence').scrollIntoView()")
        page.evaluate("() => window.scrollBy(0, -90)")
        page.wait_for_timeout(300)
        page.screenshot(path=str(docs / "report-cluster-evidence.png"))
        browser.close()
    print(f"screenshots of {chosen.name} and index.html written to {docs}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
