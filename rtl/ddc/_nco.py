"""NCO and complex mixer generators (Amaranth), built from the DDC specs.

:class:`Nco` is the phase accumulator, optional LFSR dither and quarter-wave table of
:class:`~bitsmith.sim.ddc.NcoSpec`, bit for bit :func:`~bitsmith.sim.ddc.nco_model`.
:class:`NcoStream` wraps it for the batch runner: a valid input strobe (its payload is
ignored) steps it, the output payload is ``{cos, sin}``.
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ...sim.ddc._nco import LFSR_MASK, LFSR_SEED, NcoSpec, nco_table

__all__ = ["Nco", "NcoStream"]


class Nco(wiring.Component):
    """Phase accumulator and quarter-wave sine/cosine table.

    Ports
    -----
    en : In(1)
        Step: on each clock where ``en`` is high the current phase's ``cos``/``sin``
        (``msin`` = -sin) are registered and the accumulator advances by ``spec.fcw``.
    cos, sin, msin : Out(signed(spec.amp_bits))
        Registered table outputs of the last stepped phase (one clock after ``en``).

    Parameters
    ----------
    spec : NcoSpec
    """

    def __init__(self, spec: NcoSpec):
        if not isinstance(spec, NcoSpec):
            raise TypeError(f"spec must be an NcoSpec, not {type(spec).__name__}")
        self.spec = spec
        W = spec.amp_bits
        super().__init__({"en": In(1), "cos": Out(signed(W)), "sin": Out(signed(W)),
                          "msin": Out(signed(W))})

    def _lookup(self, m: Module, p, name: str):
        s = self.spec
        A = s.addr_bits
        table = Array(Const(v, unsigned(s.amp_bits - 1)) for v in nco_table(s))
        a = Signal(A, name=f"{name}_addr")
        m.d.comb += a.eq(Mux(p[A], ~p[:A], p[:A]))
        t = Signal(s.amp_bits - 1, name=f"{name}_mag")  # a magnitude: no sign bit
        m.d.comb += t.eq(table[a])
        return t, p[A + 1]

    def elaborate(self, platform):
        m = Module()
        s = self.spec
        P, A = s.table_phase_bits, s.addr_bits
        phase = Signal(s.phase_bits)
        with m.If(self.en):
            m.d.sync += phase.eq(phase + s.fcw)
        ph = Signal(s.phase_bits)
        if s.dither_bits:
            lfsr = Signal(32, init=LFSR_SEED)
            nxt = Signal(32)
            m.d.comb += nxt.eq((lfsr >> 1) ^ Mux(lfsr[0], LFSR_MASK, 0))
            with m.If(self.en):
                m.d.sync += lfsr.eq(nxt)
            m.d.comb += ph.eq(phase + lfsr[:s.dither_bits])
        else:
            m.d.comb += ph.eq(phase)
        p = Signal(P)
        m.d.comb += p.eq(ph[s.truncated_bits:])
        pc = Signal(P)
        m.d.comb += pc.eq(p + (1 << A))
        tc, nc = self._lookup(m, pc, "cos")
        ts, ns = self._lookup(m, p, "sin")
        # table values are at most 2^(amp_bits-1) - 1: -sin never overflows, so -sin is the
        # sine's magnitude with the other sign (no third table)
        with m.If(self.en):
            # -t of an unsigned (amp_bits-1)-bit t is exactly amp_bits wide: no dropped bits
            m.d.sync += [self.cos.eq(Mux(nc, -tc, tc)), self.sin.eq(Mux(ns, -ts, ts)),
                         self.msin.eq(Mux(ns, ts, -ts))]
        return m


class NcoStream(wiring.Component):
    """:class:`Nco` behind a valid strobe, for the batch runner.

    Ports
    -----
    i : In(stream.Signature(1, always_ready=True))
        ``i.valid`` steps the NCO (``i.payload`` is not used).
    o : Out(stream.Signature(unsigned(2 * spec.amp_bits), always_ready=True))
        ``{cos, sin}`` (cos in the high half), one clock after each step.
    """

    def __init__(self, spec: NcoSpec):
        self.spec = spec
        super().__init__({
            "i": In(stream.Signature(1, always_ready=True)),
            "o": Out(stream.Signature(unsigned(2 * spec.amp_bits), always_ready=True)),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.nco = nco = Nco(self.spec)
        m.d.comb += [nco.en.eq(self.i.valid), self.o.payload.eq(Cat(nco.sin, nco.cos))]
        sink = Signal(name="unused_i_payload", attrs={"keep": 1})
        m.d.comb += sink.eq(self.i.payload)
        m.d.sync += self.o.valid.eq(self.i.valid)
        return m
