"""The frozen FIR specification that drives the bit-true model, the generator and the cost model."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from ..fixed import MAX_WORD_BITS, Overflow, QFormat, Rounding

#: Coefficient widths bitsmith builds hardware for (bits, sign included).
MIN_COEF_BITS, MAX_COEF_BITS = 2, 32


class FirForm(enum.Enum):
    """FIR datapath structure."""

    DIRECT = "direct"  #: tapped delay line, products summed by an adder tree
    TRANSPOSED = "transposed"  #: input broadcast to all multipliers, registered adder chain


class Symmetry(enum.Enum):
    """Coefficient symmetry of a linear-phase FIR."""

    NONE = "none"
    EVEN = "even"  #: h[k] == h[L-1-k]
    ODD = "odd"  #: h[k] == -h[L-1-k]


class Multiplier(enum.Enum):
    """How constant multiplications are built."""

    CSD = "csd"  #: shift-and-add on the canonical signed digits (LUT fabric)
    DSP = "dsp"  #: a plain `*`, left to the synthesis tool (DSP48 inference)


def coef_significant_bits(c: int) -> int:
    """Two's complement width of ``c`` with trailing zeros removed (bits, sign included).

    This is the width a coefficient's constant multiplier really needs: a coefficient stored
    with a common LSB but fewer significant bits is a narrower constant shifted left.
    """
    if c == 0:
        return 0
    while c % 2 == 0:
        c //= 2
    return (c.bit_length() + 1) if c > 0 else ((-c - 1).bit_length() + 1)


def signed_width_for(lo: int, hi: int) -> int:
    """Smallest two's complement width (bits) holding every integer in [lo, hi]."""
    w = 1
    while not (-(1 << (w - 1)) <= lo and hi <= (1 << (w - 1)) - 1):
        w += 1
    return w


