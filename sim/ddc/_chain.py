"""The DDC chain: ADC samples -> NCO mixer -> CIC -> half-band /2 -> CFIR (/1 or /2) -> I/Q.

:class:`DdcSpec` freezes every width and coefficient of the chain; :func:`ddc_model` is its
bit-true model (each stage's raw integers), which the RTL top
:class:`~bitsmith.rtl.ddc.DdcChain` equals sample for sample.

Scaling: every signal is a fraction of full scale, ``raw * 2^-(bits-1)``. The mixer rounds
``x * cos`` and ``x * (-sin)`` half-up to ``mixer_bits`` and saturates; the CIC output is the
top ``cic.output_bits`` of its ``b_max``-bit result (gain ``(RM)^N / 2^ceil(log2 (RM)^N)``,
1 for power-of-two R*M); the FIRs round and saturate as their :class:`FirSpec` says.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..fir._model import FirModel
from ..fir._spec import FirSpec
from ..fixed import Overflow, QFormat, Rounding, requantize
from ._cic import CicSpec, cic_decimate
from ._nco import NcoSpec, nco_model

__all__ = ["DdcSpec", "ddc_model", "mix"]


def _frac(bits: int) -> QFormat:
    return QFormat(1, bits - 1)


@dataclass(frozen=True)
class DdcSpec:
    """Everything that fixes the DDC chain's arithmetic.

    Parameters
    ----------
    adc_bits : int
        Signed ADC sample width (bits).
    nco : NcoSpec
        The local oscillator (advances once per ADC sample).
    mixer_bits : int
        Mixer output width, I and Q each (bits, at most ``adc_bits + nco.amp_bits - 1``).
    cic : CicSpec
        The CIC decimator on I and on Q (``input_bits == mixer_bits``).
    halfband : FirSpec or None
        Half-band filter after the CIC, output decimated by 2 (samples 0, 2, 4, ...).
    cfir : FirSpec or None
        Compensation FIR, last stage (its rounding and saturation are the output's).
    cfir_decimate : int
        1, or 2 to keep every other CFIR output.
    """

    adc_bits: int
    nco: NcoSpec
    mixer_bits: int
    cic: CicSpec
    halfband: FirSpec | None = None
    cfir: FirSpec | None = None
    cfir_decimate: int = 1

    def __post_init__(self):
        if not 2 <= self.adc_bits <= 32:
            raise ValueError(f"ADC bits must be between 2 and 32, not {self.adc_bits}")
        top = self.adc_bits + self.nco.amp_bits - 1
        if not 2 <= self.mixer_bits <= top:
            raise ValueError(f"mixer_bits must be between 2 and adc_bits + amp_bits - 1 = "
                             f"{top}, not {self.mixer_bits}")
        if self.cic.input_bits != self.mixer_bits:
            raise ValueError(f"CIC input_bits must equal mixer_bits ({self.mixer_bits}), "
                             f"not {self.cic.input_bits}")
        w = self.cic.output_bits
        for name in ("halfband", "cfir"):
            f = getattr(self, name)
            if f is None:
                continue
            if f.input_format != _frac(w):
                raise ValueError(f"{name} input format must be {_frac(w)}, not "
                                 f"{f.input_format}")
            if f.output_format.int_bits != 1:
                raise ValueError(f"{name} output format must be a fraction Q(1, b-1), not "
                                 f"{f.output_format}")
            w = f.output_format.word_bits
        if self.cfir_decimate not in (1, 2):
            raise ValueError(f"cfir_decimate must be 1 or 2, not {self.cfir_decimate}")
        if self.cfir is None and self.cfir_decimate != 1:
            raise ValueError("cfir_decimate 2 needs a CFIR")
        if 2 * self.output_bits > 64:
            raise ValueError(f"output_bits must be at most 32 (I and Q share a 64-bit word), "
                             f"not {self.output_bits}")

    @property
    def product_bits(self) -> int:
        """Full-precision mixer product width adc_bits + amp_bits - 1 (bits)."""
        return self.adc_bits + self.nco.amp_bits - 1

    @property
    def output_bits(self) -> int:
        """Width of I and of Q at the output (bits)."""
        for f in (self.cfir, self.halfband):
            if f is not None:
                return f.output_format.word_bits
        return self.cic.output_bits

    @property
    def decimation(self) -> int:
        """Total rate change, ADC rate / output rate."""
        return (self.cic.decimation * (2 if self.halfband is not None else 1)
                * self.cfir_decimate)


def mix(spec: DdcSpec, x, lo) -> np.ndarray:
    """Mixer: ``x * lo`` rounded half-up to ``mixer_bits`` and saturated (raw)."""
    p = np.asarray(x, dtype=np.int64) * np.asarray(lo, dtype=np.int64)
    # a product of two fractions, LSB 2^-(adc_bits + amp_bits - 2); it fits product_bits
    src = QFormat(1, spec.product_bits - 1)
    return requantize(p, src, _frac(spec.mixer_bits), Rounding.ROUND_HALF_UP,
                      Overflow.SATURATE)


def ddc_model(spec: DdcSpec, x_raw) -> dict[str, np.ndarray]:
    """Bit-true outputs of every stage for ADC samples ``x_raw`` (raw ``adc_bits``).

    Returns
    -------
    dict
        ``cos``, ``msin`` (NCO, per ADC sample), ``mix_i``, ``mix_q``, ``cic_i``, ``cic_q``,
        and where built ``hb_i``, ``hb_q``, ``cfir_i``, ``cfir_q``; always ``out_i``,
        ``out_q`` (the output stream), all raw int64.
    """
    x = np.asarray(x_raw, dtype=np.int64)
    lo, hi = -(1 << (spec.adc_bits - 1)), (1 << (spec.adc_bits - 1)) - 1
    if x.ndim != 1 or (x.size and (x.min() < lo or x.max() > hi)):
        raise ValueError(f"ADC samples must be a 1-D array of {spec.adc_bits}-bit raw "
                         f"integers in [{lo}, {hi}]")
    cos, sin, _ = nco_model(spec.nco, len(x))
    out = {"cos": cos, "msin": -sin}
    i, q = mix(spec, x, cos), mix(spec, x, -sin)
    out.update(mix_i=i, mix_q=q)
    i, q = cic_decimate(spec.cic, i), cic_decimate(spec.cic, q)
    out.update(cic_i=i, cic_q=q)
    if spec.halfband is not None:
        i = FirModel(spec.halfband).process(i)[::2]
        q = FirModel(spec.halfband).process(q)[::2]
        out.update(hb_i=i, hb_q=q)
    if spec.cfir is not None:
        i = FirModel(spec.cfir).process(i)[::spec.cfir_decimate]
        q = FirModel(spec.cfir).process(q)[::spec.cfir_decimate]
        out.update(cfir_i=i, cfir_q=q)
    out.update(out_i=i, out_q=q)
    return out
