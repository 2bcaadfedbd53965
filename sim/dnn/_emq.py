"""EMQ-style evolved training-free proxies (ALGORITHMS.md section 5) and their ranking
quality on sampled bit configurations.

A program maps each layer's tensors (weights ``W``, gradient ``G``, Hessian diagonal ``H``,
input activations ``A``) through unary and binary element-wise operations to one number
per layer, ``s_l = reduce(expr)``; a bit configuration scores ``sum_l b_l * s_l``. Invalid
programs (operand sizes that differ, NaN / inf, the same statistic for every layer) are
rejected before they are scored.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["UNARY", "BINARY", "REDUCE", "evolve_proxy", "program_str", "program_values",
           "spearman_at", "score_configs"]

_EPS = 1e-12
UNARY = {
    "abs": np.abs,
    "log": lambda x: np.log(np.abs(x) + _EPS),
    "sqrt": lambda x: np.sqrt(np.abs(x)),
    "pow2": np.square,
    "neg": np.negative,
    "normalize": lambda x: (x - x.mean()) / (x.std() + _EPS),
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-np.clip(x, -50, 50))),
}
BINARY = {"add": np.add, "mul": np.multiply, "sub": np.subtract}
REDUCE = {"sum": np.sum, "mean": np.mean, "l2": lambda x: np.sqrt(np.sum(x * x)),
          "max": np.max}
LEAVES = ("W", "G", "H", "A")


class InvalidProgram(ValueError):
    """A program that cannot be evaluated meaningfully."""


def program_str(p) -> str:
    """Readable form: ``sum(mul(abs(W), G))``."""
    if p[0] == "leaf":
        return p[1]
    if p[0] == "un":
        return f"{p[1]}({program_str(p[2])})"
    if p[0] == "bin":
        return f"{p[1]}({program_str(p[2])}, {program_str(p[3])})"
    return f"{p[1]}({program_str(p[2])})"


def _eval(p, t: dict):
    if p[0] == "leaf":
        return t[p[1]]
    if p[0] == "un":
        return UNARY[p[1]](_eval(p[2], t))
    a, b = _eval(p[2], t), _eval(p[3], t)
    if a.shape != b.shape:
        raise InvalidProgram(f"{p[1]} of tensors of sizes {a.size} and {b.size}")
    return BINARY[p[1]](a, b)


def program_values(p, tensors: Sequence[dict]) -> np.ndarray:
    """Per-layer statistic of program ``p`` (a ``("reduce", op, expr)`` tree), (L,).

    Raises
    ------
    InvalidProgram
        Mismatched operand sizes, non-finite values, or a statistic constant over layers.
    """
    with np.errstate(all="ignore"):
        s = np.array([float(REDUCE[p[1]](_eval(p[2], t))) for t in tensors])
    if not np.all(np.isfinite(s)):
        raise InvalidProgram("non-finite statistic")
    if np.ptp(s) <= 1e-12 * max(np.abs(s).max(), 1e-300):
        raise InvalidProgram("the same statistic for every layer")
    return s


def score_configs(stat: np.ndarray, w_bits: np.ndarray) -> np.ndarray:
    """``sum_l b_l * s_l`` for every configuration (rows of ``w_bits``)."""
    return np.asarray(w_bits, dtype=float) @ np.asarray(stat, dtype=float)


def spearman_at(score: np.ndarray, acc: np.ndarray, k: float) -> float:
    """Spearman correlation between score and accuracy over the top ``k`` fraction of
    configurations by score (k = 0.2, 0.5, 1.0). NaN when the scores are constant."""
    score, acc = np.asarray(score, float), np.asarray(acc, float)
    n = max(3, int(round(k * len(score))))
    top = np.argsort(-score, kind="stable")[:n]
    if np.ptp(score[top]) == 0 or np.ptp(acc[top]) == 0:
        return float("nan")
    from scipy import stats

    return float(stats.spearmanr(score[top], acc[top]).statistic)


def _random_expr(rng, depth):
    r = rng.random()
    if depth == 0 or r < 0.3:
        return ("leaf", LEAVES[rng.integers(len(LEAVES))])
    if r < 0.7:
        return ("un", list(UNARY)[rng.integers(len(UNARY))], _random_expr(rng, depth - 1))
    return ("bin", list(BINARY)[rng.integers(len(BINARY))], _random_expr(rng, depth - 1),
            _random_expr(rng, depth - 1))


def _random_program(rng, depth=3):
    return ("reduce", list(REDUCE)[rng.integers(len(REDUCE))], _random_expr(rng, depth))


def _subtrees(e, path=()):
    yield path, e
    if e[0] == "un":
        yield from _subtrees(e[2], (*path, 2))
    elif e[0] == "bin":
        yield from _subtrees(e[2], (*path, 2))
        yield from _subtrees(e[3], (*path, 3))


def _replace(e, path, new):
    if not path:
        return new
    lst = list(e)
    lst[path[0]] = _replace(e[path[0]], path[1:], new)
    return tuple(lst)


def _depth(e):
    if e[0] == "leaf":
        return 0
    return 1 + max(_depth(c) for c in e[2:])


def _mutate(p, rng, other=None, max_depth=4):
    expr = p[2]
    subs = list(_subtrees(expr))
    path, _ = subs[rng.integers(len(subs))]
    r = rng.random()
    if other is not None and r < 0.4:  # crossover: graft a subtree of the other parent
        osubs = list(_subtrees(other[2]))
        new = osubs[rng.integers(len(osubs))][1]
    elif r < 0.7:
        new = _random_expr(rng, 2)
    else:
        return ("reduce", list(REDUCE)[rng.integers(len(REDUCE))], expr)
    e2 = _replace(expr, path, new)
    if _depth(e2) > max_depth:
        return p
    return ("reduce", p[1], e2)


def evolve_proxy(tensors: Sequence[dict], w_bits: np.ndarray, acc: np.ndarray, *,
                 generations: int = 60, pop_size: int = 40, seed: int = 0,
                 seeds: Sequence = ()):
    """Evolve a proxy program maximizing Spearman(score, accuracy) on the given configs.

    Parameters
    ----------
    tensors : sequence of dict
        Per layer ``W``, ``G``, ``H``, ``A`` (:func:`layer_tensors`).
    w_bits : numpy.ndarray (n_configs, L)
        Weight bits of the fitting configurations.
    acc : numpy.ndarray (n_configs,)
        Their accuracy.
    generations, pop_size : int
    seed : int
        Seed of ``numpy.random.default_rng``.
    seeds : sequence of programs
        Programs put into the first population (e.g. the hand-made proxies).

    Returns
    -------
    best : tuple
        The program.
    info : dict
        ``fitness`` (Spearman@100 % on the fitting configs), ``n_invalid``, ``n_scored``.
    """
    rng = np.random.default_rng(seed)
    cache: dict[str, float] = {}
    n_invalid = 0

    def fitness(p):
        nonlocal n_invalid
        key = program_str(p)
        if key not in cache:
            try:
                s = program_values(p, tensors)
                f = spearman_at(score_configs(s, w_bits), acc, 1.0)
                cache[key] = -np.inf if not np.isfinite(f) else f
            except InvalidProgram:
                n_invalid += 1
                cache[key] = -np.inf
        return cache[key]

    pop = list(seeds)
    while len(pop) < pop_size:
        pop.append(_random_program(rng))
    fit = [fitness(p) for p in pop]
    for _ in range(generations):
        children = []
        for _ in range(pop_size):
            i, j = rng.integers(len(pop), size=2)
            a = pop[i] if fit[i] >= fit[j] else pop[j]
            k, m = rng.integers(len(pop), size=2)
            b = pop[k] if fit[k] >= fit[m] else pop[m]
            children.append(_mutate(a, rng, other=b))
        allp = pop + children
        allf = fit + [fitness(c) for c in children]
        # diversity: one copy of each program text; invalid ones are dropped
        seen, keep = set(), []
        for idx in sorted(range(len(allp)), key=lambda t: -allf[t]):
            key = program_str(allp[idx])
            if key in seen or not np.isfinite(allf[idx]):
                continue
            seen.add(key)
            keep.append(idx)
            if len(keep) == pop_size:
                break
        while len(keep) < pop_size:  # too few valid programs: fresh random ones
            p = _random_program(rng)
            allp.append(p)
            allf.append(fitness(p))
            keep.append(len(allp) - 1)
        pop, fit = [allp[t] for t in keep], [allf[t] for t in keep]
    b = int(np.argmax(fit))
    return pop[b], {"fitness": float(fit[b]), "n_invalid": n_invalid, "n_scored": len(cache)}
