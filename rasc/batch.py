"""Running a CLI command over many files without ever losing one.

- :func:`expand_inputs`: files as given, folders as the image files directly inside them;
- :func:`plan_outputs`: one distinct base name per input (``x``, ``x-2``, … when names collide), and a refusal
  when any output would be one of the inputs (``-o`` = the drawings' own folder);
- :func:`output_folder`: the ``-o`` folder checked before any work (not a file, writable), and removed again if
  the command leaves it empty;
- :func:`run_batch`: every input processed behind a progress bar; a bad file is reported in one line and skipped.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from rasc.imageio import IMAGE_SUFFIXES

log = logging.getLogger("rasc")


class CommandError(Exception):
    """A problem with the user's command as a whole, reported as one line and exit code 2."""


@dataclass(frozen=True)
class Failure:
    """An input that could not be processed, and why (one line)."""

    path: Path
    message: str


def expand_inputs(paths: Sequence[Path]) -> tuple[list[Path], list[Failure]]:
    """Files as given and the image files (by suffix, not hidden) directly inside folders, each once, in order.

    A folder without image files is a failure; missing files and broken links are kept (their reader reports them).
    """
    files: list[Path] = []
    failures: list[Failure] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if (p.is_file() or p.is_symlink())  # a broken link: reported
                           and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                failures.append(Failure(path, f"{path}: folder has no image files ({', '.join(IMAGE_SUFFIXES)})"))
            files += found
        else:
            files.append(path)
    # a file given twice, also under two spellings (in/x.png, in/../in/x.png), is processed once, as first spelt
    first_spelling = {path.resolve(): path for path in reversed(files)}
    unique = list(dict.fromkeys(first_spelling[path.resolve()] for path in files))
    return unique, failures


def plan_outputs(inputs: Sequence[Path], folder: Path, names: Callable[[str], list[str]],
                 also_read: Sequence[Path] = ()) -> dict[Path, str]:
    """A base name per input such that no two inputs share an output file; refuses outputs that are inputs.

    ``names(base)`` lists the file names one input writes (e.g. ``[f"{base}.png", f"{base}.preview.png"]``).
    Inputs whose names collide get ``stem-2``, ``stem-3``, … in input order, with a message. ``also_read``: other
    files the command reads (a reference image, a model), which no output may overwrite either.
    """
    inputs_resolved = {path.resolve(): path for path in (*also_read, *inputs)}
    taken: dict[str, Path] = {}
    plan: dict[Path, str] = {}
    for path in inputs:
        base, number = path.stem, 1
        while any(name in taken for name in names(base)):
            number += 1
            base = f"{path.stem}-{number}"
        if number > 1:
            log.info("%s: written as %s (its own name is taken by another input's output)", path, base)
        for name in names(base):
            taken[name] = path
            clash = inputs_resolved.get((folder / name).resolve())
            if clash is not None:
                raise CommandError(f"output {folder / name} would overwrite the input {clash}; "
                                   "choose another output folder (-o)")
        plan[path] = base
    return plan


def _remove_empty_folders(created: Sequence[Path], *made_inside: Path) -> None:
    """Remove what is empty under the topmost folder of ``created`` (deepest first; all made by this command) and
    under each of ``made_inside`` (folders this command made inside one that existed)."""
    for top in (*made_inside, *created[-1:]):
        for folder, _, _ in os.walk(top, topdown=False):
            with contextlib.suppress(OSError):
                os.rmdir(folder)  # only succeeds when empty


@contextlib.contextmanager
def all_or_none(targets: Iterable[Path]) -> Iterator[None]:
    """The files among ``targets`` that do not exist yet are removed again if the block fails or is stopped (an
    error, a full disk, Ctrl-C, SIGTERM): one input's outputs (samples and their sheet, a drawing's five images) are
    kept all or none."""
    fresh = [target for target in targets if not target.exists()]
    try:
        yield
    except BaseException:
        for target in fresh:
            if target.is_file():
                target.unlink()
        raise


@contextlib.contextmanager
def output_folder(path: Path, subfolders: Sequence[str] = ()) -> Iterator[Path]:
    """Make sure ``path`` (and its ``subfolders``, e.g. ``rasc synth``'s one a kind of image) is a writable folder
    before any work; folders created here are removed if left empty (a failure, a stop)."""
    if path.exists() and not path.is_dir():
        raise CommandError(f"-o {path}: exists and is not a folder")
    created = [p for p in (path, *path.parents) if not p.exists()]  # deepest first
    made_inside = [path / name for name in subfolders if not (path / name).exists()]
    try:
        for folder in (path, *made_inside):
            folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        _remove_empty_folders(created, *made_inside)
        raise CommandError(f"-o {path}: not a writable folder ({error.strerror or error})") from None
    try:
        yield path
    finally:
        _remove_empty_folders(created, *made_inside)


def run_batch(inputs: Sequence[Path], work: Callable[[Path], None], command: str) -> list[Failure]:
    """Call ``work`` on every input behind a progress bar; a ``ValueError`` (unreadable image, unusable drawing) or
    an ``OSError`` (an output that cannot be written) fails that input only: it is reported in one line and the
    others go on. Returns the failures."""
    from tqdm.auto import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    failures: list[Failure] = []
    with logging_redirect_tqdm(), tqdm(inputs, desc=command, unit="file", disable=len(inputs) < 2 or None,
                                        file=sys.stderr, dynamic_ncols=True) as bar:
        for path in bar:
            try:
                work(path)
            except (ValueError, OSError) as error:
                if isinstance(error, OSError):
                    message = f"{path}: cannot write {error.filename or 'its output'} ({error.strerror or error})"
                else:
                    message = str(error) if str(path) in str(error) else f"{path}: {error}"
                failures.append(Failure(path, message))
                tqdm.write(f"rasc {command}: skipped {message}", file=sys.stderr)
    return failures


def failure_summary(failures: Sequence[Failure], total: int) -> str:
    """One line naming every failed input."""
    return f"{len(failures)} of {total} inputs failed: {', '.join(str(f.path) for f in failures)}"

