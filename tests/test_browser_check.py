"""The headless-Chromium report check, proven on tiny report folders built here.

Needs Debian's `chromium` (found by tests.browser.chromium_path). Without it these tests skip,
or fail when $CI is set. Screenshots are left in $BENCH_TEST_ARTIFACTS or <repo>/test-artifacts/.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import (
    CHROMIUM_ENV,
    ChromiumNotFoundError,
    ReportBrowser,
    artifacts_dir,
    check_report_in_browser,
    chromium_path,
    require_chromium,
)

# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)

GOOD_INDEX = """<!doctype html>
<html><head><meta charset="utf-8"><title>report</title><link rel="stylesheet" href="style.css"></head>
<body id="top">
<table id="verdicts"><tr><th>scenario</th><th>verdict</th></tr><tr><td>report</td><td>ok</td></tr></table>
<img src="plots/speed.png" alt="speed">
<a href="memray/flamegraph-3.11.html">flamegraph</a>
<a href="raw/summary.json#x">summary</a>
<a href="#top">top</a>
<a href="https://bloomberg.github.io/memray/flamegraph.html">how to read a flamegraph</a>
<div style="height: 3000px"></div>
<img src="plots/below%20the%20fold.png" loading="lazy" alt="lazy, far below the first screen">
</body></html>
"""

BAD_INDEX = """<!doctype html>
<html><head><meta charset="utf-8"><title>report</title>
<script src="http://cdn.example.invalid/d3.min.js"></script>
<script src="missing.js"></script>
</head><body>
<img src="plots/missing.png" alt="missing">
<img src="https://example.invalid/remote.png" alt="remote">
<img src="../outside.png" alt="outside the folder">
<a href="nope.html">broken</a>
<script>console.error("boom"); undefinedFunction();</script>
</body></html>
"""


def _good_report(root: Path) -> Path:
    (root / "plots").mkdir(parents=True)
    (root / "plots" / "speed.png").write_bytes(PNG)
    (root / "plots" / "below the fold.png").write_bytes(PNG)
    (root / "memray").mkdir()
    (root / "memray" / "flamegraph-3.11.html").write_text("<p>flamegraph</p>")
    (root / "raw").mkdir()
    (root / "raw" / "summary.json").write_text("{}")
    (root / "style.css").write_text("body { font-family: sans-serif; }")
    (root / "index.html").write_text(GOOD_INDEX)
    return root / "index.html"


def _bad_report(root: Path) -> Path:
    (root / "outside.png").write_bytes(PNG)  # exists, but is not in the report folder
    folder = root / "report"
    folder.mkdir()
    (folder / "index.html").write_text(BAD_INDEX)
    return folder / "index.html"


@pytest.fixture(scope="module")
def browser() -> Iterator[ReportBrowser]:
    """One browser for the module's checks (a launch costs ~2 s)."""
    with ReportBrowser(require_chromium()) as shared:
        yield shared


def test_good_report_passes(tmp_path: Path) -> None:
    """Through the one-call API, which starts its own browser; the other tests share one."""
    chromium = require_chromium()
    screenshot = artifacts_dir() / "browser-check-good.png"
    screenshot.unlink(missing_ok=True)
    check = check_report_in_browser(_good_report(tmp_path), screenshot, "table#verdicts", executable=chromium)
    assert check.ok, check.problems()
    assert check.problems() == []
    assert check.external_links == ["https://bloomberg.github.io/memray/flamegraph.html"]
    assert check.screenshot == screenshot
    assert screenshot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_bad_report_names_every_problem(tmp_path: Path, browser: ReportBrowser) -> None:
    screenshot = artifacts_dir() / "browser-check-bad.png"
    check = browser.check(_bad_report(tmp_path), screenshot, "table#verdicts")
    assert check.loaded
    assert not check.ok
    assert not check.selector_found
    assert check.broken_images == ["plots/missing.png", "https://example.invalid/remote.png", "../outside.png"]
    assert check.broken_links == ["nope.html"]
    assert sorted(check.external_requests) == sorted(
        [
            "http://cdn.example.invalid/d3.min.js",
            "https://example.invalid/remote.png",
            (tmp_path / "outside.png").as_uri(),
        ]
    )
    assert [Path(url).name for url in check.failed_requests] == ["missing.js"]
    assert check.console_errors[0] == "boom"
    assert any("undefinedFunction" in error for error in check.console_errors[1:])
    problems = "\n".join(check.problems())
    for expected in ("no element matches", "plots/missing.png", "nope.html", "cdn.example.invalid", "boom"):
        assert expected in problems
    assert screenshot.is_file()


def test_missing_page_is_not_loaded(tmp_path: Path, browser: ReportBrowser) -> None:
    check = browser.check(tmp_path / "index.html", tmp_path / "shot.png", "body")
    assert not check.loaded
    assert not check.ok
    assert check.load_error is not None and "ERR_FILE_NOT_FOUND" in check.load_error
    assert check.problems() == [f"page did not load: {check.load_error}"]


def test_no_chromium_skips_locally_and_fails_in_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CHROMIUM_ENV, str(tmp_path / "no-such-chromium"))
    assert chromium_path() is None
    with pytest.raises(ChromiumNotFoundError):
        check_report_in_browser(tmp_path / "index.html", tmp_path / "shot.png", "body")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium not found"):
        require_chromium()
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="chromium is missing"):
        require_chromium()
