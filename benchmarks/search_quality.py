"""Search quality on random separable bit-allocation problems.

For each of ``--instances`` random problems (20-200 variables, 2-16 consecutive widths
each, error ~ a_i 4**-b, cost m_i b, budget uniform between the minimum and maximum cost),
the exact optimum comes from ``ilp`` (checked against ``mckp_dp``); every other method is
scored by its relative gap (error - optimum) / optimum. PSO methods and random search are
capped at ``--max-evals`` evaluations (40 particles, up to max_evals / 40 iterations).

Usage: ``python benchmarks/search_quality.py [--instances 50] [--seed 0]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bitsmith.search import minimize, random_separable


def configs(max_evals: int) -> dict[str, tuple[str, dict]]:
    """Benchmarked variants: label -> (method, options)."""
    swarm = {"n_particles": 40, "n_iter": max_evals // 40, "max_evals": max_evals}
    return {
        "mckp_greedy": ("mckp_greedy", {}),
        "gcpso (repair+refill)": ("gcpso", swarm),
        "gcpso (repair only)": ("gcpso", {**swarm, "refill": False}),
        "gcpso (+greedy seed)": ("gcpso", {**swarm, "seed_greedy": True}),
        "ppso": ("ppso", swarm),
        "uniform": ("uniform", {}),
        "random": ("random", {"n_evals": max_evals, "batch_size": 500}),
        "greedy (bit-by-bit)": ("greedy", {}),
    }


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=int, default=50, help="number of random problems")
    ap.add_argument("--seed", type=int, default=0, help="seed of instances and methods")
    ap.add_argument("--max-evals", type=int, default=20_000, help="evaluation cap (PSO, random)")
    args = ap.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    variants = configs(args.max_evals)
    gaps = {k: [] for k in variants}
    walls = {k: [] for k in variants}
    evals = {k: [] for k in variants}
    infeasible = dict.fromkeys(variants, 0)
    ref_wall = []
    for inst in range(args.instances):
        p = random_separable(rng, int(rng.integers(20, 201)), int(rng.integers(2, 17)))
        t0 = time.perf_counter()
        ref = minimize(p, "ilp")
        ref_wall.append(time.perf_counter() - t0)
        dp = minimize(p, "mckp_dp")
        if not np.isclose(dp.error, ref.error, rtol=1e-9, atol=0):
            raise AssertionError(f"instance {inst}: mckp_dp {dp.error} != ilp {ref.error}")
        for label, (method, opts) in variants.items():
            r = minimize(p, method, seed=args.seed + inst, **opts)
            walls[label].append(r.wall_time_s)
            evals[label].append(r.n_evals)
            if r.feasible:
                gaps[label].append((r.error - ref.error) / ref.error)
            else:
                infeasible[label] += 1

    print(f"{args.instances} instances, seed {args.seed}, exact optimum by ilp (== mckp_dp), "
          f"median ilp time {np.median(ref_wall) * 1e3:.1f} ms")
    head = (f"{'method':24s} {'median gap %':>12s} {'worst gap %':>12s} {'no feasible':>11s} "
            f"{'median ms':>10s} {'median evals':>12s} {'optimal':>8s}")
    print(head)
    print("-" * len(head))
    for label in variants:
        g = np.asarray(gaps[label]) * 100
        med = f"{np.median(g):12.4f}" if g.size else f"{'n/a':>12s}"
        worst = f"{np.max(g):12.4f}" if g.size else f"{'n/a':>12s}"
        print(f"{label:24s} {med} {worst} {infeasible[label]:11d} "
              f"{np.median(walls[label]) * 1e3:10.1f} {np.median(evals[label]):12.0f} "
              f"{int(np.sum(g <= 1e-7)):4d}/{args.instances}")


if __name__ == "__main__":
    main()
