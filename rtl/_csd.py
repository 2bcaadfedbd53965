"""Canonical signed digit (CSD) recoding of integer constants.

A shift-and-add constant multiplier needs one adder per nonzero digit after the first, so the
digit count is both the structure of :attr:`Multiplier.CSD` multipliers and the cost model's
measure of a constant's price.
"""

from __future__ import annotations

__all__ = ["csd_digits", "csd_nonzero_count"]


def csd_digits(c: int) -> list[tuple[int, int]]:
    """Canonical signed digit recoding of an integer.

    Returns the nonzero digits of the unique representation
    ``c = sum(sign * 2**shift)`` with digits in {-1, 0, +1} and no two adjacent nonzero
    digits (Reitwiesner 1960); it has the fewest nonzero digits of any signed-digit form.

    Parameters
    ----------
    c : int
        The constant (any sign; 0 gives no digits).

    Returns
    -------
    list of (int, int)
        ``(shift, sign)`` pairs, ``shift`` in bits (ascending), ``sign`` in {-1, +1}.
    """
    if isinstance(c, bool) or not isinstance(c, int):
        raise TypeError(f"CSD recoding needs an int, not {c!r}")
    digits = []
    shift = 0
    while c != 0:
        if c & 1:
            # c mod 4 == 3 -> digit -1 (leaves a carry that merges the run of ones)
            d = 2 - (c & 3)
            digits.append((shift, d))
            c -= d
        c >>= 1
        shift += 1
    return digits


def csd_nonzero_count(c: int) -> int:
    """Number of nonzero CSD digits of ``c`` (adders of its shift-add multiplier plus one)."""
    return len(csd_digits(c))
