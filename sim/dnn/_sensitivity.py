"""Per-layer sensitivities of a trained network (ALGORITHMS.md sections 2 and 5).

- :func:`hutchinson_traces`: Hessian trace of every weight layer's block by Hutchinson's
  estimator. One Hessian-vector product per Rademacher probe ``v`` over all layers at once
  gives a sample ``v_l . (Hv)_l`` of every block trace; probes are added until every
  layer's confidence interval (Student t) is within ``rel_tol`` of its mean.
- :func:`mpqco_omega`: the MPQCO output-gradient form
  ``Omega_l(b) = 1/2 mean_n (g_{z,n} . dz_n(b))^2`` for weight (``dz = (Q_b(W) - W) x``) and
  input-activation (``dz = W (Q_b(x) - x)``) quantization.
- :func:`hawq_omega`: ``Tr(H_l) / n_l * ||Q_b(W_l) - W_l||^2``.
- :func:`proxies`: the training-free per-layer statistics of the EMQ family.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._quant import Calibration, weight_layers

__all__ = ["TraceEstimate", "hawq_omega", "hutchinson_traces", "layer_tensors",
           "mpqco_omega", "proxies"]


@dataclass(frozen=True)
class TraceEstimate:
    """Hutchinson estimate of each weight layer's Hessian block trace.

    Attributes
    ----------
    names : tuple of str
        Weight layers.
    mean, halfwidth, std : numpy.ndarray (L,)
        Estimate, confidence-interval half-width and sample standard deviation (loss units
        per squared weight unit).
    samples : numpy.ndarray (n_probes, L)
        Every probe's sample ``v_l . (H v)_l``.
    confidence : float
        Interval level.
    converged : bool
        Whether every interval met ``rel_tol`` before ``max_probes``.
    params : tuple of int
        Weights per layer.
    rel_tol : float
        The stop rule's relative half-width (NaN with explicit probes: no rule).
    """

    names: tuple[str, ...]
    mean: np.ndarray
    halfwidth: np.ndarray
    std: np.ndarray
    samples: np.ndarray
    confidence: float
    converged: bool
    params: tuple[int, ...]
    rel_tol: float = float("nan")

    @property
    def n_probes(self) -> int:
        """Probes used."""
        return len(self.samples)

    @property
    def relative_halfwidth(self) -> np.ndarray:
        """Half-width over |mean| per layer (inf where the mean is 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.mean != 0, self.halfwidth / np.abs(self.mean), np.inf)

    @property
    def unconverged(self) -> tuple[str, ...]:
        """Layers whose interval does not meet ``rel_tol`` (empty when converged)."""
        if not np.isfinite(self.rel_tol):
            return ()
        return tuple(n for n, r in zip(self.names, self.relative_halfwidth, strict=True)
                     if not r <= self.rel_tol)


def _interval(samples: np.ndarray, confidence: float):
    n = len(samples)
    mean = samples.mean(axis=0)
    if n < 2:
        return mean, np.full_like(mean, np.inf), np.full_like(mean, np.inf)
    std = samples.std(axis=0, ddof=1)
    from scipy import stats

    t = stats.t.ppf(0.5 + confidence / 2, n - 1)
    return mean, t * std / np.sqrt(n), std


def _loss(model, x, y, reduction="mean"):
    import torch.nn.functional as F

    return F.cross_entropy(model(x), y, reduction=reduction)


