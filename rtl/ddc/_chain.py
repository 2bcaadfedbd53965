"""The composed DDC top: NCO + mixer, CIC, half-band /2, CFIR, valid strobes through the
rate changes. Built from a :class:`~bitsmith.sim.ddc.DdcSpec`; equals
:func:`~bitsmith.sim.ddc.ddc_model` sample for sample."""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ...sim.ddc._chain import DdcSpec
from ..fir._generator import FirFilter
from ._cic import CicDecimator
from ._nco import Nco

__all__ = ["DdcChain", "FrontEnd", "Mixer"]


class Mixer(wiring.Component):
    """``round_half_up(x * lo)`` to ``spec.mixer_bits``, saturated, registered.

    Ports: ``x`` (signed adc_bits), ``lo`` (signed amp_bits), ``en`` (load), ``y``.
    """

    def __init__(self, spec: DdcSpec):
        self.spec = spec
        super().__init__({"x": In(signed(spec.adc_bits)), "lo": In(signed(spec.nco.amp_bits)),
                          "en": In(1), "y": Out(signed(spec.mixer_bits))})

    def elaborate(self, platform):
        m = Module()
        s = self.spec
        shift = s.product_bits - s.mixer_bits
        p = Signal(signed(s.product_bits + 1))
        m.d.comb += p.eq(self.x * self.lo)
        r = Signal(signed(s.product_bits + 1 - shift))
        if shift:
            rounded = Signal(signed(s.product_bits + 1))
            m.d.comb += rounded.eq(p + (1 << (shift - 1)))
            m.d.comb += r.eq(rounded[shift:].as_signed())
            unused = Signal(shift, name="unused_mixer_lsbs", attrs={"keep": 1})
            m.d.comb += unused.eq(rounded[:shift])
        else:
            m.d.comb += r.eq(p)
        B = s.mixer_bits
        hi, lo = Const((1 << (B - 1)) - 1, signed(B)), Const(-(1 << (B - 1)), signed(B))
        with m.If(self.en):  # every Mux operand B bits wide: nothing wider to drop
            m.d.sync += self.y.eq(Mux(r > hi, hi, Mux(r < lo, lo, r[:B].as_signed())))
        return m


class FrontEnd(wiring.Component):
    """NCO and the two mixers alone (the chain's first stage), for per-stage synthesis.

    Ports: ``i`` (ADC samples, valid strobe), ``o`` (``{I, Q}`` at ``mixer_bits`` each, two
    clocks after each valid input).
    """

    def __init__(self, spec: DdcSpec):
        self.spec = spec
        super().__init__({
            "i": In(stream.Signature(signed(spec.adc_bits), always_ready=True)),
            "o": Out(stream.Signature(unsigned(2 * spec.mixer_bits), always_ready=True)),
        })

    def elaborate(self, platform):
        m = Module()
        s = self.spec
        m.submodules.nco = nco = Nco(s.nco)
        x_d = Signal(signed(s.adc_bits))
        v1 = Signal()
        m.d.comb += nco.en.eq(self.i.valid)
        with m.If(self.i.valid):
            m.d.sync += x_d.eq(self.i.payload)
        m.d.sync += [v1.eq(self.i.valid), self.o.valid.eq(v1)]
        ys = []
        for name, lo in (("i", nco.cos), ("q", nco.msin)):
            mixer = Mixer(s)
            m.submodules[f"mix_{name}"] = mixer
            m.d.comb += [mixer.x.eq(x_d), mixer.lo.eq(lo), mixer.en.eq(v1)]
            ys.append(mixer.y)
        m.d.comb += self.o.payload.eq(Cat(ys[1], ys[0]))
        return m


class _Keep2(wiring.Component):
    """Keeps valid samples 0, 2, 4, ... of a stream (decimation by 2)."""

    def __init__(self, width: int):
        super().__init__({"i": In(stream.Signature(signed(width), always_ready=True)),
                          "o": Out(stream.Signature(signed(width), always_ready=True))})

    def elaborate(self, platform):
        m = Module()
        odd = Signal()
        with m.If(self.i.valid):
            m.d.sync += odd.eq(~odd)
        m.d.comb += [self.o.payload.eq(self.i.payload), self.o.valid.eq(self.i.valid & ~odd)]
        return m


class DdcChain(wiring.Component):
    """Digital down-converter top.

    Ports
    -----
    i : In(stream.Signature(signed(spec.adc_bits), always_ready=True))
        ADC samples; ``i.valid`` marks each (gaps are allowed: every stage advances on
        valid samples only).
    o : Out(stream.Signature(unsigned(2 * spec.output_bits), always_ready=True))
        ``{I, Q}`` (I in the high half, each two's complement), one per
        ``spec.decimation`` valid inputs, ``o.valid`` high for one clock.

    Parameters
    ----------
    spec : DdcSpec
    """

    def __init__(self, spec: DdcSpec):
        if not isinstance(spec, DdcSpec):
            raise TypeError(f"spec must be a DdcSpec, not {type(spec).__name__}")
        self.spec = spec
        super().__init__({
            "i": In(stream.Signature(signed(spec.adc_bits), always_ready=True)),
            "o": Out(stream.Signature(unsigned(2 * spec.output_bits), always_ready=True)),
        })

    def elaborate(self, platform):
        m = Module()
        s = self.spec
        m.submodules.nco = nco = Nco(s.nco)
        x_d = Signal(signed(s.adc_bits))
        v1, v2 = Signal(), Signal()
        m.d.comb += nco.en.eq(self.i.valid)
        with m.If(self.i.valid):
            m.d.sync += x_d.eq(self.i.payload)
        m.d.sync += [v1.eq(self.i.valid), v2.eq(v1)]

        paths = []
        for name, lo in (("i", nco.cos), ("q", nco.msin)):
            mixer = Mixer(s)
            m.submodules[f"mix_{name}"] = mixer
            m.d.comb += [mixer.x.eq(x_d), mixer.lo.eq(lo), mixer.en.eq(v1)]
            cic = CicDecimator(s.cic)
            m.submodules[f"cic_{name}"] = cic
            m.d.comb += [cic.i.payload.eq(mixer.y), cic.i.valid.eq(v2)]
            src = cic.o
            for stage, fspec, dec in (("hb", s.halfband, 2), ("cfir", s.cfir, s.cfir_decimate)):
                if fspec is None:
                    continue
                fir = FirFilter(fspec)
                m.submodules[f"{stage}_{name}"] = fir
                m.d.comb += [fir.i.payload.eq(src.payload), fir.i.valid.eq(src.valid)]
                src = fir.o
                if dec == 2:
                    keep = _Keep2(fspec.output_format.word_bits)
                    m.submodules[f"{stage}_{name}_keep"] = keep
                    m.d.comb += [keep.i.payload.eq(src.payload), keep.i.valid.eq(src.valid)]
                    src = keep.o
            paths.append(src)
        (si, sq) = paths
        with m.If(si.valid):
            m.d.sync += self.o.payload.eq(Cat(sq.payload, si.payload))
        m.d.sync += self.o.valid.eq(si.valid)
        return m
