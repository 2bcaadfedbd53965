"""The small MQ-Bench (sampled weight-bit configurations with their PTQ accuracy), the
proxy ranking table, and multipoint quantization at equal accelerator cost."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["load_shipped", "mqbench_data", "mqbench_section", "multipoint_eval",
           "multipoint_section", "proxy_table", "sample_configs", "ship", "shipped_dir",
           "shipped_path"]

MQ_BITS = (2, 3, 4)
_CHUNK = 50


def sample_configs(n_layers: int, n: int, seed: int) -> np.ndarray:
    """``n`` distinct weight-bit configurations from {2, 3, 4}^L (int64 (n, L))."""
    total = len(MQ_BITS) ** n_layers
    if n > total:
        raise ValueError(f"n_configs must not exceed the {total} distinct configurations of "
                         f"{n_layers} layers, not {n}")
    rng = np.random.default_rng([int(seed), 101])
    picks = np.sort(rng.choice(total, size=n, replace=False))
    digits = (picks[:, None] // len(MQ_BITS) ** np.arange(n_layers)[None, :]) % len(MQ_BITS)
    return np.asarray(MQ_BITS)[digits]


def _model(cfg: dict, seed: int):
    from ...sim.dnn import device, load_digits_split, load_or_train

    data = load_digits_split(0)
    m = cfg["model"]
    model, _ = load_or_train(m["arch"], data, seed, m["epochs"], cache_dir=m["cache_dir"])
    return model.to(device()), data


def mq_chunk(cfg: dict, seed: int, configs: list[list[int]]) -> list[float]:
    """Test accuracy (PTQ, 8-bit activations) of each weight-bit configuration (module-level:
    one task of the executor)."""
    import torch

    from ...sim.dnn import calibrate, quantize_network, quantized_accuracy
    from ...sim.fixed import Rounding

    torch.set_num_threads(1)
    model, data = _model(cfg, seed)
    q = cfg["quantization"]
    calib = calibrate(model, data.x_calib, q["act_percentile"], q["clip_search"])
    out = []
    for wb in configs:
        net = quantize_network(calib, wb, [8] * len(wb), Rounding(q["rounding"]))
        out.append(quantized_accuracy(net, data.x_test, data.y_test))
    return out


def _key(cfg: dict, seed: int, n: int) -> str:
    """Generator hash of an MQ-Bench file: everything the configurations and their accuracy
    depend on (architecture, training epochs and seed, number sampled, quantization
    settings, and the generator's format version)."""
    m, q = cfg["model"], cfg["quantization"]
    text = json.dumps({"arch": m["arch"], "epochs": m["epochs"], "seed": seed, "n": n,
                       "q": q, "v": 1}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


_GENERATOR = "scripts/make_mqbench.py (bitsmith.flows.dnn_alloc._mq.mqbench_data)"


def shipped_dir() -> Path:
    """The package data folder of the shipped MQ-Bench files (``bitsmith.sim.dnn.data``,
    next to the digits loader; installed with the package)."""
    from ...sim import dnn

    return Path(dnn.__file__).resolve().parent / "data"


def shipped_path(arch: str, seed: int) -> Path:
    """Where the shipped MQ-Bench file of ``arch`` and training seed ``seed`` lives."""
    return shipped_dir() / f"mqbench-{arch}-s{seed}.json"


def _read(path: Path, n: int, key: str | None = None) -> dict | None:
    """The document at ``path`` if it is readable, holds ``n`` configurations and (when
    ``key`` is given) records that generator hash; else None."""
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if len(doc["accuracy"]) == n == len(doc["w_bits"]) and (key is None
                                                                 or doc["key"] == key):
            return doc
    except (ValueError, KeyError, TypeError):
        pass  # corrupt: regenerate
    return None


def _write(path: Path, doc: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(doc, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)


def load_shipped(cfg: dict, seed: int) -> dict | None:
    """The shipped MQ-Bench document for this config and seed, or None when none ships or
    its recorded generator hash differs from this config's (then it must be regenerated)."""
    n = cfg["mqbench"]["n_configs"]
    return _read(shipped_path(cfg["model"]["arch"], seed), n, _key(cfg, seed, n))


def ship(cfg: dict, seed: int, doc: dict) -> bool:
    """Write ``doc`` as the shipped file unless one with the same generator hash is there
    already; returns whether it wrote."""
    if load_shipped(cfg, seed) is not None:
        return False
    n = cfg["mqbench"]["n_configs"]
    if doc.get("key") != _key(cfg, seed, n) or len(doc["accuracy"]) != n:
        raise ValueError("the document does not belong to this config and seed (generator "
                         f"hash {doc.get('key')!r}, expected {_key(cfg, seed, n)!r})")
    doc = {"generator": _GENERATOR, **doc}
    _write(shipped_path(cfg["model"]["arch"], seed), doc)
    return True


def mqbench_data(cfg: dict, seed: int, mapper, cache_dir=None, progress=None,
                 use_shipped: bool = True) -> dict:
    """Configurations and accuracies: from the cache file, else from the shipped file when
    its generator hash matches, else evaluated now through ``mapper(fn, *iterables)``
    (``RunContext.map``, an executor's ``map``) and cached."""
    from ...sim.dnn import weight_layers

    if cache_dir is None:
        from ..._output import cache_root

        cache_dir = cache_root() / "dnn"
    n = cfg["mqbench"]["n_configs"]
    key = _key(cfg, seed, n)
    path = Path(cache_dir) / f"mqbench-{cfg['model']['arch']}-s{seed}-{key}.json"
    doc = _read(path, n)
    if doc is None and use_shipped:
        doc = load_shipped(cfg, seed)
    if doc is not None:
        return doc
    model, _ = _model(cfg, seed)  # trains (and caches) before the workers load it
    L = len(weight_layers(model))
    configs = sample_configs(L, n, seed).tolist()
    chunks = [configs[i:i + _CHUNK] for i in range(0, n, _CHUNK)]
    parts = mapper(mq_chunk, [cfg] * len(chunks), [seed] * len(chunks), chunks)
    acc = [a for p in parts for a in p]
    doc = {"arch": cfg["model"]["arch"], "seed": seed, "w_bits": configs, "a_bits": 8,
           "accuracy": acc, "split": "test", "key": key,
           "generator": _GENERATOR}
    _write(path, doc)
    return doc


def proxy_table(cfg: dict, seed: int, doc: dict, run_seed: int = 0) -> dict[str, Any]:
    """Spearman@20/50/100 % on held-out configurations for every proxy and the evolved one."""
    import torch

    from ...sim.dnn import (
        calibrate,
        evolve_proxy,
        hawq_omega,
        hutchinson_traces,
        layer_tensors,
        mpqco_omega,
        program_str,
        program_values,
        proxies,
        score_configs,
        spearman_at,
    )

    torch.set_num_threads(1)
    model, data = _model(cfg, seed)
    q = cfg["quantization"]
    calib = calibrate(model, data.x_calib, q["act_percentile"], q["clip_search"])
    sc = cfg["sensitivity"]
    tr = hutchinson_traces(model, data.x_calib, data.y_calib, min_probes=sc["min_probes"],
                           max_probes=sc["max_probes"], rel_tol=sc["rel_tol"],
                           confidence=sc["confidence"], seed=run_seed)
    W = np.asarray(doc["w_bits"])
    acc = np.asarray(doc["accuracy"])
    rng = np.random.default_rng([int(run_seed), 7])
    perm = rng.permutation(len(acc))
    n_fit = int(round(cfg["mqbench"]["fit_fraction"] * len(acc)))
    fit, held = perm[:n_fit], perm[n_fit:]
    stats = proxies(calib, data.x_calib, data.y_calib, tr)
    scores = {k: score_configs(v, W) for k, v in stats.items()}
    bits = list(MQ_BITS)
    om_h = hawq_omega(calib, tr, bits)
    om_m, _ = mpqco_omega(calib, data.x_calib, data.y_calib, bits, [8])
    idx = W - MQ_BITS[0]
    ar = np.arange(W.shape[1])
    scores["hawq_omega"] = -om_h[ar, idx].sum(axis=1)
    scores["mpqco_omega"] = -om_m[ar, idx].sum(axis=1)
    tensors = layer_tensors(model, data.x_calib[:64], data.y_calib[:64], traces_seed=run_seed)
    seeds = [("reduce", "sum", ("un", "abs", ("bin", "mul", ("leaf", "G"), ("leaf", "W")))),
             ("reduce", "sum", ("leaf", "H")),
             ("reduce", "sum", ("un", "pow2", ("leaf", "W")))]
    best, info = evolve_proxy(tensors, W[fit], acc[fit],
                              generations=cfg["mqbench"]["generations"], seed=run_seed,
                              seeds=seeds)
    scores["evolved"] = score_configs(program_values(best, tensors), W)
    table = {k: [spearman_at(s[held], acc[held], f) for f in (0.2, 0.5, 1.0)]
             for k, s in scores.items()}
    return {"n_configs": len(acc), "n_fit": int(n_fit), "n_heldout": int(len(held)),
            "acc_min": float(acc.min()), "acc_max": float(acc.max()),
            "spearman": {k: [round(float(v), 6) for v in vals] for k, vals in table.items()},
            "evolved_program": program_str(best), "evolved_fit_spearman": info["fitness"],
            "evolved_invalid_rejected": info["n_invalid"],
            "evolved_programs_scored": info["n_scored"]}


def mqbench_section(cfg: dict, ctx, seed: int) -> dict[str, Any]:
    """MQ-Bench data (cached, evaluated through ``ctx.map``) and the proxy table."""
    doc = mqbench_data(cfg, seed, ctx.map)
    return proxy_table(cfg, seed, doc, ctx.seed)


# -- multipoint --------------------------------------------------------------------------

def multipoint_eval(model, data, layers, accel, bits: int, budget: float,
                    metric: str = "energy_uj", a_bits: int = 8, max_points: int = 4):
    """Multipoint quantization of every layer at ``bits`` with extra points up to a total
    accelerator cost of ``budget`` (``metric``'s unit), and its PTQ test accuracy.

    Accuracy is that of the bit-true multipoint datapath
    (:func:`bitsmith.sim.dnn.quantize_multipoint`: one ``bits``-bit dot product per point,
    a 12-bit integer scale-and-accumulate, int32 accumulators, ``a_bits`` activations), run
    by the fake-quant path, which agrees with the integer path on every integer value.
    """
    import copy
    import dataclasses

    import torch

    from ...hwmodels.dnn import layer_costs
    from ...sim.dnn import (
        calibrate,
        channel_gradients,
        multipoint_allocate,
        quantize_multipoint,
        quantized_accuracy,
        weight_layers,
    )

    wl = weight_layers(model)
    if any(getattr(m, "groups", 1) != 1 for _, m in wl):
        raise ValueError("multipoint quantization needs groups == 1 convolutions")

    def cost(points):
        ls = [dataclasses.replace(la, out_channels=int(p)) for la, p in
              zip(layers, points, strict=True)]
        n = len(ls)
        return float(layer_costs(ls, accel, np.full(n, bits), np.full(n, a_bits))[metric].sum())

    cout = [la.out_channels for la in layers]
    base = cost(cout)
    per_point = np.array([
        (cost([2 * c if k == j else c for k, c in enumerate(cout)]) - base) / cout[j]
        for j in range(len(cout))])
    u = channel_gradients(model, data.x_calib, data.y_calib)
    w = [m.weight.detach().double().cpu().numpy() for _, m in wl]
    # The per-point costs are a linear estimate (the accelerator's tiling is not linear in
    # the channel count): shrink the extra-point allowance by the overshoot until the true
    # cost fits the budget (a few rounds; the last one is the one-point-per-channel base).
    extra = max(budget - base, 0.0)
    for _ in range(8):
        mp, _ = multipoint_allocate(w, bits, u, per_point, extra, max_points)
        points = [int(m.points.sum()) for m in mp]
        over = cost(points) - budget
        if over <= 0 or extra == 0.0:
            break
        extra = max(extra - over - 1e-9 * abs(budget), 0.0)
    m2 = copy.deepcopy(model)
    with torch.no_grad():
        for (_, mod), layer in zip(weight_layers(m2), mp, strict=True):
            mod.weight.copy_(torch.as_tensor(layer.weight, dtype=mod.weight.dtype))
    calib = calibrate(m2, data.x_calib)
    n = len(wl)
    acc = quantized_accuracy(quantize_multipoint(calib, mp, [a_bits] * n),
                             data.x_test, data.y_test)
    return {"accuracy": acc, "cost": cost(points), "base_cost": base, "points": points,
            "channels": cout, "bits": bits}


def multipoint_section(cfg: dict, per_seed: list[dict], seeds) -> dict[str, Any]:
    """Multipoint vs the mixed-precision allocations at equal accelerator energy: for every
    sweep point of the first seeds' ilp allocations, multipoint at ``multipoint.bits`` with
    extra points up to the same energy."""
    import torch

    from ...hwmodels.dnn import load_accelerator, trace_model

    torch.set_num_threads(1)
    accel = load_accelerator(cfg["allocation"]["accelerator"])
    rows = []
    for s in per_seed:
        model, data = _model(cfg, s["seed"])
        layers = trace_model(model, torch.zeros((1, 1, 8, 8),
                                                device=next(model.parameters()).device))
        for r in s["results"]:
            if r.get("method") != "ilp" or "skipped" in r:
                continue
            mp = multipoint_eval(model, data, layers, accel, cfg["multipoint"]["bits"],
                                 r["costs"]["energy_uj"])
            rows.append({"seed": s["seed"], "budget_index": r["budget_index"],
                         "energy_uj": r["costs"]["energy_uj"], "ilp_accuracy": r["accuracy"],
                         "multipoint_accuracy": mp["accuracy"],
                         "multipoint_energy_uj": mp["cost"], "points": mp["points"]})
    lines = ["| seed | sweep point | energy (uJ) | ilp accuracy (%) | multipoint accuracy (%) "
             "| multipoint energy (uJ) | points per layer |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['seed']} | {r['budget_index']} | {r['energy_uj']:.4g} | "
                     f"{100 * r['ilp_accuracy']:.2f} | {100 * r['multipoint_accuracy']:.2f} | "
                     f"{r['multipoint_energy_uj']:.4g} | {r['points']} |")
    return {"rows": rows, "markdown": "\n".join(lines) + "\n"}
