"""What every flow shares: the registry, the run context and the progress display."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..config import Section, register_schema

__all__ = ["FLOWS", "Flow", "RunContext", "ProgressBar", "register_flow"]


class ProgressBar:
    """A text progress bar that appears only once a task has run for ``delay_s`` seconds.

    Call it as ``bar(done, total, best)`` (the signature :func:`bitsmith.search.minimize`
    uses for ``progress``). On a terminal it redraws one line; otherwise it prints a line
    at every tenth of the work so CI logs stay short.
    """

    def __init__(self, label: str, stream: TextIO | None = None, delay_s: float = 1.0,
                 width: int = 30):
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.delay_s = delay_s
        self.width = width
        self._t0 = time.perf_counter()
        self._shown = False
        self._last_decile = -1
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, done: int, total: int, best: float | None = None) -> None:
        elapsed = time.perf_counter() - self._t0
        if elapsed < self.delay_s and done < total:
            return
        if not self._shown and done >= total and elapsed < self.delay_s:
            return
        frac = done / total if total else 1.0
        filled = int(round(self.width * frac))
        best_s = "" if best is None else f"  best {best:.4g}"
        eta = (elapsed / frac - elapsed) if frac > 0 else float("nan")
        line = (f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] "
                f"{done}/{total}  {elapsed:5.1f}s  eta {eta:5.1f}s{best_s}")
        if self._tty:
            self.stream.write("\r" + line + ("\n" if done >= total else ""))
        else:
            decile = int(frac * 10)
            if decile == self._last_decile and done < total:
                return
            self._last_decile = decile
            self.stream.write(line + "\n")
        self.stream.flush()
        self._shown = True


@dataclass
class RunContext:
    """What a flow gets besides its validated config.

    Parameters
    ----------
    config_path : Path
        The configuration file (for messages).
    out_dir : Path
        Where to write results: a temporary directory renamed into place on success.
    seed : int
        Seed of every random choice of the run.
    log : callable
        ``log(message)`` prints progress messages (stderr).
    """

    config_path: Path
    out_dir: Path
    seed: int = 0
    log: Callable[[str], None] = field(default=lambda msg: print(msg, file=sys.stderr))
    quiet: bool = False

    def progress(self, label: str) -> Callable[[int, int, float | None], None]:
        """A progress callback for a long task (draws nothing for tasks under a second)."""
        if self.quiet:
            return lambda done, total, best=None: None
        return ProgressBar(label)


@dataclass(frozen=True)
class Flow:
    """A flow: the ``kind`` of config it runs, its schema and its ``run`` function.

    ``run(config, ctx) -> summary`` returns a JSON-able summary (also written as
    ``summary.json``) and raises on failure; ``ok`` in the summary says whether the
    design met every check.
    """

    kind: str
    schema: Section
    run: Callable[[dict, RunContext], dict[str, Any]]
    description: str = ""


#: kind -> Flow
FLOWS: dict[str, Flow] = {}


def register_flow(flow: Flow) -> Flow:
    """Register ``flow`` and its config schema."""
    FLOWS[flow.kind] = flow
    register_schema(flow.kind, flow.schema)
    return flow
