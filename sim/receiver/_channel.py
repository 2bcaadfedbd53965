"""Channels and symbol mappings (torch; any device)."""

from __future__ import annotations

import math

import numpy as np


def torch_device():
    """``cuda`` when a GPU is available, else ``cpu``."""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_int(*key: int) -> int:
    """A 63-bit seed derived from a key sequence (e.g. run seed, piece, batch)."""
    state = np.random.SeedSequence([int(k) for k in key]).generate_state(2, np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & (2**63 - 1)


def generator(device, *key: int):
    """A torch Generator on ``device`` seeded from ``key``."""
    import torch

    g = torch.Generator(device=device)
    g.manual_seed(seed_int(*key))
    return g


def correlation_sqrt(n_rx: int, r: float) -> np.ndarray:
    """Lower Cholesky factor of the exponential correlation matrix R_ij = r**|i - j|."""
    i = np.arange(n_rx)
    R = r ** np.abs(i[:, None] - i[None, :]).astype(np.float64)
    return np.linalg.cholesky(R)


def draw_channels(spec, n: int, gen, device, dtype=None):
    """``n`` channel matrices H (n, Nr, K), complex, E|h_ij|**2 = 1.

    Rayleigh: i.i.d. CN(0, 1). ``exp_corr``: H = L G with L the Cholesky factor of the
    receive correlation r**|i-j| (users see the same antenna correlation).
    """
    import torch

    dtype = dtype or torch.complex128
    real = torch.float64 if dtype == torch.complex128 else torch.float32
    shape = (n, spec.n_rx, spec.n_users)
    G = torch.complex(torch.randn(shape, generator=gen, device=device, dtype=real),
                      torch.randn(shape, generator=gen, device=device, dtype=real))
    G = G / math.sqrt(2.0)
    if spec.channel == "exp_corr":
        L = torch.as_tensor(correlation_sqrt(spec.n_rx, spec.correlation), device=device)
        G = L.to(dtype) @ G
    return G


def draw_channels_numpy(spec, n: int, rng: np.random.Generator) -> np.ndarray:
    """Same channel law as :func:`draw_channels`, drawn with numpy (n, Nr, K) complex128."""
    shape = (n, spec.n_rx, spec.n_users)
    G = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / math.sqrt(2.0)
    if spec.channel == "exp_corr":
        G = correlation_sqrt(spec.n_rx, spec.correlation) @ G
    return G


# -- modulation ----------------------------------------------------------------------------

#: Gray-coded per-dimension levels: 1 bit -> +-1; 2 bits (b0 b1) -> 00:-3 01:-1 11:+1 10:+3.
_PAM4 = np.array([-3.0, -1.0, 3.0, 1.0])  # index b0*2 + b1


def modulate(bits, modulation: str):
    """Map bits (..., K, T, bps) of 0/1 to unit-energy symbols (..., K, T), Gray coded."""
    import torch

    b = bits.to(torch.float64 if bits.device.type == "cpu" else torch.float32)
    if modulation == "qpsk":
        re, im = 1 - 2 * b[..., 0], 1 - 2 * b[..., 1]
        return torch.complex(re, im) / math.sqrt(2.0)
    lv = torch.as_tensor(_PAM4, dtype=b.dtype, device=b.device)
    re = lv[(2 * b[..., 0] + b[..., 1]).long()]
    im = lv[(2 * b[..., 2] + b[..., 3]).long()]
    return torch.complex(re, im) / math.sqrt(10.0)


def demodulate(s, modulation: str):
    """Hard Gray decisions of (unbiased) symbol estimates (..., K, T) -> bits (..., K, T, bps)."""
    import torch

    if modulation == "qpsk":
        return torch.stack([(s.real < 0), (s.imag < 0)], dim=-1).to(torch.uint8)
    x, y = s.real * math.sqrt(10.0), s.imag * math.sqrt(10.0)
    return torch.stack([(x > 0), (x.abs() < 2), (y > 0), (y.abs() < 2)], dim=-1).to(torch.uint8)