def hutchinson_traces(model, x: np.ndarray, y: np.ndarray, *, min_probes: int = 16,
                      max_probes: int = 256, rel_tol: float = 0.05, confidence: float = 0.95,
                      seed: int = 0, params: Sequence | None = None,
                      names: Sequence[str] | None = None, device=None,
                      probes: Sequence | None = None) -> TraceEstimate:
    """Per-layer Hessian traces of the mean cross-entropy on ``(x, y)``.

    Parameters
    ----------
    model : torch.nn.Module
    x, y : numpy.ndarray
        Inputs and labels (the whole set is one batch).
    min_probes, max_probes : int
        Probes drawn at least / at most.
    rel_tol : float
        Stop when every layer's half-width <= rel_tol * |mean|.
    confidence : float
        Level of the intervals (0.95).
    seed : int
        Seed of the probe generator (a local ``torch.Generator``).
    params, names : sequence, optional
        The parameter tensors (blocks) and their names; default: the weights of every
        conv2d / linear layer.
    device : torch.device, optional
    probes : sequence of sequence of tensors, optional
        Explicit probes (each a list of ±1 tensors shaped like ``params``), e.g. to share
        them with another implementation; overrides the generator and the stopping rule.
    """
    import torch

    dev = device if device is not None else next(model.parameters()).device
    if params is None:
        wl = weight_layers(model)
        params = [m.weight for _, m in wl]
        names = [n for n, _ in wl]
    params = list(params)
    names = tuple(names) if names is not None else tuple(str(i) for i in range(len(params)))
    xt = torch.as_tensor(x, device=dev)
    yt = torch.as_tensor(y, device=dev)
    loss = _loss(model, xt, yt)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    gen = torch.Generator(device=dev).manual_seed(int(seed))
    rows = []
    converged = False
    n_max = len(probes) if probes is not None else max_probes
    for k in range(n_max):
        if probes is not None:
            v = [p.to(dev) for p in probes[k]]
        else:
            v = [torch.randint(0, 2, p.shape, generator=gen, device=dev, dtype=p.dtype) * 2 - 1
                 for p in params]
        hv = torch.autograd.grad(grads, params, grad_outputs=v, retain_graph=True)
        rows.append([float((vi * hi).sum()) for vi, hi in zip(v, hv, strict=True)])
        if probes is None and k + 1 >= min_probes:
            mean, half, _ = _interval(np.asarray(rows), confidence)
            if np.all(half <= rel_tol * np.abs(mean)):
                converged = True
                break
    samples = np.asarray(rows)
    mean, half, std = _interval(samples, confidence)
    return TraceEstimate(names, mean, half, std, samples, confidence, converged,
                         tuple(int(p.numel()) for p in params),
                         float("nan") if probes is not None else float(rel_tol))


def hawq_omega(calib: Calibration, traces: TraceEstimate, w_bits: Sequence[int]) -> np.ndarray:
    """HAWQ-style ``Tr(H_l) / n_l * ||Q_b(W_l) - W_l||^2``, (L, len(w_bits)) (loss units)."""
    wl = weight_layers(calib.model)
    out = np.zeros((len(wl), len(w_bits)))
    for j, (_, m) in enumerate(wl):
        w = m.weight.detach().cpu().double().numpy()
        for k, b in enumerate(w_bits):
            q, s = calib.weight(j, int(b))
            dw = q * s.reshape((-1,) + (1,) * (w.ndim - 1)) - w
            out[j, k] = max(traces.mean[j], 0.0) / w.size * float((dw ** 2).sum())
    return out


def _layer_fn(mod):
    import torch.nn.functional as F

    if mod.__class__.__name__ == "Conv2d":
        return lambda x, w: F.conv2d(x, w, None, mod.stride, mod.padding, 1, mod.groups)
    return lambda x, w: F.linear(x, w)


def _capture(model, x, y, dev):
    """Inputs, outputs and per-sample output gradients of every weight layer."""
    import torch

    wl = weight_layers(model)
    store = {}

    def hook(name):
        def fn(mod, inp, out):
            out.retain_grad()
            store[name] = (inp[0].detach(), out)
        return fn

    hs = [m.register_forward_hook(hook(n)) for n, m in wl]
    try:
        model.zero_grad()
        xt = torch.as_tensor(x, device=dev)
        loss = _loss(model, xt, torch.as_tensor(y, device=dev), reduction="sum")
        loss.backward()
    finally:
        for h in hs:
            h.remove()
    return wl, {n: (a, z.detach(), z.grad.detach()) for n, (a, z) in store.items()}


def _act_q(x, rng: float, bits: int, signed: bool):
    import torch

    levels = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1
    s = rng / levels
    lo = -levels - 1 if signed else 0
    return torch.clamp(torch.round(x / s), lo, levels) * s


def mpqco_omega(calib: Calibration, x: np.ndarray, y: np.ndarray, w_bits: Sequence[int],
                a_bits: Sequence[int], device=None) -> tuple[np.ndarray, np.ndarray]:
    """MPQCO ``Omega_l(b)`` for weights and input activations (loss units).

    Returns
    -------
    omega_w : numpy.ndarray (L, len(w_bits))
    omega_a : numpy.ndarray (L, len(a_bits))
    """
    import torch

    model = calib.model
    dev = device if device is not None else next(model.parameters()).device
    wl, cap = _capture(model, x, y, dev)
    ow = np.zeros((len(wl), len(w_bits)))
    oa = np.zeros((len(wl), len(a_bits)))
    with torch.no_grad():
        for j, (name, mod) in enumerate(wl):
            a, _, g = cap[name]
            f = _layer_fn(mod)
            w = mod.weight.detach()
            gf = g.reshape(len(g), -1).double()
            for k, b in enumerate(w_bits):
                q, s = calib.weight(j, int(b))
                wq = torch.as_tensor(q * s.reshape((-1,) + (1,) * (q.ndim - 1)),
                                     dtype=w.dtype, device=dev)
                dz = f(a, wq - w).reshape(len(a), -1).double()
                ow[j, k] = 0.5 * float(((gf * dz).sum(1) ** 2).mean())
            for k, b in enumerate(a_bits):
                da = _act_q(a, float(calib.ranges[j]), int(b), calib.signed[j]) - a
                dz = f(da, w).reshape(len(a), -1).double()
                oa[j, k] = 0.5 * float(((gf * dz).sum(1) ** 2).mean())
    return ow, oa


