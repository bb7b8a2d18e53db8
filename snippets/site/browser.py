"""Open the built site in Debian's Chromium, driven by Playwright, with the network cut off.

Shared by the browser tests (tests/test_browser.py) and the screenshot script
(`python -m snippets.site.screenshots OUTDIR`):

- `serve(site_dir)` serves a built site on 127.0.0.1 (a threaded `http.server`, a free port);
- `page_paths(site_dir)` finds every page (each `index.html`), so new pages are covered unasked;
- `chromium()` launches the system Chromium (Playwright downloads no browser here);
- `Network` blocks and records every request that is not to the loopback address, and records
  what each page loads from the site, to weigh it.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import threading
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

CHROMIUM = Path(os.environ.get("SNIPPETS_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
INSTALL_HINT = (
    "Debian's Chromium is needed for the browser tests and screenshots: "
    "`apt-get update && apt-get install -y chromium` (as root), "
    "or point SNIPPETS_CHROMIUM at a Chromium binary"
)
LOOPBACK = "127.0.0.1"


def chromium_missing() -> str | None:
    """Why the browser cannot run here (Chromium or Playwright missing), or None."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)) and not shutil.which(str(CHROMIUM)):
        return f"no Chromium at {CHROMIUM}. {INSTALL_HINT}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed: `pip install -r requirements.txt`"
    return None


class _SiteHandler(SimpleHTTPRequestHandler):
    """Serves the files; serves sitemap.xml with the public address swapped for this server's.

    Material's instant navigation only intercepts links listed in sitemap.xml, after giving each
    listed URL the current page's protocol and host name (not its port or path). The sitemap names
    the public site_url, so on 127.0.0.1:PORT every click would be a full reload. `mkdocs serve`
    rewrites site_url to its own address for the same reason; this does it for the one file.
    """

    site_url: str | None = None
    base_url: str = ""

    def do_GET(self):  # noqa: N802 - the base class's name
        if self.site_url and urlsplit(self.path).path == "/sitemap.xml":
            body = (Path(self.directory) / "sitemap.xml").read_bytes()
            body = body.replace(self.site_url.encode(), self.base_url.encode())
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            super().do_GET()

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


def site_url(site_dir: Path) -> str | None:
    """The public address the site was built for (its home page's canonical link), if any."""
    index = site_dir / "index.html"
    found = (
        re.search(r'<link rel="canonical" href="([^"]+)"', index.read_text(encoding="utf-8"))
        if index.is_file()
        else None
    )
    return found.group(1) if found else None


@contextmanager
def serve(site_dir: Path):
    """Serve `site_dir` on 127.0.0.1 at a free port; yield the base URL (ending in '/')."""
    handler = type("Handler", (_SiteHandler,), {"site_url": site_url(site_dir)})
    server = ThreadingHTTPServer((LOOPBACK, 0), functools.partial(handler, directory=str(site_dir)))
    server.daemon_threads = True
    handler.base_url = f"http://{LOOPBACK}:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield handler.base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def page_paths(site_dir: Path) -> list[str]:
    """Every page of a built site as a URL path relative to the root: '', 'lstm-cell/', ..."""
    paths = []
    for index in sorted(site_dir.rglob("index.html")):
        folder = index.parent.relative_to(site_dir).as_posix()
        paths.append("" if folder == "." else folder + "/")
    return paths


@contextmanager
def chromium():
    """Launch the system Chromium headless; yield the Playwright `Browser`."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Network:
    """Routes every request of a browser context: loopback ones go through, the rest are aborted.

    `blocked` lists the aborted URLs, `loaded` the site's URLs, both since the last `reset()`.
    Routing also turns off Chromium's HTTP cache, so each page load fetches everything it needs.
    """

    def __init__(self, context) -> None:
        self.blocked: list[str] = []
        self.loaded: list[str] = []
        context.route("**/*", self._handle)

    def reset(self) -> None:
        self.blocked, self.loaded = [], []

    # Exactly one parameter: Playwright passes the request as a second argument to a handler that
    # takes two, default or not.
    def _handle(self, route) -> None:
        url = route.request.url
        if urlsplit(url).hostname == LOOPBACK:
            self.loaded.append(url)
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("blockedbyclient")

    def weight(self, site_dir: Path) -> tuple[int, list[tuple[int, str]]]:
        """Bytes of the site's files loaded since `reset()` (each URL once), and the files by size."""
        sizes = {}
        for url in self.loaded:
            path = unquote(urlsplit(url).path).lstrip("/")
            file = site_dir / path
            if file.is_dir() or not path:
                file = file / "index.html"
            if file.is_file():
                sizes[path or "index.html"] = file.stat().st_size
        ranked = sorted(((size, path) for path, size in sizes.items()), reverse=True)
        return sum(sizes.values()), ranked


def evaluate_each(browser, base_url: str, paths, script: str, **context_options) -> dict:
    """{path: what `script` (a JavaScript function) returns on that page}, each page loaded offline
    (`Network`) until the network is idle, in one browser context made with `context_options`."""
    context = browser.new_context(**context_options)
    Network(context)
    page = context.new_page()
    found = {}
    for path in paths:
        page.goto(base_url + path, wait_until="networkidle")
        found[path] = page.evaluate(script)
    context.close()
    return found
