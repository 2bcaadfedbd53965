"""What every flow shares: the registry of kinds, config loading, the run context and the
progress display.

Imports point one way: ``bitsmith.config`` (machinery) <- this module (registry) <- each
flow (registers itself) <- ``bitsmith.flows`` (imports every flow) <- the CLI.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..config import ConfigError, ConfigModel, load_yaml, validate

__all__ = ["FLOWS", "Flow", "RunContext", "ProgressBar", "load_config", "register_flow"]


class ProgressBar:
    """A progress bar that appears only once a task has run for ``delay_s`` seconds.

    Call it as ``bar(done, total, best)`` (the signature :func:`bitsmith.search.minimize`
    uses for ``progress``). On a terminal it is a ``rich`` progress bar on stderr; otherwise
    (a CI log, a file) it prints a line when it appears, then at most one every
    ``every_s`` seconds, and one at the end, so logs stay short.
    """

    def __init__(self, label: str, stream: TextIO | None = None, delay_s: float = 1.0,
                 every_s: float = 10.0):
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.delay_s = delay_s
        self.every_s = every_s
        self._t0 = time.perf_counter()
        self._shown = False
        self._last_line = -float("inf")
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._rich = None
        self._task = None

    def _start_rich(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._rich = Progress(TextColumn("{task.description}"), BarColumn(),
                              MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                              TextColumn("{task.fields[best]}"),
                              console=Console(file=self.stream), transient=False)
        self._rich.start()
        self._task = self._rich.add_task(self.label, total=total, best="")

    def __call__(self, done: int, total: int, best: float | None = None) -> None:
        elapsed = time.perf_counter() - self._t0
        if not self._shown and elapsed < self.delay_s:
            return
        best_s = "" if best is None else f"best {best:.4g}"
        if self._tty:
            if self._rich is None:
                self._start_rich(total)
            self._rich.update(self._task, completed=done, total=total, best=best_s)
            if done >= total:
                self.close()
        else:
            frac = done / total if total else 1.0
            if done < total and elapsed - self._last_line < self.every_s:
                return
            self._last_line = elapsed
            eta = (elapsed / frac - elapsed) if frac > 0 else float("nan")
            self.stream.write(f"{self.label}: {done}/{total} ({100 * frac:.0f} %)  "
                              f"{elapsed:.1f} s, eta {eta:.1f} s  {best_s}".rstrip() + "\n")
            self.stream.flush()
        self._shown = True

    def close(self) -> None:
        """Stop drawing (a terminal bar leaves its last state on screen)."""
        if self._rich is not None:
            self._rich.stop()
            self._rich = None


@dataclass
class RunContext:
    """What a flow gets besides its validated config.

    Parameters
    ----------
    config_path : Path
        The configuration file (for messages).
    out_dir : Path
        Where to write results: a staging directory renamed into place on success.
        Temporary files go through :mod:`tempfile`: under the CLI it points at the run's
        space-free scratch folder, removed on every exit path.
    seed : int
        Seed of every random choice of the run.
    log : callable
        ``log(message)`` prints progress messages (stderr).
    warnings : list of str
        What :meth:`warn` reported (the CLI adds it to ``summary.json``).
    executor : concurrent.futures.Executor, optional
        Where independent pieces of work (Monte Carlo batches, budget sweeps, batch
        evaluations) may run: None in-process, else a pool or a ``dask.distributed``
        executor (``bitsmith run --scheduler``). Results must not depend on it: work is
        split and seeded the same way either way.
    """

    config_path: Path
    out_dir: Path
    seed: int = 0
    log: Callable[[str], None] = field(default=lambda msg: print(msg, file=sys.stderr))
    quiet: bool = False
    executor: Executor | None = None
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        """Report something the user should act on: printed even with ``--quiet`` (stderr)
        and listed under ``warnings`` in ``summary.json``."""
        self.warnings.append(message)
        print(f"bitsmith: warning: {message}", file=sys.stderr)

    def map(self, fn, *iterables) -> list:
        """``[fn(*args) for args in zip(*iterables)]``, on :attr:`executor` when there is one
        (results in input order, so a run is identical with or without it)."""
        if self.executor is None:
            return [fn(*args) for args in zip(*iterables, strict=True)]
        return list(self.executor.map(fn, *iterables))

    def progress(self, label: str) -> Callable[[int, int, float | None], None]:
        """A progress callback for a long task (draws nothing for tasks under a second)."""
        if self.quiet:
            return lambda done, total, best=None: None
        return ProgressBar(label)


@dataclass(frozen=True)
class Flow:
    """A flow: the ``kind`` of config it runs, its config model and its ``run`` function.

    ``run(config, ctx) -> summary`` gets the validated config as plain data (the model
    dumped, defaults filled), returns a JSON-able summary (also written as
    ``summary.json``) and raises on failure; ``ok`` in the summary says whether the design
    met every check.
    """

    kind: str
    model: type[ConfigModel]
    run: Callable[[dict, RunContext], dict[str, Any]]
    description: str = ""


#: kind -> Flow
FLOWS: dict[str, Flow] = {}


def register_flow(flow: Flow) -> Flow:
    """Register ``flow`` under its ``kind``."""
    FLOWS[flow.kind] = flow
    return flow


def load_config(path: str | Path) -> tuple[str, dict, ConfigModel]:
    """Load a config file: its ``kind``, the validated data (defaults filled) and the model.

    Raises
    ------
    ConfigError
        Unreadable or malformed file, unknown kind, or any schema violation (all of them).
    """
    data = load_yaml(path)
    kind = data.get("kind")
    allowed = ", ".join(sorted(FLOWS))
    if kind is None:
        raise ConfigError(f"required key 'kind' is missing; allowed kinds: {allowed}",
                          file=path, key_path="kind")
    if not isinstance(kind, str) or kind not in FLOWS:
        shown = repr(kind) if isinstance(kind, str) else f"{kind!r} (a {type(kind).__name__})"
        raise ConfigError(f"must be one of {allowed}, not {shown}", file=path, key_path="kind")
    model = validate(FLOWS[kind].model, data, file=path)
    return kind, model.model_dump(mode="python"), model
