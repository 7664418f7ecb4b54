"""Writing output files so that an interruption never leaves a broken file in place.

Every file the package writes goes through :func:`atomic_output`: the content is
written to a temporary file beside the target (same folder, so the same file system),
flushed to disk, and renamed over the target in one step (``os.replace``). A kill, a
full disk or an exception before the rename leaves the previous file as it was and no
partial file under the target's name. A target that is a symbolic link is written
through the link (the file it points to is replaced, the link stays), and a file that
is replaced keeps its permission bits.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from kosovo_cmr.errors import InputError

__all__ = ["real_path", "same_file", "check_outputs", "atomic_output"]


def real_path(path: str | os.PathLike) -> Path:
    """Return ``path`` absolute, with every symbolic link resolved (it need not exist)."""
    return Path(os.path.realpath(os.fspath(path)))


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name the same file: through links, hard links included.

    Examples
    --------
    >>> same_file("/tmp/../tmp/x.gpkg", "/tmp/x.gpkg")
    True
    """
    ra, rb = real_path(a), real_path(b)
    if ra == rb:
        return True
    try:
        return os.path.samefile(ra, rb)
    except OSError:  # one does not exist: then only the names can match, and they differ
        return False


#: Files SQLite and the GeoPackage store keep beside a store file.
STORE_SIDECARS: tuple[str, ...] = ("-wal", "-shm", "-journal", ".lock")


def check_outputs(
    outputs,
    *,
    overwrite: bool = False,
    store: str | os.PathLike | None = None,
    sources=(),
) -> None:
    """Refuse output paths that would destroy the store, a source, or another output.

    Every command that writes files checks its outputs with this one function before
    any work: an output that resolves (through symbolic or hard links) to the store (or
    one of its SQLite sidecars), to a source file, or to another output of the same
    command is refused, whatever ``overwrite`` says; an existing output needs
    ``overwrite``; its folder must exist.

    Parameters
    ----------
    outputs : mapping of str to path
        Label shown in the message (``"--output"``, ``"--chart"``) -> path; ``None``
        paths are skipped.
    overwrite : bool, default False
        Whether existing outputs may be replaced.
    store : str or path, optional
        The store: a GeoPackage path (a ``postgresql://`` URL names no file).
    sources : iterable of path, optional
        Files the command reads.

    Raises
    ------
    kosovo_cmr.errors.InputError
        Naming the output and what it would destroy.

    Examples
    --------
    >>> check_outputs({"-o": "/tmp/k.gpkg"}, store="/tmp/k.gpkg")
    Traceback (most recent call last):
    ...
    kosovo_cmr.errors.InputError: -o /tmp/k.gpkg is the store (/tmp/k.gpkg); choose another file
    """
    protected = []
    if store is not None and "://" not in os.fspath(store):
        base = os.fspath(store)
        protected += [(base, f"the store ({store})")]
        protected += [(base + s, f"a file of the store ({base}{s})") for s in STORE_SIDECARS]
    protected += [(os.fspath(s), f"the source file {s}") for s in sources if s is not None]
    seen: list[tuple[str, str]] = []
    for label, path in outputs.items():
        if path is None:
            continue
        for other, what in protected:
            if same_file(path, other):
                raise InputError(f"{label} {path} is {what}; choose another file")
        for other_label, other in seen:
            if same_file(path, other):
                raise InputError(f"{label} and {other_label} are the same file ({path})")
        seen.append((label, os.fspath(path)))
        target = real_path(path)
        if target.exists() and not overwrite:
            raise InputError(f"{path} exists; pass --overwrite to replace it")
        if not target.parent.is_dir():
            raise InputError(f"folder {Path(path).parent} does not exist")


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


@contextlib.contextmanager
def atomic_output(
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    sidecars: tuple[str, ...] = (),
) -> Iterator[Path]:
    """Yield a temporary path to write ``path`` to; rename it into place on success.

    The temporary file lies beside the real target and keeps its suffix (writers such as
    GDAL choose their format by it): ``.<name>.part-<random><suffix>``. On a clean exit
    it (and each sidecar, e.g. a Shapefile's ``.dbf``) is flushed and renamed over the
    target; on an exception it is removed and the target is left as it was.

    Parameters
    ----------
    path : path
        The file to write. A symbolic link is followed: the file it names is replaced.
    overwrite : bool, default False
        Whether an existing target may be replaced.
    sidecars : tuple of str, optional
        Suffixes of files written beside the main one (``(".shx", ".dbf", ".prj")``),
        renamed with it when the writer made them.

    Yields
    ------
    pathlib.Path
        Where to write.

    Raises
    ------
    kosovo_cmr.errors.InputError
        If the target exists and ``overwrite`` is false, or its folder does not exist.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_output(target) as tmp:
    ...     _ = tmp.write_text("complete")
    >>> target.read_text()
    'complete'
    """
    target = real_path(path)
    if target.exists() and not overwrite:
        raise InputError(f"{path} exists; pass --overwrite to replace it")
    if not target.parent.is_dir():
        raise InputError(f"folder {target.parent} does not exist")
    stem = f".{target.stem}.part-{secrets.token_hex(4)}"
    tmp = target.with_name(stem + target.suffix)
    extra = [(target.with_name(stem + s), target.with_suffix(s)) for s in sidecars]
    try:
        yield tmp
        mode = target.stat().st_mode & 0o7777 if target.exists() else None
        for done, final in [(tmp, target), *extra]:
            if not done.exists():
                continue
            _fsync(done)
            if mode is not None:
                os.chmod(done, mode)
            os.replace(done, final)
    finally:
        for leftover in [tmp, *(t for t, _ in extra)]:
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
