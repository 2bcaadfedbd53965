"""Report pieces shared by the flows: plots (PNG, matplotlib Agg) and Markdown tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plot_convergence", "markdown_table", "figure", "save"]


def figure(*args: Any, **kwargs: Any):
    """A new matplotlib figure on the non-interactive Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt.subplots(*args, **kwargs)


def save(fig, path: str | Path) -> None:
    """Save ``fig`` as PNG with fixed metadata (no timestamps: same run, same bytes)."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


def plot_convergence(results: Mapping[str, Any], path: str | Path,
                     optimum: float | None = None, ylabel: str = "best feasible error") -> None:
    """Best feasible objective against the number of evaluations, one line per method.

    Parameters
    ----------
    results : mapping of method name -> SearchResult
        Each result's ``history`` holds ``n_evals`` and ``best_error`` arrays.
    path : path
        PNG to write.
    optimum : float, optional
        Exact optimum, drawn as a dashed line.
    """
    fig, ax = figure(figsize=(6.4, 4.0))
    for name, res in results.items():
        h = res.history
        ev, best = np.asarray(h["n_evals"], float), np.asarray(h["best_error"], float)
        ok = np.isfinite(best)
        if ok.any():
            ax.step(ev[ok], best[ok], where="post", label=name)
    if optimum is not None:
        ax.axhline(optimum, ls="--", color="k", lw=1, label="exact optimum")
    ax.set_xlabel("evaluations")
    ax.set_ylabel(ylabel)
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    save(fig, path)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub Markdown table; floats are printed with 4 significant digits."""

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)

    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(out) + "\n"
