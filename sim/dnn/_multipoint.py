"""Multipoint quantization (ALGORITHMS.md section 3): each output channel's weights as a sum
of scaled low-bit vectors, ``w ~ sum_i a_i q_i``, with adaptive point counts.

All points of a network share one operand width ``b``: in hardware each point is one more
``b``-bit dot product (an extra output channel of the layer) followed by a
scale-and-accumulate, so a layer with ``P`` points in all costs what the same layer with
``P`` output channels costs at ``b`` bits (the scale-and-accumulate adds are not charged).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["MultipointLayer", "channel_gradients", "multipoint_allocate", "multipoint_channel"]

_RATIOS = np.linspace(0.2, 1.0, 33)


def _best_point(r: np.ndarray, bits: int):
    """(a, q) minimizing ||r - a q||^2 with q on the symmetric b-bit grid (a on a grid of
    33 clip ratios of max|r| / qmax)."""
    qm = 1 if bits == 1 else (1 << (bits - 1)) - 1
    amax = float(np.abs(r).max())
    if amax == 0:
        return 0.0, np.zeros_like(r, dtype=np.int64)
    best = (np.inf, 0.0, None)
    for t in _RATIOS:
        a = amax * t / qm
        q = np.clip(np.rint(r / a), -qm, qm) if bits > 1 else np.where(r >= 0, 1.0, -1.0)
        # the least-squares scale for this q (closed form), never worse than a itself
        den = float(q @ q)
        a2 = float(q @ r) / den if den > 0 else 0.0
        e = float(((r - a2 * q) ** 2).sum())
        if e < best[0]:
            best = (e, a2, q)
    return best[1], best[2].astype(np.int64)


def multipoint_channel(w: np.ndarray, bits: int, n_points: int):
    """Greedy multipoint approximation of one weight vector.

    Returns
    -------
    alphas : numpy.ndarray (n_points,)
        Scales (weight units).
    qs : numpy.ndarray of int64 (n_points, K)
        Integer points on the symmetric ``bits`` grid.
    """
    r = np.asarray(w, dtype=np.float64).ravel().copy()
    alphas, qs = [], []
    for _ in range(n_points):
        a, q = _best_point(r, bits)
        alphas.append(a)
        qs.append(q)
        r = r - a * q
    return np.asarray(alphas), np.asarray(qs)


@dataclass(frozen=True)
class MultipointLayer:
    """A layer's multipoint weights: points per channel, the approximated weights and the
    points themselves (``weight[c] = sum_i alphas[c, i] * qs[i, c]``; a channel with fewer
    than ``P`` points has zero scales and zero integers in the unused ones).

    Attributes
    ----------
    name : str
    points : numpy.ndarray of int (Cout,)
    weight : numpy.ndarray of float64
        The layer's weight shape: the sum of the points.
    alphas : numpy.ndarray of float64 (Cout, P)
        Point scales (weight units).
    qs : numpy.ndarray of int64 (P, *weight.shape)
        Integer points on the symmetric ``bits`` grid.
    bits : int
        Width of every point.
    """

    name: str
    points: np.ndarray
    weight: np.ndarray
    alphas: np.ndarray
    qs: np.ndarray
    bits: int


def multipoint_allocate(weights: list[np.ndarray], bits: int, u: list[np.ndarray],
                        point_cost: np.ndarray, budget: float, max_points: int = 4):
    """Adaptive points: start every channel at one point and repeatedly give one more to the
    channel with the largest (error drop) / (cost of a point) that fits the budget.

    Parameters
    ----------
    weights : list of numpy.ndarray
        Per layer, weights with output channels first.
    bits : int
        Width of every point (bits).
    u : list of numpy.ndarray
        Per layer, ``(Cout, n, K)``: per channel and calibration sample the output gradient
        contracted with the unfolded input (:func:`channel_gradients`); a channel's error
        with weight error ``dw`` is MPQCO's ``1/2 mean_n (u_n . dw)^2`` (loss units).
    point_cost : numpy.ndarray (L,)
        Accelerator cost of one more point in each layer (the budget's unit).
    budget : float
        Cost allowed for the extra points (the budget's unit).
    max_points : int
        Points per channel at most.

    Returns
    -------
    list of MultipointLayer, float
        The layers and the cost spent on extra points.
    """
    state = []
    for w, ul in zip(weights, u, strict=True):
        w2 = np.asarray(w, dtype=np.float64).reshape(len(w), -1)
        chans = []
        for c in range(len(w2)):
            a, q = multipoint_channel(w2[c], bits, max_points)
            approx = np.cumsum(a[:, None] * q, axis=0)
            err = 0.5 * ((ul[c] @ (approx - w2[c]).T) ** 2).mean(axis=0)  # 1, 2, ... points
            chans.append((approx, err, a, q))
        state.append(chans)
    n = np.array([np.ones(len(s), dtype=np.int64) for s in state], dtype=object)
    spent = 0.0
    while True:
        best, arg = 0.0, None
        for li, chans in enumerate(state):
            if spent + point_cost[li] > budget:
                continue
            for c, (_, err, _, _) in enumerate(chans):
                k = n[li][c]
                if k >= max_points:
                    continue
                gain = (err[k - 1] - err[k]) / max(point_cost[li], 1e-30)
                if gain > best:
                    best, arg = gain, (li, c)
        if arg is None:
            break
        li, c = arg
        n[li][c] += 1
        spent += float(point_cost[li])
    out = []
    for li, (w, chans) in enumerate(zip(weights, state, strict=True)):
        k = np.asarray(n[li])
        p = int(k.max())
        wt = np.stack([chans[c][0][k[c] - 1] for c in range(len(chans))])
        alphas = np.zeros((len(chans), p))
        qs = np.zeros((p, len(chans), wt.shape[1]), dtype=np.int64)
        for c, (_, _, a, q) in enumerate(chans):
            alphas[c, :k[c]] = a[:k[c]]
            qs[:k[c], c] = q[:k[c]]
        out.append(MultipointLayer(str(li), k, wt.reshape(np.shape(w)), alphas,
                                   qs.reshape((p,) + np.shape(w)), int(bits)))
    return out, spent


def channel_gradients(model, x: np.ndarray, y: np.ndarray, device=None) -> list[np.ndarray]:
    """Per weight layer ``u[c, n, :] = sum_p g_{z,n,c,p} x_{n,p,:}`` (float64, (Cout, n, K)):
    the per-sample output gradient (summed loss) contracted with the unfolded input over
    output positions, so that ``u[c, n] . dw_c`` is channel ``c``'s first-order loss change
    on sample ``n``."""
    import torch
    import torch.nn.functional as F

    from ._sensitivity import _capture

    dev = device if device is not None else next(model.parameters()).device
    wl, cap = _capture(model, x, y, dev)
    out = []
    for name, mod in wl:
        a, _, g = cap[name]
        a, g = a.double(), g.double()
        if mod.__class__.__name__ == "Conv2d":
            cols = F.unfold(a, mod.kernel_size, 1, mod.padding, mod.stride)  # (n, K, P)
            gg = g.reshape(len(g), g.shape[1], -1)                           # (n, C, P)
            u = torch.einsum("ncp,nkp->cnk", gg, cols)
        else:
            u = torch.einsum("nc,nk->cnk", g, a.reshape(len(a), -1))
        out.append(u.cpu().numpy())
    return out
