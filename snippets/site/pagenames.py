"""Name the page in markdown-exec's warnings.

When a block raises, markdown-exec logs the block's code and traceback but not the page it is on,
which on a site of many pages leaves you searching. MkDocs renders one page at a time, so the page
whose Markdown was handed out last is the one being rendered: a logging filter prefixes its path.
"""

import logging

# markdown-exec logs through "mkdocs.plugins." + its module name; this module logs failed blocks.
MARKDOWN_EXEC_LOGGER = "mkdocs.plugins.markdown_exec._internal.formatters.base"


class PageNamer(logging.Filter):
    """Prefixes each record's message with the page being rendered, if one is."""

    def __init__(self) -> None:
        super().__init__()
        self.page: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if self.page is not None:
            record.msg = f"page '{self.page}': {record.msg}"
        return True


NAMER = PageNamer()


def install() -> None:
    """Attach the filter once (`mkdocs serve` calls the config hooks on every rebuild)."""
    logger = logging.getLogger(MARKDOWN_EXEC_LOGGER)
    if NAMER not in logger.filters:
        logger.addFilter(NAMER)
