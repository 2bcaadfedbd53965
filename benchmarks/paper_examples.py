"""The founding paper's applications side by side: each method's metric per budget with a
95 % confidence interval over seeds, the evaluations it used, and the gap to the exact
optimum on a small instance.

Sections (``--app``, default both): ``receiver`` (per-antenna ADC bits of a multi-antenna
uplink, from ``configs/receiver/mimo_adc.yaml``) and ``gd`` (bits per step of quantized
gradient descent, from ``configs/gd/``). Each section lives in its own functions below.

Usage: ``python benchmarks/paper_examples.py [--app receiver] [--app gd] [--seeds 10]
[--workers 2] [--cases gd_least_squares ...]``
"""

from __future__ import annotations

import argparse
import copy
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# -- receiver ------------------------------------------------------------------------------

def receiver_config(path: Path, seeds: int, max_evals: int | None, mc: bool) -> dict:
    """The receiver config with the benchmark's seed count (Monte Carlo off by default:
    the metric is the AQNM sum rate the methods optimize)."""
    from bitsmith.flows import load_config

    _, cfg, _ = load_config(path)
    cfg = copy.deepcopy(cfg)
    cfg["search"]["n_seeds"] = seeds
    if max_evals is not None:
        cfg["search"]["max_evaluations"] = max_evals
    cfg["monte_carlo"]["enabled"] = mc
    cfg["small_instance"]["enabled"] = True
    return cfg


def receiver_pieces(cfg: dict, workers: int) -> list[dict]:
    """Every (seed, budget) piece, on a process pool when ``workers`` > 1 (same results)."""
    from bitsmith.flows.receiver import run_piece

    nb, ns = len(cfg["budget"]["values"]), cfg["search"]["n_seeds"]
    args = [(s, j) for s in range(ns) for j in range(nb)]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            return list(pool.map(run_piece, [cfg] * len(args), *zip(*args, strict=True)))
    return [run_piece(cfg, s, j) for s, j in args]


def _ci(st, d=4) -> str:
    if st["mean"] is None:
        return "--"
    if st["lo"] is None:
        return f"{st['mean']:.{d}g}"
    return f"{st['mean']:.{d}g} +- {(st['hi'] - st['lo']) / 2:.{d - 2}g}"


def receiver_report(cfg: dict, pieces: list[dict]) -> str:
    """The receiver tables: per budget, each method's sum rate (95 % CI over seeds),
    evaluations, infeasible evaluations, paired differences, small-instance gaps."""
    from bitsmith.flows.receiver import make_spec, summarize
    from bitsmith.hwmodels import receiver as hwr

    spec = make_spec(cfg)
    res = summarize(cfg, pieces)
    ns = cfg["search"]["n_seeds"]
    sm = cfg["small_instance"]
    out = [f"receiver: Nr={spec.n_rx} K={spec.n_users} {cfg['system']['modulation']} "
           f"{cfg['system']['channel']}, design SNR {cfg['system']['design_snr_db']:g} dB, "
           f"{ns} seeds, PSO cap {cfg['search']['max_evaluations']} evaluations; "
           f"metric: AQNM sum rate (bit/s/Hz), mean +- 95 % CI half-width; small instance "
           f"Nr={sm['n_rx']} K={sm['n_users']}: gap = rate loss - exact optimum's; "
           f"feas. = seeds with a feasible answer (the mean is over those)"]
    for r in res["budgets"]:
        v, u = hwr.cost_to_display(spec, r["budget"])
        out.append(f"\nbudget {r['budget_value']:g} {cfg['budget']['unit']} = {v:.4g} {u}"
                   f"  (unquantized {_ci(r['unquantized_rate'])})")
        out.append(f"  {'method':<8} {'sum rate':>18} {'feas.':>6} {'evals':>14} {'infeas.':>8} "
                   f"{'small gap':>18} {'max gap':>8} {'exact':>6} {'evals':>12}")
        for m, st in r["methods"].items():
            mg = "--" if st.get("small_gap_max") is None else f"{st['small_gap_max']:.3g}"
            feas = f"{st['n_feasible_answers']}/{st['n_seeds']}"
            out.append(f"  {m:<8} {_ci(st['sum_rate']):>18} {feas:>6} {_ci(st['n_evals']):>14} "
                       f"{_ci(st['n_infeasible'], 3):>8} {_ci(st['small_gap'], 3):>18} {mg:>8} "
                       f"{st['small_exact_hits']:>3}/{st['n_seeds']:<2} "
                       f"{_ci(st['small_n_evals']):>12}")
        out.append(f"  exhaustive optimum (small): {_ci(r['small_optimum_evals'])} evaluations")
        for pair, st in r["paired"].items():
            a, b = pair.split("-")
            if st["lo"] is not None and st["lo"] > 0:
                verdict = f"{a} better than {b} beyond the CI"
            elif st["hi"] is not None and st["hi"] < 0:
                verdict = f"{a} WORSE than {b} beyond the CI"
            else:
                verdict = "not separated by the CI"
            out.append(f"  paired {pair:<14} {_ci(st):>18}  ({verdict})")
    return "\n".join(out)


