"""Render every page of the site to PNG, light and dark, desktop and phone width, for review.

    python -m snippets.site.screenshots OUTDIR [--site SITE_DIR] [--pages lstm-cell/ ...]

Without --site it builds the site (`mkdocs build --strict`) into OUTDIR/site first. Pages are
found in the build (every index.html). Writes OUTDIR/<page>-<light|dark>-<desktop|phone>.png,
full-page, with every request off 127.0.0.1 blocked (and listed, if there are any).
Needs Debian's Chromium (see snippets.site.browser).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from snippets.site.browser import Network, chromium, chromium_missing, page_paths, serve

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
SCHEMES = {"light": "light", "dark": "dark"}  # Material picks the palette matching the media query


def build(site_dir: Path) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site_dir)], check=True, env=env)


def png_name(path: str, scheme: str, viewport: str) -> str:
    stem = path.strip("/").replace("/", "_") or "index"
    return f"{stem}-{scheme}-{viewport}.png"


def render(site_dir: Path, out_dir: Path, pages: list[str] | None = None) -> list[Path]:
    """Screenshot `pages` (default: all) of the built site in `site_dir`; return the PNG paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with serve(site_dir) as base_url, chromium() as browser:
        for scheme, media in SCHEMES.items():
            for viewport, size in VIEWPORTS.items():
                context = browser.new_context(viewport=size, color_scheme=media, device_scale_factor=1)
                network = Network(context)
                page = context.new_page()
                for path in pages or page_paths(site_dir):
                    page.goto(base_url + path, wait_until="networkidle")
                    target = out_dir / png_name(path, scheme, viewport)
                    page.screenshot(path=str(target), full_page=True)
                    written.append(target)
                context.close()
                for url in network.blocked:
                    print(f"blocked request to another site: {url}", file=sys.stderr)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--site", type=Path, help="a built site (default: build one into OUT_DIR/site)")
    parser.add_argument("--pages", nargs="*", help="URL paths such as '' or 'lstm-cell/' (default: all)")
    args = parser.parse_args(argv)
    missing = chromium_missing()
    if missing:
        print(missing, file=sys.stderr)
        return 2
    site_dir = args.site
    if site_dir is None:
        site_dir = args.out_dir / "site"
        build(site_dir)
    for png in render(site_dir, args.out_dir, args.pages):
        print(png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
