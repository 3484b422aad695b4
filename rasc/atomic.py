"""Atomic file writes that end with the permissions of a plainly created file.

A writer fills a temporary file beside the target and ``os.replace`` puts it in place, so a killed job never
leaves a half-written output. ``tempfile.mkstemp`` would create that file with mode 0600 whatever the umask;
here it is created with ``open(..., 0o666)`` like any other file, so the kernel applies the umask (and a
folder's default ACL) and the output ends with the mode ``open(path, "w")`` would give it. Replacing an existing
file keeps that file's mode, as writing into it would.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any


TOKEN_BYTES = 4  # random bytes in a temporary's name (hex: twice as many characters)


def _temporary_name(path: Path, token: str) -> str:
    """A hidden name beside ``path`` with ``token`` in it, the target's suffix last: writers such as np.savez and
    savefig choose the format by it."""
    return f".{path.stem}.{token}{path.suffix}"


def stale_temporaries(path: str | Path) -> list[Path]:
    """Temporaries that `atomic_path` left beside ``path`` when its process was killed mid-write."""
    path = Path(path)
    return sorted(path.parent.glob(_temporary_name(path, "[0-9a-f]" * 2 * TOKEN_BYTES)))


def _create(temporary: Path) -> bool:
    """Create ``temporary`` empty and new (mode 0666 minus the umask) → False if that name is taken already."""
    try:
        os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except FileExistsError:
        return False
    return True


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (best effort: some file systems refuse to open folders)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


@contextlib.contextmanager
def atomic_path(path: str | Path, durable: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it is removed.

    ``durable``: fsync the file and its folder (checkpoints: a crash right after the write keeps it).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = None
    try:
        for _ in range(100):
            # named before the file exists, so a stop (Ctrl-C, SIGTERM) while it is created still removes it
            temporary = path.with_name(_temporary_name(path, secrets.token_hex(TOKEN_BYTES)))
            if _create(temporary):
                break
            temporary = None  # another writer's file: never ours to remove
        else:
            raise FileExistsError(f"could not create a temporary file beside {path}")
        yield temporary
        with contextlib.suppress(FileNotFoundError):
            os.chmod(temporary, stat.S_IMODE(path.stat().st_mode))  # an existing file keeps its mode
        if durable:
            with open(temporary, "rb+") as handle:
                os.fsync(handle.fileno())
        try:
            os.replace(temporary, path)
        except OSError as error:  # e.g. a folder in the way: name the file asked for, not the temporary one
            raise OSError(error.errno, error.strerror, str(path)) from None
        if durable:
            _fsync_folder(path.parent)
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)


def write_json(path: str | Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` as indented JSON, atomically (a killed job leaves the old file or none)."""
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(data, indent=2, default=str) + "\n")
