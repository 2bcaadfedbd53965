"""The founding paper's gradient-descent example: bits per step under a total-bits budget.

For each case (least squares and logistic regression from ``configs/gd/``, and a small
least-squares instance whose exact optimum is found by enumeration) and each budget, every
method's relative optimality gap (f(w_T) - f*) / (f(w_0) - f*) on fresh test draws is
summarized over ``--seeds`` seeds (>= 10) as a geometric mean with a 95 % t-interval of
log10, with the evaluations each method used and, on the small instance, each method's gap
to the exact optimum of the search objective. GC-PSO and PPSO get the same evaluation cap.

Usage: ``python benchmarks/paper_examples_gd.py [--seeds 10] [--seed 0] [--cases ...]``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bitsmith.flows import load_config
from bitsmith.flows.gd import solve_piece, summarize

ROOT = Path(__file__).resolve().parents[1]

#: case name -> (config file, allocation overrides)
GD_CASES = {
    "gd_least_squares": (ROOT / "configs/gd/least_squares.yaml", {}),
    # both swarms from random starts (no particle at the best schedule): where the penalty
    # and the repair differ most
    "gd_least_squares_unseeded": (ROOT / "configs/gd/least_squares.yaml",
                                  {"seed_swarms": False}),
    "gd_logistic": (ROOT / "configs/gd/logistic.yaml", {}),
    "gd_small_exact": (ROOT / "configs/gd/least_squares_small.yaml", {}),
}


def gd_config(case: str, n_seeds: int) -> dict:
    """The validated config of a case with ``n_seeds`` seeds."""
    path, over = GD_CASES[case]
    _, cfg, _ = load_config(path)
    return {**cfg, "allocation": {**cfg["allocation"], **over},
            "evaluation": {**cfg["evaluation"], "n_seeds": int(n_seeds)}}


def run_gd_case(case: str, n_seeds: int = 10, seed: int = 0) -> dict:
    """Every (seed, budget) piece of a case in-process; the summary rows and the wall time."""
    cfg = gd_config(case, n_seeds)
    t0 = time.perf_counter()
    pieces = {(s, j): solve_piece(cfg, seed, s, j)
              for s in range(n_seeds) for j in range(len(cfg["allocation"]["budgets"]))}
    return {"config": cfg, "rows": summarize(cfg, pieces)["rows"],
            "wall_s": time.perf_counter() - t0}


def gd_table(case: str, result: dict) -> str:
    """A Markdown table of one case: per budget and method, gap with its CI, evaluations,
    infeasible evaluations, paired difference to constant bits and the gap to exact."""
    rows = result["rows"]
    exact = any("gap_to_exact_mean" in r for r in rows)
    head = ["budget (bits)", "method", "gap (geo. mean)", "95 % CI", "log10 vs constant",
            "evaluations", "infeasible evals"] + (["gap to exact (mean / max)"] if exact else [])
    out = [f"### {case} ({result['config']['evaluation']['n_seeds']} seeds, "
           f"{result['wall_s']:.0f} s)", "", "| " + " | ".join(head) + " |",
           "|" + "---|" * len(head)]
    for r in rows:
        lo, hi = 10 ** (r["log10_gap_mean"] - r["log10_gap_ci95"]), \
            10 ** (r["log10_gap_mean"] + r["log10_gap_ci95"])
        vs = ("" if "vs_constant_log10_diff" not in r
              else f"{r['vs_constant_log10_diff']:+.2f} +- {r['vs_constant_ci95']:.2f}")
        cells = [str(r["budget"]), r["method"], f"{r['gap_geomean']:.3g}",
                 f"[{lo:.3g}, {hi:.3g}]", vs, f"{r['n_evals_mean']:.0f}",
                 f"{r['n_infeasible_mean']:.0f}"]
        if exact:
            cells.append(f"{100 * r['gap_to_exact_mean']:.3g} % / "
                         f"{100 * r['gap_to_exact_max']:.3g} %")
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def gd_verdicts(result: dict) -> list[str]:
    """GC-PSO vs PPSO (paired, equal evaluation cap) and both vs constant, per budget."""
    lines = []
    for b in result["config"]["allocation"]["budgets"]:
        by = {r["method"]: r for r in result["rows"] if r["budget"] == b}
        if "gcpso" in by and "ppso" in by:
            d, h = by["gcpso"]["vs_ppso_log10_diff"], by["gcpso"]["vs_ppso_ci95"]
            v = "better" if d + h < 0 else "worse" if d - h > 0 else "tie (within CI)"
            lines.append(f"budget {b}: gcpso - ppso log10 gap {d:+.3f} +- {h:.3f}: {v}; "
                         f"evals {by['gcpso']['n_evals_mean']:.0f} vs "
                         f"{by['ppso']['n_evals_mean']:.0f}; infeasible evals "
                         f"{by['gcpso']['n_infeasible_mean']:.0f} vs "
                         f"{by['ppso']['n_infeasible_mean']:.0f}; on the search draws "
                         f"{by['gcpso']['vs_ppso_train_log10_diff']:+.3f} +- "
                         f"{by['gcpso']['vs_ppso_train_ci95']:.3f}")
        for m in ("gcpso", "ppso"):
            if m in by and "vs_constant_log10_diff" in by[m]:
                d, h = by[m]["vs_constant_log10_diff"], by[m]["vs_constant_ci95"]
                lines.append(f"budget {b}: {m} vs constant {d:+.3f} +- {h:.3f} decades: "
                             + ("beats it beyond the CI" if d + h < 0 else "NOT beyond the CI"))
    return lines


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10, help="seeds per budget (>= 10 for the "
                    "paper table)")
    ap.add_argument("--seed", type=int, default=0, help="base seed")
    ap.add_argument("--cases", nargs="+", choices=sorted(GD_CASES), default=list(GD_CASES))
    args = ap.parse_args(argv)
    for case in args.cases:
        res = run_gd_case(case, args.seeds, args.seed)
        print(gd_table(case, res))
        for line in gd_verdicts(res):
            print("- " + line)
        print()


if __name__ == "__main__":
    main()
