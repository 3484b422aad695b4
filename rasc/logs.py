"""Logging set-up shared by the workflow scripts and the CLI."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path


def configure_logging(level: int = logging.INFO) -> None:
    """Plain ``time level name: message`` lines on stderr."""
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )


@contextlib.contextmanager
def script_logging(log_path: str | Path) -> Iterator[logging.Logger]:
    """Send a Snakemake script's stdout, stderr and logging to its ``log:`` file; log any exception before exiting."""
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", buffering=1) as handle, contextlib.redirect_stdout(handle), contextlib.redirect_stderr(handle):
        configure_logging()
        logger = logging.getLogger("rasc.workflow")
        try:
            yield logger
        except Exception:
            logger.exception("job failed")
            raise