def receiver_section(args) -> None:
    """Run and print the receiver section."""
    cfg = receiver_config(Path(args.receiver_config), args.seeds, args.max_evals, args.mc)
    t0 = time.perf_counter()
    pieces = receiver_pieces(cfg, args.workers)
    print(receiver_report(cfg, pieces))
    print(f"\n(receiver section: {time.perf_counter() - t0:.1f} s wall)")


# -- quantized gradient descent ----------------------------------------------------------
# Bits per step under a total-bits budget. For each case (least squares and logistic
# regression from configs/gd/, and a small least-squares instance whose exact optimum is
# found by enumeration) and each budget, every method's relative optimality gap
# (f(w_T) - f*) / (f(w_0) - f*) on fresh test draws is summarized over --seeds seeds (>= 10)
# as a geometric mean with a 95 % t-interval of log10, with the evaluations each method
# used and, on the small instance, each method's gap to the exact optimum of the search
# objective. GC-PSO and PPSO get the same evaluation cap.

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
    from bitsmith.flows import load_config

    path, over = GD_CASES[case]
    _, cfg, _ = load_config(path)
    return {**cfg, "allocation": {**cfg["allocation"], **over},
            "evaluation": {**cfg["evaluation"], "n_seeds": int(n_seeds)}}


def run_gd_case(case: str, n_seeds: int = 10, seed: int = 0) -> dict:
    """Every (seed, budget) piece of a case in-process; the summary rows and the wall time."""
    from bitsmith.flows.gd import solve_piece, summarize

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


def gd_section(args) -> None:
    """Run and print the gradient-descent section."""
    for case in args.cases:
        res = run_gd_case(case, args.seeds, args.seed)
        print(gd_table(case, res))
        for line in gd_verdicts(res):
            print("- " + line)
        print()


SECTIONS = {"receiver": receiver_section, "gd": gd_section}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--app", choices=sorted(SECTIONS), action="append",
                    help="application section(s) to run (default: all)")
    ap.add_argument("--seeds", type=int, default=10, help="seeds per budget (>= 10 for the "
                    "issue's intervals)")
    ap.add_argument("--workers", type=int, default=1, help="process pool size")
    ap.add_argument("--max-evals", type=int, default=None, help="override the PSO cap")
    ap.add_argument("--mc", action="store_true", help="receiver: also Monte Carlo BER")
    ap.add_argument("--receiver-config", default=str(ROOT / "configs/receiver/mimo_adc.yaml"))
    ap.add_argument("--seed", type=int, default=0, help="gd: base seed")
    ap.add_argument("--cases", nargs="+", choices=sorted(GD_CASES), default=list(GD_CASES),
                    help="gd: cases to run (default: all)")
    args = ap.parse_args(argv)
    for app in args.app or sorted(SECTIONS):
        SECTIONS[app](args)


if __name__ == "__main__":
    main()
