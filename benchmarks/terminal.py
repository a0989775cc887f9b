"""Where tables for people are printed: the terminal as it is, or, piped (nox, CI logs), a fixed width wide enough
that rich's tables keep their columns readable instead of squeezing them to 80."""

from __future__ import annotations

import sys

from rich.console import Console

PIPED_WIDTH = 180


def table_console() -> Console:
    return Console() if sys.stdout.isatty() else Console(width=PIPED_WIDTH)
