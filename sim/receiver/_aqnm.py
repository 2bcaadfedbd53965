"""Closed forms: achievable sum rate and detection MSE under the additive quantization noise
model (AQNM), and the BER of unquantized ZF for QPSK on i.i.d. Rayleigh.

AQNM / Bussgang model of antenna i with a b_i-bit ADC (after the ideal AGC):
q_i = g_b y_i + d_i, E|d_i|**2 = delta_b (||h_i||**2 + N0), d white across antennas.
With the Bussgang LMMSE receiver, A = I_K + H^H diag(w) H, w_i = 1 / (N0 + nu_b p_i),
nu_b = delta_b / g_b**2 (the distortion referred to the input), p_i = ||h_i||**2 + N0;
then SINR_k = 1 / [A^-1]_kk - 1, sum rate = sum_k log2(1 + SINR_k) (bit/s/Hz) and the
per-user MMSE = [A^-1]_kk (Es = 1). For Lloyd-Max, nu_b = rho_b / (1 - rho_b): the usual
AQNM expression.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import comb

from ._quantizer import stats_arrays


def noise_to_signal(kind: str, max_bits: int) -> np.ndarray:
    """nu_b = delta_b / g_b**2 indexed by b = 0..max_bits (index 0: NaN)."""
    g, d = stats_arrays(kind, max_bits)
    return d / g**2


def mmse_diagonal(H: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Diagonal of (I + H^H diag(w) H)^-1.

    Parameters
    ----------
    H : numpy.ndarray complex (C, Nr, K)
    w : numpy.ndarray float (n, C, Nr)

    Returns
    -------
    numpy.ndarray float (n, C, K)
    """
    K = H.shape[2]
    Hh = np.conj(np.swapaxes(H, 1, 2))[None]                # (1, C, K, Nr)
    A = (Hh * w[:, :, None, :]) @ H[None]                    # (n, C, K, K)
    A = A + np.eye(K)
    inv = np.linalg.inv(A)
    return np.real(np.diagonal(inv, axis1=2, axis2=3))


def aqnm_weights(bits: np.ndarray, H: np.ndarray, snr_db: float, nu: np.ndarray | None):
    """w (n, C, Nr) for allocations ``bits`` (n, Nr); ``nu`` None: unquantized (w = 1/N0)."""
    n0 = 10.0 ** (-snr_db / 10.0)
    p = (np.abs(H) ** 2).sum(axis=2) + n0                       # (C, Nr)
    if nu is None:
        return np.full((bits.shape[0], H.shape[0], H.shape[1]), 1.0 / n0)
    return 1.0 / (n0 + nu[bits][:, None, :] * p[None])


def aqnm_sum_rate(bits, H, snr_db: float, kind: str = "uniform", max_bits: int = 10,
                  chunk: int = 4096) -> np.ndarray:
    """AQNM sum rate (bit/s/Hz) of allocations ``bits`` (n, Nr), mean over channels H.

    Parameters
    ----------
    bits : array_like int (n, Nr) or None
        ADC bits per antenna; None: the unquantized rate (returns shape (1,)).
    H : numpy.ndarray complex (C, Nr, K) or (Nr, K)
    snr_db : float
    kind : str
        Quantizer (``uniform`` or ``lloyd_max``).
    """
    return _closed_form(bits, H, snr_db, kind, max_bits, chunk, "rate")


def aqnm_mse(bits, H, snr_db: float, kind: str = "uniform", max_bits: int = 10,
             chunk: int = 4096) -> np.ndarray:
    """Bussgang-LMMSE detection MSE per user (Es = 1), mean over users and channels."""
    return _closed_form(bits, H, snr_db, kind, max_bits, chunk, "mse")


def _closed_form(bits, H, snr_db, kind, max_bits, chunk, what):
    H = np.asarray(H, dtype=np.complex128)
    if H.ndim == 2:
        H = H[None]
    nu = None
    if bits is None:
        bits = np.zeros((1, H.shape[1]), dtype=np.int64)
    else:
        nu = noise_to_signal(kind, max_bits)
    bits = np.atleast_2d(np.asarray(bits, dtype=np.int64))
    out = np.empty(len(bits))
    for s in range(0, len(bits), chunk):
        b = bits[s:s + chunk]
        diag = mmse_diagonal(H, aqnm_weights(b, H, snr_db, nu))
        if what == "rate":
            out[s:s + chunk] = (-np.log2(diag)).sum(axis=2).mean(axis=1)
        else:
            out[s:s + chunk] = diag.mean(axis=(1, 2))
    return out


def zf_qpsk_rayleigh_ber(n_rx: int, n_users: int, snr_db: float) -> float:
    """Closed-form BER of unquantized ZF, Gray QPSK, i.i.d. CN(0, 1) Rayleigh channel.

    The post-ZF SNR of a user is Es/N0 times a Gamma(L, 1) variable, L = Nr - K + 1, so the
    BER is that of L-branch maximal-ratio combining of BPSK at bit SNR g = Es / (2 N0)
    (Proakis, Digital Communications, eq. 14.4-15):
    ((1 - mu) / 2)**L sum_{j<L} C(L - 1 + j, j) ((1 + mu) / 2)**j, mu = sqrt(g / (1 + g)).
    """
    L = n_rx - n_users + 1
    if L < 1:
        raise ValueError(f"ZF needs n_rx >= n_users, not {n_rx} < {n_users}")
    g = 10.0 ** (snr_db / 10.0) / 2.0
    mu = math.sqrt(g / (1.0 + g))
    return float(((1 - mu) / 2) ** L
                 * sum(comb(L - 1 + j, j) * ((1 + mu) / 2) ** j for j in range(L)))
