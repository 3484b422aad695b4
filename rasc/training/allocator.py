"""glibc's allocator set to keep freed memory for reuse during CPU training.

A CPU training step allocates and frees the same activation buffers of a few MB hundreds of times. By default glibc
serves a buffer above its mmap threshold with a fresh mapping, unmapped again on free, and trims freed memory at the
top of its heap, so the kernel zeroes the pages again on their first touch. With the mmap threshold at glibc's
maximum and a large trim threshold, freed buffers stay in the heap and are reused. The numbers computed are
unchanged; two trainings side by side take 0.95× the time a step (``benchmarks/bench_allocator.py``).
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 * 2**20  # glibc's largest mmap threshold on 64-bit hosts (HEAP_MAX_SIZE / 2)
TRIM_THRESHOLD_BYTES = 2**30  # free memory at the top of the heap kept before it is returned to the system


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds so that freed buffers are reused → whether they were set (False off
    Linux, or with a C library without ``mallopt``)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
    done = bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)) and done
    if not done:
        log.debug("mallopt refused the allocator thresholds; glibc's defaults stay")
    return done
