"""Fixed-point number formats and the quantizers every datapath stage uses.

Values are held as raw two's-complement integers in ``int64`` numpy arrays; a
:class:`QFormat` says what they mean (value = raw * 2**-frac_bits).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

#: The widest word the int64 kernels handle bit-exactly (headroom for one carry/sign).
MAX_WORD_BITS = 62


class Rounding(enum.Enum):
    """How bits below the new LSB are discarded."""

    TRUNCATE = "truncate"  #: floor (toward -inf); hardware's natural default
    ROUND_HALF_UP = "round_half_up"  #: to nearest, ties toward +inf
    ROUND_HALF_EVEN = "round_half_even"  #: to nearest, ties to even (convergent)
    ROUND_TO_ZERO = "round_to_zero"  #: toward zero (magnitude truncation)


class Overflow(enum.Enum):
    """What happens to a value outside the target format's range."""

    WRAP = "wrap"  #: keep the low bits (two's complement wrap-around); hardware's default
    SATURATE = "saturate"  #: clamp to the largest/smallest representable value
    RAISE = "raise"  #: raise :class:`FixedOverflowError`


class FixedOverflowError(ArithmeticError):
    """A value did not fit its format and the overflow mode was :attr:`Overflow.RAISE`."""


@dataclass(frozen=True)
class QFormat:
    """A fixed-point format Q(int_bits, frac_bits).

    Follows the apytypes convention: the word has ``int_bits + frac_bits`` bits and, for a
    signed format, ``int_bits`` includes the sign bit. Either part may be negative (e.g.
    Q(-2, 10) is an 8-bit word whose MSB weighs 2**-3), but the word must have at least
    one bit (two for signed) and at most :data:`MAX_WORD_BITS`.

    Parameters
    ----------
    int_bits : int
        Bits above the binary point, sign included when ``signed`` (bits).
    frac_bits : int
        Bits below the binary point (bits); the LSB weighs 2**-frac_bits.
    signed : bool
        Two's complement if true, else unsigned.
    """

    int_bits: int
    frac_bits: int
    signed: bool = True

    def __post_init__(self):
        for name in ("int_bits", "frac_bits"):
            v = getattr(self, name)
            if not isinstance(v, (int,)) or isinstance(v, bool):
                raise TypeError(f"{name} must be an integer, not {v!r}")
        lo = 2 if self.signed else 1
        if not lo <= self.word_bits <= MAX_WORD_BITS:
            raise ValueError(
                f"word length int_bits + frac_bits must be between {lo} and {MAX_WORD_BITS} "
                f"bits for a {'signed' if self.signed else 'unsigned'} format, "
                f"not {self.word_bits} (Q({self.int_bits}, {self.frac_bits}))"
            )

    @property
    def word_bits(self) -> int:
        """Total word length (bits)."""
        return self.int_bits + self.frac_bits

    @property
    def raw_min(self) -> int:
        """Smallest raw integer."""
        return -(1 << (self.word_bits - 1)) if self.signed else 0

    @property
    def raw_max(self) -> int:
        """Largest raw integer."""
        return (1 << (self.word_bits - 1)) - 1 if self.signed else (1 << self.word_bits) - 1

    @property
    def lsb(self) -> float:
        """Weight of the least significant bit."""
        return 2.0**-self.frac_bits

    @property
    def min(self) -> float:
        """Smallest representable value."""
        return self.raw_min * self.lsb

    @property
    def max(self) -> float:
        """Largest representable value."""
        return self.raw_max * self.lsb

    def __str__(self) -> str:
        return f"{'' if self.signed else 'U'}Q({self.int_bits},{self.frac_bits})"
