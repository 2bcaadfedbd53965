"""Quantized observation and linear detectors (ZF, LMMSE, Bussgang-aware LMMSE), torch.

Shapes: H (C, Nr, K) channels, y and q (C, Nr, T) observations, estimates (C, K, T).
Symbol energy Es = 1; noise CN(0, N0) per antenna, N0 = 10**(-SNR/10).
"""

from __future__ import annotations

import numpy as np

from ._quantizer import quantize_real, quantizer_stats, quantizer_tables

DETECTORS = ("zf", "lmmse", "bussgang")


def adc(y, H, n0: float, bits, kind: str):
    """Per-antenna AGC + b_i-bit ADC on I and Q; returns q and the Bussgang model.

    Parameters
    ----------
    y : torch.Tensor complex (C, Nr, T)
    H : torch.Tensor complex (C, Nr, K)
    n0 : float
        Noise power per antenna (Es = 1).
    bits : sequence of int (Nr,) or None
        ADC resolution per antenna (bits); None: no quantization.
    kind : str
        ``uniform`` or ``lloyd_max``.

    Returns
    -------
    q : torch.Tensor complex (C, Nr, T)
    gain : torch.Tensor real (C, Nr)
        Bussgang gain per antenna (1 without quantization).
    dist : torch.Tensor real (C, Nr)
        Distortion variance per antenna (complex, units of the input; 0 without).
    """
    import torch

    real = y.real.dtype
    power = (H.abs() ** 2).sum(dim=2) + n0          # (C, Nr) E|y_i|^2 (ideal AGC)
    if bits is None:
        return y, torch.ones_like(power), torch.zeros_like(power)
    bits = np.asarray(bits, dtype=np.int64)
    sigma = torch.sqrt(power / 2)[:, :, None]
    u_re, u_im = y.real / sigma, y.imag / sigma
    q_re, q_im = torch.empty_like(u_re), torch.empty_like(u_im)
    gain = torch.empty(bits.size, dtype=real, device=y.device)
    delta = torch.empty(bits.size, dtype=real, device=y.device)
    for b in np.unique(bits):
        rows = torch.as_tensor(np.flatnonzero(bits == b), device=y.device)
        t, lv = quantizer_tables(kind, int(b))
        q_re[:, rows] = quantize_real(u_re[:, rows], t, lv)
        q_im[:, rows] = quantize_real(u_im[:, rows], t, lv)
        st = quantizer_stats(kind, int(b))
        gain[rows], delta[rows] = st["gain"], st["distortion"]
    q = torch.complex(q_re * sigma, q_im * sigma)
    gain = gain[None, :].expand_as(power)
    dist = delta[None, :] * power                   # 2 sigma^2 delta per complex sample
    return q, gain, dist


def detector_matrices(H, n0: float, gain, dist, detectors=DETECTORS):
    """Linear detector W (C, K, Nr) and its model's effective channel, per detector.

    ``zf``: (H^H H)^-1 H^H; ``lmmse``: (H^H H + N0 I)^-1 H^H (both quantization-unaware);
    ``bussgang``: LMMSE for q = G H s + G n + d with the distortion d taken white across
    antennas (AQNM / diagonal Bussgang approximation), C = G^2 N0 + diag(dist):
    W = (Heff^H C^-1 Heff + I)^-1 Heff^H C^-1, Heff = G H.
    """
    import torch

    K = H.shape[2]
    eye = torch.eye(K, dtype=H.dtype, device=H.device)
    Hh = H.conj().transpose(1, 2)
    out = {}
    for d in detectors:
        if d == "zf":
            out[d] = (torch.linalg.solve(Hh @ H, Hh), H)
        elif d == "lmmse":
            out[d] = (torch.linalg.solve(Hh @ H + n0 * eye, Hh), H)
        elif d == "bussgang":
            heff = gain[:, :, None].to(H.dtype) * H
            cinv = (1.0 / (gain ** 2 * n0 + dist)).to(H.dtype)      # (C, Nr)
            hc = heff.conj().transpose(1, 2) * cinv[:, None, :]       # Heff^H C^-1
            out[d] = (torch.linalg.solve(hc @ heff + eye, hc), heff)
        else:
            raise ValueError(f"detector must be one of {DETECTORS}, not {d!r}")
    return out