@dataclass(frozen=True)
class FirSpec:
    """Everything that fixes a FIR's hardware arithmetic.

    The filter computes ``acc[n] = sum_k coefficients[k] * x[n-k]`` exactly on raw integers
    (products and accumulator at full precision, sized by the L1 bound so no overflow is
    possible), then requantizes ``acc`` from :attr:`acc_format` to ``output_format`` with
    ``rounding`` and ``overflow``. Coefficient k's value is
    ``coefficients[k] * 2**-coef_frac``.

    Parameters
    ----------
    coefficients : tuple of int
        Raw integer coefficients on the common LSB 2**-coef_frac.
    coef_frac : int
        Fractional bits of the common coefficient scaling (bits).
    coef_widths : tuple of int
        Width allotted to each coefficient (bits, sign included): the allocation's choice.
        Each coefficient's significant bits (:func:`coef_significant_bits`) must fit it.
        Width 0 marks a pruned tap (its coefficient must be 0; it costs no hardware).
    input_format, output_format : QFormat
        Signed formats of the input sample and of the output sample.
    rounding, overflow :
        Modes of the single output rounding point.
    form : FirForm
        Direct or transposed structure.
    fold_symmetric : bool
        Share one multiplier per symmetric pair through a pre-adder (needs symmetry).
    multiplier : Multiplier
        Shift-add (CSD) constants or `*` for DSP inference.
    pipeline : int
        Pipeline registers: 0 puts only the output register; p > 0 registers the adder tree
        every p levels (direct form) and the products (both forms).
    """

    coefficients: tuple[int, ...]
    coef_frac: int
    coef_widths: tuple[int, ...]
    input_format: QFormat
    output_format: QFormat
    rounding: Rounding = Rounding.ROUND_HALF_UP
    overflow: Overflow = Overflow.SATURATE
    form: FirForm = FirForm.DIRECT
    fold_symmetric: bool = False
    multiplier: Multiplier = Multiplier.CSD
    pipeline: int = 1

    def __post_init__(self):
        object.__setattr__(self, "coefficients", tuple(int(c) for c in self.coefficients))
        object.__setattr__(self, "coef_widths", tuple(int(w) for w in self.coef_widths))
        n = len(self.coefficients)
        if n < 1:
            raise ValueError("a FIR needs at least 1 tap, not 0")
        if len(self.coef_widths) != n:
            raise ValueError(
                f"coef_widths must have one width per tap ({n}), not {len(self.coef_widths)}"
            )
        if all(c == 0 for c in self.coefficients):
            raise ValueError("at least one coefficient must be nonzero")
        for k, (c, w) in enumerate(zip(self.coefficients, self.coef_widths, strict=True)):
            if w == 0 and c == 0:
                continue  # a pruned tap: width 0 means "no multiplier at all"
            if not MIN_COEF_BITS <= w <= MAX_COEF_BITS:
                raise ValueError(
                    f"coefficient width must be between {MIN_COEF_BITS} and {MAX_COEF_BITS} "
                    f"bits (or 0 for a zero coefficient), not {w} (tap {k})"
                )
            if coef_significant_bits(c) > w:
                raise ValueError(
                    f"coefficient {k} ({c}) needs {coef_significant_bits(c)} significant "
                    f"bits, more than its width {w}"
                )
        for name in ("input_format", "output_format"):
            if not getattr(self, name).signed:
                raise ValueError(f"{name} must be signed, not {getattr(self, name)}")
        if self.pipeline < 0:
            raise ValueError(f"pipeline must be >= 0, not {self.pipeline}")
        if self.fold_symmetric and self.symmetry is Symmetry.NONE:
            raise ValueError("fold_symmetric needs symmetric or antisymmetric coefficients")
        if self.acc_width > MAX_WORD_BITS:
            raise ValueError(
                f"full-precision accumulator needs {self.acc_width} bits, more than the "
                f"{MAX_WORD_BITS}-bit limit of the bit-true model"
            )

    # -- derived quantities: the only place widths are computed --------------------------
    @property
    def taps(self) -> int:
        """Number of taps L."""
        return len(self.coefficients)

    @property
    def symmetry(self) -> Symmetry:
        """Detected coefficient symmetry (single-tap filters count as no symmetry)."""
        c = self.coefficients
        if self.taps < 2:
            return Symmetry.NONE
        if all(c[k] == c[-1 - k] for k in range(self.taps)):
            return Symmetry.EVEN
        if all(c[k] == -c[-1 - k] for k in range(self.taps)):
            return Symmetry.ODD
        return Symmetry.NONE

    @property
    def values(self) -> tuple[float, ...]:
        """Coefficient values (real numbers)."""
        return tuple(c * 2.0**-self.coef_frac for c in self.coefficients)

    @property
    def l1_norm(self) -> int:
        """sum |coefficients| on the raw integer scale."""
        return sum(abs(c) for c in self.coefficients)

    @property
    def acc_range(self) -> tuple[int, int]:
        """Exact (min, max) raw accumulator value over all inputs (the L1 bound)."""
        xmin, xmax = self.input_format.raw_min, self.input_format.raw_max
        pos = sum(c for c in self.coefficients if c > 0)
        neg = sum(c for c in self.coefficients if c < 0)
        return (pos * xmin + neg * xmax, pos * xmax + neg * xmin)

    @property
    def acc_width(self) -> int:
        """Full-precision accumulator width (bits): no overflow is possible."""
        return signed_width_for(*self.acc_range)

    @property
    def growth_bits(self) -> int:
        """Bits the accumulator grows over the input (ceil(log2 sum|h|) or one more)."""
        return self.acc_width - self.input_format.word_bits

    @property
    def acc_format(self) -> QFormat:
        """Format of the full-precision accumulator."""
        frac = self.input_format.frac_bits + self.coef_frac
        return QFormat(self.acc_width - frac, frac)

    @property
    def max_coef_width(self) -> int:
        """Widest coefficient (bits)."""
        return max(self.coef_widths)

    @staticmethod
    def l1_growth_estimate(l1: float) -> int:
        """ceil(log2(l1)) growth bits of HARDWARE_FACTS.md (for documentation and checks)."""
        return max(0, math.ceil(math.log2(l1))) if l1 > 0 else 0


def spec_to_json(spec: FirSpec) -> str:
    """Serialize a :class:`FirSpec` to JSON (enums by value, formats as int/frac bits)."""
    import json

    def fmt(q: QFormat) -> dict:
        return {"int_bits": q.int_bits, "frac_bits": q.frac_bits, "signed": q.signed}

    return json.dumps(
        {
            "coefficients": list(spec.coefficients),
            "coef_frac": spec.coef_frac,
            "coef_widths": list(spec.coef_widths),
            "input_format": fmt(spec.input_format),
            "output_format": fmt(spec.output_format),
            "rounding": spec.rounding.value,
            "overflow": spec.overflow.value,
            "form": spec.form.value,
            "fold_symmetric": spec.fold_symmetric,
            "multiplier": spec.multiplier.value,
            "pipeline": spec.pipeline,
        }
    )


def spec_from_json(text: str) -> FirSpec:
    """Inverse of :func:`spec_to_json` (validated by :class:`FirSpec` itself)."""
    import json

    d = json.loads(text)
    return FirSpec(
        coefficients=tuple(d["coefficients"]),
        coef_frac=d["coef_frac"],
        coef_widths=tuple(d["coef_widths"]),
        input_format=QFormat(**d["input_format"]),
        output_format=QFormat(**d["output_format"]),
        rounding=Rounding(d["rounding"]),
        overflow=Overflow(d["overflow"]),
        form=FirForm(d["form"]),
        fold_symmetric=d["fold_symmetric"],
        multiplier=Multiplier(d["multiplier"]),
        pipeline=d["pipeline"],
    )