def layer_tensors(model, x: np.ndarray, y: np.ndarray, traces_seed: int = 0, n_probes: int = 8,
                  device=None) -> list[dict]:
    """Per weight layer: weights ``W``, gradient ``G`` (mean loss), input activations ``A``
    and a Hutchinson Hessian-diagonal estimate ``H`` (mean of ``v * Hv``), as float64 numpy
    arrays: the inputs of the evolved proxies."""
    import torch

    dev = device if device is not None else next(model.parameters()).device
    wl = weight_layers(model)
    params = [m.weight for _, m in wl]
    acts = {}

    def keep(name):
        def fn(mod, inp, out):
            acts[name] = inp[0].detach()
        return fn

    hs = [m.register_forward_hook(keep(n)) for n, m in wl]
    try:
        loss = _loss(model, torch.as_tensor(x, device=dev), torch.as_tensor(y, device=dev))
        grads = torch.autograd.grad(loss, params, create_graph=True)
    finally:
        for h in hs:
            h.remove()
    gen = torch.Generator(device=dev).manual_seed(int(traces_seed))
    hd = [torch.zeros_like(p) for p in params]
    for _ in range(n_probes):
        v = [torch.randint(0, 2, p.shape, generator=gen, device=dev, dtype=p.dtype) * 2 - 1
             for p in params]
        hv = torch.autograd.grad(grads, params, grad_outputs=v, retain_graph=True)
        for i in range(len(params)):
            hd[i] += v[i] * hv[i] / n_probes
    return [{"W": p.detach().double().cpu().numpy().ravel(),
             "G": g.detach().double().cpu().numpy().ravel(),
             "H": h.detach().double().cpu().numpy().ravel(),
             "A": acts[n].double().cpu().numpy().ravel()}
            for (n, _), p, g, h in zip(wl, params, grads, hd, strict=True)]


def proxies(calib: Calibration, x: np.ndarray, y: np.ndarray, traces: TraceEstimate,
            device=None) -> dict[str, np.ndarray]:
    """Training-free per-layer statistics (EMQ family), each (L,), larger = more sensitive.

    ``hessian`` (block trace), ``fisher`` (1/2 sum_c mean_n (sum_spatial z g_z)^2),
    ``snip`` (sum |g w|), ``plain`` (|sum g w|), ``synflow`` (sum |w dR/dw| of the
    absolute-weight network on an all-ones input), ``ompq`` (OMPQ-style orthogonality:
    1 - mean cosine similarity of the layer's sample Gram matrix with the other layers'),
    ``params`` (weights).
    """
    import copy

    import torch

    model = calib.model
    dev = device if device is not None else next(model.parameters()).device
    wl, cap = _capture(model, x, y, dev)
    n = len(x)
    out = {k: np.zeros(len(wl)) for k in
           ("hessian", "fisher", "snip", "plain", "synflow", "ompq", "params")}
    grams = []
    for j, (name, mod) in enumerate(wl):
        a, z, g = cap[name]
        zg = (z * g).double()
        per_c = zg.sum(dim=tuple(range(2, zg.ndim))) if zg.ndim > 2 else zg
        out["fisher"][j] = 0.5 * float((per_c ** 2).mean(0).sum())
        gw = (mod.weight.grad.double() / n) * mod.weight.detach().double()  # mean-loss grad
        out["snip"][j] = float(gw.abs().sum())
        out["plain"][j] = abs(float(gw.sum()))
        out["params"][j] = mod.weight.numel()
        out["hessian"][j] = traces.mean[j]
        f = a.reshape(n, -1).double()
        gm = f @ f.T
        grams.append(gm / gm.norm().clamp_min(1e-30))
    for j in range(len(wl)):
        sims = [float((grams[j] * grams[k]).sum()) for k in range(len(wl)) if k != j]
        out["ompq"][j] = 1.0 - float(np.mean(sims)) if sims else 1.0
    sm = copy.deepcopy(model).double()
    with torch.no_grad():
        for p in sm.parameters():
            p.abs_()
    sm.zero_grad()
    ones = torch.ones((1,) + tuple(np.shape(x)[1:]), dtype=torch.float64, device=dev)
    sm(ones).sum().backward()
    for j, (_, m) in enumerate(weight_layers(sm)):
        out["synflow"][j] = float((m.weight.detach() * m.weight.grad).abs().sum())
    model.zero_grad()
    return out
