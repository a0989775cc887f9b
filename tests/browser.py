"""Open a static report folder in headless Chromium and say what is wrong with it.

The browser is the system's own (Debian's `chromium` package), driven by the `playwright`
package through `executable_path`; nothing is downloaded (no `playwright install`). Every
request the page makes is intercepted: files inside the report folder are served, anything
else (http, https, files outside the folder, ...) is refused and recorded.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Playwright, Request, Route, WebSocket, sync_playwright

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS_ENV = "BENCH_TEST_ARTIFACTS"

# Set to a chromium binary to use it instead of the first one found on PATH.
CHROMIUM_ENV = "BENCH_CHROMIUM"
_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Debian's /usr/bin/chromium is a shell wrapper around this; starting the binary itself saves ~0.5 s.
_DEBIAN_BINARY = "/usr/lib/chromium/chromium"

# Root in a container: no setuid sandbox, no GPU, a small /dev/shm; and no traffic of the browser's own.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-sync",
    "--metrics-recording-only",
    "--no-first-run",
    "--no-default-browser-check",
    "--no-pings",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # even a request that slipped past the router could not resolve
)

# Schemes that never touch the disk or the network.
_INERT_SCHEMES = frozenset({"data", "blob", "about"})
# Link targets that are not files to check.
_SKIPPED_LINK_SCHEMES = frozenset({"mailto", "tel", "javascript", "data", "blob", "about"})

_RESOURCE_FAILURE = "Failed to load resource:"

# Images not yet loaded (lazy ones included) are made eager and waited for, up to a limit.
_BROKEN_IMAGES_JS = """
async (limitMs) => {
  const images = Array.from(document.images);
  const pending = images.map((img) => {
    if (img.loading === "lazy") img.loading = "eager";
    if (img.complete) return null;
    return new Promise((resolve) => {
      img.addEventListener("load", resolve, { once: true });
      img.addEventListener("error", resolve, { once: true });
    });
  });
  await Promise.race([Promise.all(pending), new Promise((resolve) => setTimeout(resolve, limitMs))]);
  return images.filter((img) => !(img.complete && img.naturalWidth > 0)).map((img) => img.getAttribute("src") ?? "");
}
"""

_LINKS_JS = """
() => Array.from(document.querySelectorAll("a[href]")).map((a) => [a.getAttribute("href"), a.href])
"""


@dataclass
class PageCheck:
    """What one page looked like in the browser. `ok` is the verdict; the lists say why not."""

    url: str
    loaded: bool
    load_error: str | None = None
    selector: str = ""
    selector_found: bool = False
    broken_images: list[str] = field(default_factory=list)  # src attribute of each <img> with naturalWidth 0
    broken_links: list[str] = field(default_factory=list)  # relative href not naming a file in the folder
    external_requests: list[str] = field(default_factory=list)  # refused: any request not for a file in the folder
    failed_requests: list[str] = field(default_factory=list)  # in-folder non-image files that failed (CSS, JS, ...)
    console_errors: list[str] = field(default_factory=list)  # console.error and uncaught exceptions
    external_links: list[str] = field(default_factory=list)  # absolute http(s) links: listed, not a failure
    screenshot: Path | None = None

    @property
    def ok(self) -> bool:
        return (
            self.loaded
            and self.selector_found
            and not self.broken_images
            and not self.broken_links
            and not self.external_requests
            and not self.failed_requests
            and not self.console_errors
        )

    def problems(self) -> list[str]:
        """One line per problem, for an assertion message."""
        lines: list[str] = []
        if not self.loaded:
            lines.append(f"page did not load: {self.load_error}")
        if self.loaded and not self.selector_found:
            lines.append(f"no element matches {self.selector!r}")
        lines += [f"broken image: {src!r}" for src in self.broken_images]
        lines += [f"broken link: {href!r}" for href in self.broken_links]
        lines += [f"request left the folder: {url}" for url in self.external_requests]
        lines += [f"failed to load: {url}" for url in self.failed_requests]
        lines += [f"console error: {text}" for text in self.console_errors]
        return lines


class ChromiumNotFoundError(RuntimeError):
    pass


def require_chromium() -> str:
    """The chromium binary for a test; skips the test when there is none, fails it when $CI is set."""
    found = chromium_path()
    if found is not None:
        return found
    reason = f"chromium not found: apt-get install --no-install-recommends chromium, or set ${CHROMIUM_ENV}"
    if "CI" in os.environ:
        pytest.fail(f"chromium is missing on this CI machine ({reason})")
    pytest.skip(reason)


def artifacts_dir() -> Path:
    """Where tests leave files for people to look at: $BENCH_TEST_ARTIFACTS, else <repo>/test-artifacts/ (ignored)."""
    return Path(os.environ.get(ARTIFACTS_ENV) or REPO_ROOT / "test-artifacts")


def chromium_path() -> str | None:
    """The chromium binary to drive, or None.

    $BENCH_CHROMIUM if set (None if it is not an executable file), else the binary behind
    Debian's `chromium` package, else the first of the usual names found on PATH.
    """
    explicit = os.environ.get(CHROMIUM_ENV)
    if explicit:
        return explicit if _executable(explicit) else None
    if _executable(_DEBIAN_BINARY):
        return _DEBIAN_BINARY
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _executable(path: str) -> bool:
    return Path(path).is_file() and os.access(path, os.X_OK)


def _file_path(url: str) -> Path | None:
    parts = urlsplit(url)
    return Path(unquote(parts.path)) if parts.scheme == "file" else None


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder)


def check_report_in_browser(
    index_html: Path,
    screenshot: Path,
    required_selector: str,
    *,
    executable: str | None = None,
    timeout_s: float = 30.0,
    viewport: tuple[int, int] = (1280, 900),
) -> PageCheck:
    """Load `index_html` from disk, check it, and save a full-page screenshot to `screenshot`.

    The report folder is the one holding `index_html`. Raises ChromiumNotFoundError when no
    browser is given or found; every problem with the page itself is reported in the result.
    Starts and stops a browser (~2 s); use ReportBrowser to check several pages with one.
    """
    with ReportBrowser(executable, timeout_s=timeout_s) as browser:
        return browser.check(index_html, screenshot, required_selector, viewport=viewport)


class ReportBrowser:
    """One headless Chromium for several checks, each in a fresh browser context.

    with ReportBrowser() as browser:
        check = browser.check(index_html, screenshot, "table#verdicts")
    """

    def __init__(self, executable: str | None = None, *, timeout_s: float = 30.0) -> None:
        self.executable = executable or chromium_path()
        if self.executable is None:
            raise ChromiumNotFoundError(f"no chromium found (apt-get install chromium, or set ${CHROMIUM_ENV})")
        self.timeout_ms = timeout_s * 1000
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None

    def __enter__(self) -> ReportBrowser:
        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(
                executable_path=self.executable, args=list(CHROMIUM_ARGS), timeout=self.timeout_ms
            )
        except BaseException:
            self._playwright.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            if self._browser is not None:
                self._browser.close()
        finally:
            if self._playwright is not None:
                self._playwright.stop()
            self._browser = self._playwright = None

    def check(
        self,
        index_html: Path,
        screenshot: Path,
        required_selector: str,
        *,
        viewport: tuple[int, int] = (1280, 900),
        root: Path | None = None,
    ) -> PageCheck:
        """See check_report_in_browser; `root`: the folder the page may load from and link into (default: its own,
        e.g. a site's root for a page in a subfolder)."""
        if self._browser is None:
            raise RuntimeError("ReportBrowser.check outside its with-block")
        index_html = index_html.resolve()
        folder = index_html.parent if root is None else root.resolve()
        url = index_html.as_uri()
        check = PageCheck(url=url, loaded=False, selector=required_selector)
        refused: set[str] = set()

        def route(route: Route) -> None:
            request_url = route.request.url
            path = _file_path(request_url)
            if urlsplit(request_url).scheme in _INERT_SCHEMES or (path is not None and _inside(path, folder)):
                route.continue_()
                return
            refused.add(request_url)
            check.external_requests.append(request_url)
            route.abort("blockedbyclient")

        def on_request_failed(request: Request) -> None:
            # Images are in broken_images; the page itself in load_error.
            if request.url not in refused and request.resource_type != "image" and request.url != url:
                check.failed_requests.append(request.url)

        def on_websocket(socket: WebSocket) -> None:
            check.external_requests.append(socket.url)  # the router does not see WebSockets; none are allowed

        def on_console(message: ConsoleMessage) -> None:
            # Chromium's own "Failed to load resource" lines repeat what the lists above already hold.
            if message.type == "error" and not message.text.startswith(_RESOURCE_FAILURE):
                check.console_errors.append(message.text)

        def on_page_error(error: Error) -> None:
            check.console_errors.append(f"uncaught: {error.message}")

        context = self._browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]}, service_workers="block"
        )
        try:
            context.set_default_timeout(self.timeout_ms)
            context.route("**/*", route)
            page = context.new_page()
            page.on("requestfailed", on_request_failed)
            page.on("websocket", on_websocket)
            page.on("console", on_console)
            page.on("pageerror", on_page_error)
            try:
                page.goto(url, wait_until="load")
            except Error as exc:
                check.load_error = exc.message.splitlines()[0]
                return check
            check.loaded = True
            check.selector_found = page.locator(required_selector).count() > 0
            check.broken_images = page.evaluate(_BROKEN_IMAGES_JS, min(self.timeout_ms, 10_000))
            check.broken_links, check.external_links = _check_links(page.evaluate(_LINKS_JS), folder)
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=screenshot, full_page=True)
            check.screenshot = screenshot
            return check
        finally:
            context.close()


def _check_links(links: list[list[str]], folder: Path) -> tuple[list[str], list[str]]:
    """(broken relative links, absolute http(s) links) from [href attribute, resolved URL] pairs."""
    broken: list[str] = []
    external: list[str] = []
    for href, resolved in links:
        written = urlsplit(href)
        if written.scheme in ("http", "https") or href.startswith("//"):
            external.append(href)
            continue
        if written.scheme in _SKIPPED_LINK_SCHEMES or href.startswith("#"):
            continue
        path = _file_path(resolved)
        if path is None or not _inside(path, folder) or not path.is_file():
            broken.append(href)
    return broken, external
