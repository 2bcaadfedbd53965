"""The founding paper's applications side by side: each method's metric per budget with a
95 % confidence interval over seeds, the evaluations it used, and the gap to the exact
optimum on a small instance.

Sections (``--app``): ``receiver`` (per-antenna ADC bits of a multi-antenna uplink, from
``configs/receiver/mimo_adc.yaml``). Each section lives in its own functions below so that
further applications (``gd``) slot in beside it.

Usage: ``python benchmarks/paper_examples.py --app receiver [--seeds 10] [--workers 2]``
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


SECTIONS = {"receiver": receiver_section}


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
    args = ap.parse_args(argv)
    for app in args.app or sorted(SECTIONS):
        SECTIONS[app](args)


if __name__ == "__main__":
    main()
