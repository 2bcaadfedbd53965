"""The frozen specification of a quantized gradient descent: what is quantized, how, when."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np

from ..fixed import Overflow, Rounding

#: Widths the quantized descent takes (bits, sign included): a signed word needs two bits;
#: above 52 bits float64 (the simulation's arithmetic) is the limit anyway.
MIN_GD_BITS, MAX_GD_BITS = 2, 52


class Objective(enum.Enum):
    """The convex problem gradient descent solves."""

    LEAST_SQUARES = "least_squares"  #: f(w) = ||A w - y||^2 / (2 n)
    LOGISTIC = "logistic"  #: f(w) = mean log(1 + exp(-y a.w)) + reg/2 ||w||^2


class Target(enum.Enum):
    """What the step-t quantizer rounds."""

    GRADIENT = "gradient"  #: w <- w - eta Q(grad f(w))
    ITERATE = "iterate"  #: w <- Q(w - eta grad f(w))


class Allocation(enum.Enum):
    """Which bits the allocation variables are."""

    STEP = "step"  #: one width per step, all coordinates (N = T)
    BLOCK = "block"  #: one width per coordinate block, every step (N = K)
    STEP_BLOCK = "step_block"  #: one width per step and block (N = T K, step-major)


class RangeRule(enum.Enum):
    """How the quantizer's dynamic range [-2**e, 2**e) is set at each step and block.

    The exponent e is a power of two (a shift in hardware); a b-bit word then has LSB
    2**(e + 1 - b).
    """

    #: e_t = ceil(log2(max |x_t|)) over the block, strictly above it (frexp): block floating
    #: point, one shared exponent per step and block, data-dependent (a leading-zero count).
    MAX_ABS = "max_abs"
    #: e fixed once from the first quantized vector (the step-0 gradient or iterate, the
    #: same for every allocation since w_0 = 0) plus ``headroom_bits``: a static fixed-point
    #: format whose LSB only moves with b_t; values beyond it saturate (or wrap).
    FIXED = "fixed"
    #: e_t = e_0 + ceil(t log2(range_decay)): the static range shrunk at the rate linear
    #: convergence predicts, decided before the run (no data-dependent exponent).
    GEOMETRIC = "geometric"


@dataclass(frozen=True)
class GdSpec:
    """Everything that fixes a quantized gradient descent run.

    Parameters
    ----------
    objective : Objective
        The problem solved.
    n_steps : int
        Iterations T.
    step_scale : float
        Step size eta = step_scale / L with L the gradient's Lipschitz constant of each
        data draw (dimensionless; < 2 keeps unquantized descent stable).
    target : Target
        Quantize the gradient (default) or the iterate.
    allocation : Allocation
        Per-step, per-block or per-step-and-block widths.
    n_blocks : int
        Contiguous coordinate blocks K (``numpy.array_split`` sizes); 1 for one block.
    range_rule : RangeRule
        Dynamic-range rule of each step and block.
    range_decay : float
        Per-step range shrink factor of ``RangeRule.GEOMETRIC`` (0 < rho <= 1).
    headroom_bits : int
        Extra integer bits above the reference range of ``FIXED`` and ``GEOMETRIC`` (bits).
    rounding : Rounding
        How bits below the LSB are discarded.
    overflow : Overflow
        What a value beyond the range does (``SATURATE`` or ``WRAP``).
    """

    objective: Objective = Objective.LEAST_SQUARES
    n_steps: int = 20
    step_scale: float = 1.0
    target: Target = Target.GRADIENT
    allocation: Allocation = Allocation.STEP
    n_blocks: int = 1
    range_rule: RangeRule = RangeRule.FIXED
    range_decay: float = 1.0
    headroom_bits: int = 0
    rounding: Rounding = Rounding.ROUND_HALF_EVEN
    overflow: Overflow = Overflow.SATURATE

    def __post_init__(self):
        if not 1 <= self.n_steps <= 100_000:
            raise ValueError(f"n_steps must be between 1 and 100000, not {self.n_steps}")
        if not (math.isfinite(self.step_scale) and 0 < self.step_scale < 2):
            raise ValueError(f"step_scale must lie in (0, 2), not {self.step_scale}")
        if not 1 <= self.n_blocks <= 4096:
            raise ValueError(f"n_blocks must be between 1 and 4096, not {self.n_blocks}")
        if not (math.isfinite(self.range_decay) and 0 < self.range_decay <= 1):
            raise ValueError(f"range_decay must lie in (0, 1], not {self.range_decay}")
        if not -16 <= self.headroom_bits <= 16:
            raise ValueError(f"headroom_bits must be between -16 and 16, not "
                             f"{self.headroom_bits}")
        if self.overflow is Overflow.RAISE:
            raise ValueError("overflow must be SATURATE or WRAP, not RAISE (a search "
                             "evaluates allocations that overflow)")

    @property
    def n_vars(self) -> int:
        """Allocation variables N (widths the search chooses)."""
        if self.allocation is Allocation.STEP:
            return self.n_steps
        if self.allocation is Allocation.BLOCK:
            return self.n_blocks
        return self.n_steps * self.n_blocks

    def bits_grid(self, X) -> np.ndarray:
        """Widths of every step and block, int64 (n, T, K), from allocations (n, N) (bits)."""
        X = np.atleast_2d(np.asarray(X, dtype=np.int64))
        n, T, K = len(X), self.n_steps, self.n_blocks
        if X.shape[1] != self.n_vars:
            raise ValueError(f"allocations must have {self.n_vars} widths each "
                             f"({self.allocation.value}), not {X.shape[1]}")
        if self.allocation is Allocation.STEP:
            return np.broadcast_to(X[:, :, None], (n, T, K))
        if self.allocation is Allocation.BLOCK:
            return np.broadcast_to(X[:, None, :], (n, T, K))
        return X.reshape(n, T, K)

    def blocks(self, n_features: int) -> np.ndarray:
        """Block index of each coordinate, int64 (d,): contiguous, sizes differ by <= 1."""
        if self.n_blocks > n_features:
            raise ValueError(f"n_blocks must not exceed the number of coordinates "
                             f"{n_features}, not {self.n_blocks}")
        out = np.empty(n_features, dtype=np.int64)
        for k, idx in enumerate(np.array_split(np.arange(n_features), self.n_blocks)):
            out[idx] = k
        return out
