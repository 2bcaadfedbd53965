"""Bit-true simulation: the exact integer arithmetic hardware does, and its error."""

from ._fixed import MAX_WORD_BITS, FixedOverflowError, Overflow, QFormat, Rounding

__all__ = ["MAX_WORD_BITS", "FixedOverflowError", "Overflow", "QFormat", "Rounding"]
