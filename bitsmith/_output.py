"""Where a run writes: output directories that never destroy a user's files, and scratch
space that is cleaned on every exit path.

Rules (``README.md``, "The -o rule"):

* ``-o DIR`` may replace only a directory bitsmith wrote (it holds :data:`MARKER`), an
  empty directory, or -- with ``--force`` -- any directory except one that holds the
  current directory or the config file. A path naming a file is refused.
* The run writes into a staging sibling ``.DIR.bitsmith-tmp-PID`` that is renamed into
  place only when complete; on any failure the staging folder, and any parent folder the
  run created, are removed. Permissions follow the umask.
* Scratch space (simulator builds, temporaries) lives under one space-free folder,
  ``$XDG_CACHE_HOME/bitsmith/tmp/run-PID-*`` (see :func:`cache_root`), removed on exit;
  folders left by a run that was killed (SIGKILL) are swept by the next run, once the
  process that owned them is gone.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .config import ConfigError

__all__ = ["MARKER", "cache_root", "check_output_dir", "output_dir", "work_dir"]

#: The file that marks a directory as written by bitsmith (run metadata, JSON).
MARKER = ".bitsmith-run.json"

_STAGING = re.compile(r"^\.(?P<name>.+)\.bitsmith-(?:tmp|old)-(?P<pid>\d+)(?:-\w+)?$")
_RUN_DIR = re.compile(r"^run-(?P<pid>\d+)-\w+$")


def cache_root() -> Path:
    """bitsmith's cache folder: ``$BITSMITH_CACHE_DIR``, else ``$XDG_CACHE_HOME/bitsmith``,
    else ``~/.cache/bitsmith`` (build caches, scratch space, internal-error logs)."""
    env = os.environ.get("BITSMITH_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "bitsmith"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_within(path: Path, ancestor: Path) -> bool:
    return path == ancestor or ancestor in path.parents


def check_output_dir(out: str | os.PathLike, config: str | os.PathLike | None = None,
                     force: bool = False) -> Path:
    """Check that a run may write ``out``; return it resolved, or raise ConfigError (exit 2).

    Nothing is created or changed.
    """
    text = os.fspath(out)
    if not text.strip():
        raise ConfigError("must name a directory, not an empty string", key_path="-o")
    final = Path(text).expanduser().resolve()
    shown = repr(text)
    cwd = Path.cwd().resolve()
    if _is_within(cwd, final):
        raise ConfigError(f"{shown} is the current directory or holds it: refusing to "
                          f"replace it (name a new or bitsmith-written directory)", key_path="-o")
    if config is not None:
        cfg = Path(config).resolve()
        if _is_within(cfg, final):
            raise ConfigError(f"{shown} holds the config file {str(config)!r}: refusing to "
                              f"replace it (name another directory)", key_path="-o")
    if final == Path.home().resolve() or final.parent == final:
        raise ConfigError(f"{shown} is your home or the root directory: refusing to replace "
                          f"it", key_path="-o")
    if final.exists() or final.is_symlink():
        if not final.is_dir():
            raise ConfigError(f"{shown} is an existing file, not a directory: refusing to "
                              f"replace it", key_path="-o")
        entries = list(final.iterdir())
        if entries and not (final / MARKER).is_file() and not force:
            raise ConfigError(
                f"{shown} exists and was not written by bitsmith (no {MARKER}; "
                f"{len(entries)} entries): refusing to replace it; remove it yourself, name "
                f"another directory, or pass --force", key_path="-o")
    # the nearest existing ancestor must be a writable directory
    anc = final.parent
    while not anc.exists():
        if anc.is_symlink():
            raise ConfigError(f"{shown}: {str(anc)!r} is a broken link", key_path="-o")
        anc = anc.parent
    if not anc.is_dir():
        raise ConfigError(f"{shown}: {str(anc)!r} is a file, not a directory", key_path="-o")
    if not os.access(anc, os.W_OK | os.X_OK):
        raise ConfigError(f"{shown}: cannot write in {str(anc)!r} (permission denied)",
                          key_path="-o")
    return final


def _sweep(folder: Path, pattern: re.Pattern, name: str | None = None) -> None:
    """Remove the entries of ``folder`` matching ``pattern`` (and, if given, whose ``name``
    group is ``name``) that belong to a process that no longer runs (a killed run)."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    for p in entries:
        m = pattern.match(p.name)
        if m and (name is None or m.group("name") == name) and not _alive(int(m.group("pid"))):
            shutil.rmtree(p, ignore_errors=True)


@contextlib.contextmanager
def work_dir() -> Iterator[Path]:
    """A scratch folder without spaces in its path, removed when the block exits (however).

    Under ``cache_root()/tmp`` (or the system temp folder when that path has spaces).
    """
    root = cache_root() / "tmp"
    if " " in str(root):
        root = Path(tempfile.gettempdir()) / "bitsmith"
        if " " in str(root):
            raise ConfigError(f"the cache folder {str(cache_root())!r} has a space in its path "
                              f"and so has the temp folder; set BITSMITH_CACHE_DIR to a folder "
                              f"without spaces (GNU make cannot build there)")
    root.mkdir(parents=True, exist_ok=True)
    _sweep(root, _RUN_DIR)
    path = Path(tempfile.mkdtemp(prefix=f"run-{os.getpid()}-", dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _make_parents(path: Path, created: list[Path]) -> None:
    """Create the missing ancestors of ``path``, appending each to ``created`` as it is made
    (outermost first), so a failure half way still lets the caller remove what was made."""
    missing = []
    p = path.parent
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        d.mkdir(mode=0o777)
        created.append(d)


@contextlib.contextmanager
def output_dir(final: str | os.PathLike, metadata: dict | None = None) -> Iterator[Path]:
    """Yield a staging directory and rename it into place as ``final`` when the block succeeds.

    ``final`` must have passed :func:`check_output_dir`. On success the staging directory
    gets :data:`MARKER` (``metadata`` as JSON) and replaces ``final``. If the block raises
    (an error, SIGINT or SIGTERM turned into exceptions), the staging directory and every
    parent folder created for it are removed, and ``final`` is left as it was.
    """
    final = Path(final)
    created: list[Path] = []
    tmp = None
    try:
        try:
            _make_parents(final, created)
            _sweep(final.parent, _STAGING, final.name)
            tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.bitsmith-tmp-{os.getpid()}-",
                                        dir=final.parent))
            tmp.chmod(0o777 & ~_umask())
        except OSError as e:
            raise ConfigError(f"cannot create {str(final)!r} ({e.strerror or e})",
                              key_path="-o") from None
        yield tmp
        (tmp / MARKER).write_text(json.dumps(metadata or {}, indent=2, sort_keys=True) + "\n")
        old = None
        if final.exists():
            old = final.with_name(f".{final.name}.bitsmith-old-{os.getpid()}")
            final.replace(old)
        tmp.replace(final)
        tmp = None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        for d in reversed(created):
            with contextlib.suppress(OSError):
                d.rmdir()
        raise
