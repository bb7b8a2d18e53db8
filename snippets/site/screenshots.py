"""Render pages of the site to PNG, light and dark, desktop and phone width, for review.

    python -m snippets.site.screenshots OUTDIR [--site SITE_DIR] [--pages lstm-cell/ ...]
    python -m snippets.site.screenshots OUTDIR --only rnn.md [gru.md ...]

Without --site it builds the site (`mkdocs build --strict`) into OUTDIR/site first. With --only it
builds a site of those pages alone, quickly (not strict: links to the other pages are missing;
the experiments those pages read are run or loaded when they ask, not all before). Pages are found
in the build (every index.html). Writes OUTDIR/<page>-<light|dark>-<desktop|phone>.png, full-page,
with every request off 127.0.0.1 blocked (and listed, if there are any). Needs Debian's Chromium
(see snippets.site.browser).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import yaml

from snippets.site.browser import Network, chromium, chromium_missing, page_paths, serve

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
SCHEMES = {"light": "light", "dark": "dark"}  # Material picks the palette matching the media query


REPO = Path(__file__).resolve().parents[2]


def build(site_dir: Path, config: Path | None = None, strict: bool = True) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    command = [sys.executable, "-m", "mkdocs", "build", "-d", str(site_dir)] + (["--strict"] if strict else [])
    subprocess.run(command + (["-f", str(config)] if config else []), check=True, env=env, cwd=REPO)


def pages_only_config(pages: list[str], folder: Path) -> Path:
    """A config for a site of `pages` (paths under docs/) and the site's assets, written into `folder`."""
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    docs = folder / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    for name in [*pages, "stylesheets", "javascripts", "overrides"]:
        source, target = REPO / "docs" / name, docs / name
        if source.exists() and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(source)
    config.update(
        docs_dir=str(docs),
        nav=pages,
        extra={**config.get("extra", {}), "run_experiments": False},
        hooks=[str(REPO / hook) for hook in config["hooks"]],
    )
    config["theme"]["custom_dir"] = str(docs / "overrides")
    config["plugins"] = [p for p in config["plugins"] if not (isinstance(p, dict) and "htmlproofer" in p)]
    path = folder / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    # The checkout's own cache, not a new one beside this config: the pages' experiments are there.
    os.environ.setdefault("SNIPPETS_CACHE_DIR", str(REPO / ".cache" / "snippets"))
    return path


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
    parser.add_argument("--only", nargs="+", help="build a site of these pages alone (paths under docs/)")
    args = parser.parse_args(argv)
    missing = chromium_missing()
    if missing:
        print(missing, file=sys.stderr)
        return 2
    site_dir = args.site
    if args.only:
        site_dir = args.out_dir / "site"
        build(site_dir, pages_only_config(args.only, args.out_dir / "config"), strict=False)
    elif site_dir is None:
        site_dir = args.out_dir / "site"
        build(site_dir)
    for png in render(site_dir, args.out_dir, args.pages):
        print(png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
