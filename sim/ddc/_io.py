"""Packing of two's complement pairs into one batch-runner word (I high, Q low)."""

from __future__ import annotations

import numpy as np

__all__ = ["pack_pair", "unpack_pair"]


def _signed(v: np.ndarray, bits: int) -> np.ndarray:
    v = v & ((1 << bits) - 1)
    return np.where(v >= (1 << (bits - 1)), v - (1 << bits), v)


def unpack_pair(word, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """``(high, low)`` signed ``bits``-bit halves of unsigned ``2*bits``-bit words."""
    w = np.asarray(word, dtype=np.int64)
    return _signed(w >> np.int64(bits), bits), _signed(w, bits)


def pack_pair(high, low, bits: int) -> np.ndarray:
    """Inverse of :func:`unpack_pair`."""
    m = (1 << bits) - 1
    h = np.asarray(high, dtype=np.int64) & m
    return (h << np.int64(bits)) | (np.asarray(low, dtype=np.int64) & m)
