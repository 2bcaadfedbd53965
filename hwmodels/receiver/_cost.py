"""ADC consumption of a multi-antenna receiver: Walden figure of merit or total bits.

Walden: one ADC of b bits sampling at fs draws P = FOM * fs * 2**b (W), FOM in J per
conversion step (Walden, IEEE JSAC 1999). Each antenna has two ADCs (I and Q), so antenna i
draws 2 * FOM * fs * 2**b_i. The integer cost is that power in units of 2 * FOM * fs, i.e.
exactly 2**b_i per antenna: integer, exact, and the watts follow by one multiplication.

Default FOM = 494 fJ/conversion-step at fs = 1 GS/s: the value Mo, Alkhateeb, Abu-Surra and
Heath (IEEE Trans. Wireless Commun. 16(4), 2017, "Hybrid architectures with few-bit ADC
receivers") took from Murmann's ADC performance survey for GS/s converters; both are config
fields. The model ignores the resolution-independent part of a real ADC (references,
clocking) and the FOM's spread across designs: it ranks allocations, it does not predict a
chip's power to better than the survey's scatter (about an order of magnitude).

Total bits: 2 * b_i bits per antenna (I and Q), the simpler alternative.
"""

from __future__ import annotations

import math

import numpy as np


def cost_unit_w(spec) -> float:
    """Watts per integer cost unit: 2 * FOM * fs for ``walden``; None-like 0 for bits."""
    return 2.0 * spec.fom_j * spec.fs_hz if spec.cost_model == "walden" else 0.0


def antenna_cost(spec, bits) -> np.ndarray:
    """Integer cost of each antenna's ADC pair at ``bits`` (int64, same shape).

    ``walden``: 2**b (units of 2 * FOM * fs W); ``total_bits``: 2 * b (bits).
    """
    b = np.asarray(bits, dtype=np.int64)
    if np.any(b < 0) or np.any(b > 62):
        raise ValueError(f"ADC bits must lie in 0..62, not {b.min()}..{b.max()}")
    return (np.left_shift(1, b) if spec.cost_model == "walden" else 2 * b).astype(np.int64)


def cost_table(spec) -> np.ndarray:
    """Cost of every antenna at every admissible width: int64 (Nr, n_widths)."""
    row = antenna_cost(spec, np.asarray(spec.widths))
    return np.repeat(row[None, :], spec.n_rx, axis=0)


def allocation_cost(spec, X) -> np.ndarray:
    """Integer cost of allocations X (n, Nr) of bits: int64 (n,)."""
    return antenna_cost(spec, X).sum(axis=-1)


def allocation_power_w(spec, X) -> np.ndarray:
    """ADC power (W) of allocations X (n, Nr) under the Walden model."""
    b = np.asarray(X, dtype=np.float64)
    return (2.0 * spec.fom_j * spec.fs_hz * 2.0 ** b).sum(axis=-1)


def uniform_cost(spec, bits: float) -> float:
    """Cost (real) of every antenna at ``bits`` (fractional allowed: the geometric/linear
    interpolation the budget axis uses)."""
    if spec.cost_model == "walden":
        return spec.n_rx * 2.0**bits
    return spec.n_rx * 2.0 * bits


def budget_from_uniform_bits(spec, bits: float) -> int:
    """Integer budget equal to the cost of a uniform ``bits`` allocation, rounded down."""
    return int(math.floor(uniform_cost(spec, bits) + 1e-9))


def cost_to_display(spec, cost: float) -> tuple[float, str]:
    """A cost in its display unit: (mW, "mW") for walden, (bits, "bits") for total bits."""
    if spec.cost_model == "walden":
        return cost * cost_unit_w(spec) * 1e3, "mW"
    return float(cost), "bits"


def display_to_cost(spec, value: float) -> int:
    """A budget in the display unit (mW or bits) to the integer cost, rounded down."""
    if spec.cost_model == "walden":
        return int(math.floor(value / (cost_unit_w(spec) * 1e3) + 1e-9))
    return int(math.floor(value + 1e-9))
