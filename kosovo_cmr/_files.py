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
import errno
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from kosovo_cmr.errors import InputError, KcmrError

__all__ = [
    "real_path",
    "same_file",
    "check_outputs",
    "atomic_output",
    "disk_full",
    "nearly_full",
]


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
    ``overwrite``; its folder must exist and be writable (a read-only file system is
    refused here, before any work, rather than at the end of it).

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
        if not os.access(target.parent, os.W_OK):
            raise InputError(
                f"{label} {path}: folder {target.parent} cannot be written "
                "(read-only file system or no permission)"
            )


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


#: Free space under which a failed write is reported as a full disk (bytes).
NEARLY_FULL_BYTES = 1 << 20


def disk_full(exc: BaseException, folder: str | os.PathLike) -> bool:
    """Whether a write into ``folder`` that raised ``exc`` failed for lack of space.

    Writers such as GDAL's report a full disk in their own words ("Cannot write
    feature", "no such table", "Failed to commit transaction"); the free space left on
    the folder's file system says what happened. Call it before removing the failed
    write's temporary files (they hold the space).

    Examples
    --------
    >>> import errno, tempfile
    >>> disk_full(OSError(errno.ENOSPC, "No space left on device"), tempfile.gettempdir())
    True
    """
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return True
    return nearly_full(folder)


def nearly_full(folder: str | os.PathLike) -> bool:
    """Whether the file system of ``folder`` has less than :data:`NEARLY_FULL_BYTES` free."""
    try:
        stat = os.statvfs(folder)
    except OSError:
        return False
    return stat.f_bavail * stat.f_frsize < NEARLY_FULL_BYTES


def _replace_all(tmp: Path, target: Path, extra: list[tuple[Path, Path]]) -> None:
    """Flush the written files and rename them into place: sidecars first, then the main."""
    mode = target.stat().st_mode & 0o7777 if target.exists() else None
    made = [(done, final) for done, final in extra if done.exists()]
    for done in [tmp, *(d for d, _ in made)]:
        _fsync(done)
        if mode is not None:
            os.chmod(done, mode)
    if nearly_full(target.parent):  # a writer that swallows its errors left a short file
        raise OSError(errno.ENOSPC, "No space left on device", os.fspath(target))
    for done, final in made:
        os.replace(done, final)
    os.replace(tmp, target)
    for done, final in extra:  # a sidecar of an older write would not match the new file
        if (done, final) not in made:
            with contextlib.suppress(FileNotFoundError):
                final.unlink()
    with contextlib.suppress(OSError):  # make the renames themselves durable
        fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


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
    target, sidecars first and the main file last; a sidecar of the target that this
    write did not make is removed (it belonged to an older write). On an exception the
    temporary files are removed and the target is left as it was; a failure on a file
    system with less than 1 MiB left is raised as :class:`OSError` ``ENOSPC`` ("No
    space left on device"), whatever words the writer used for it. A write that leaves
    less than 1 MiB free is not trusted either (some writers, GDAL's GeoTIFF driver
    among them, only print the errors of a disk that fills): it is refused with
    ``ENOSPC`` and the target is left as it was.

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
        if tmp.exists():
            _replace_all(tmp, target, extra)
    except Exception as exc:
        if not isinstance(exc, OSError | KcmrError) and disk_full(exc, target.parent):
            raise OSError(errno.ENOSPC, "No space left on device", os.fspath(path)) from exc
        raise
    finally:
        for leftover in [tmp, *(t for t, _ in extra)]:
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
