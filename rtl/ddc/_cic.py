"""CIC decimator generator: an Amaranth component built from a :class:`~bitsmith.sim.ddc.CicSpec`.

Each register is exactly ``spec.widths[j]`` bits; the LSBs a register discards are sliced off
its input (the slice of the previous register is then exactly the next width, so no sign
extension is needed: every register holds its value modulo 2^width, and integrators and
combs wrap, as the bit-true model :func:`~bitsmith.sim.ddc.cic_decimate` does).
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ...sim.ddc._cic import CicSpec

__all__ = ["CicDecimator"]


class CicDecimator(wiring.Component):
    """Pruned CIC decimator with a valid strobe in and a decimated valid strobe out.

    Ports
    -----
    i : In(stream.Signature(signed(spec.input_bits), always_ready=True))
        Input samples; the integrators advance on each clock where ``i.valid`` is high.
    o : Out(stream.Signature(signed(spec.output_bits), always_ready=True))
        One output per ``spec.decimation`` valid inputs, ``N + 2`` clocks after the input
        that completes it (``o.valid`` high for one clock; ``o.payload`` holds otherwise).

    Parameters
    ----------
    spec : CicSpec
    """

    def __init__(self, spec: CicSpec):
        if not isinstance(spec, CicSpec):
            raise TypeError(f"spec must be a CicSpec, not {type(spec).__name__}")
        self.spec = spec
        self.latency = spec.n_stages + 2
        super().__init__({
            "i": In(stream.Signature(signed(spec.input_bits), always_ready=True)),
            "o": Out(stream.Signature(signed(spec.output_bits), always_ready=True)),
        })

    def elaborate(self, platform):
        m = Module()
        s = self.spec
        N, R, M = s.n_stages, s.decimation, s.diff_delay
        w, d = s.widths, s.discards

        integ = [Signal(signed(w[j]), name=f"integ{j + 1}") for j in range(N)]
        if d[0]:  # input LSBs the first register discards (marked for lint, not built)
            sink = Signal(d[0], name="unused_input_lsbs", attrs={"keep": 1})
            m.d.comb += sink.eq(self.i.payload[:d[0]])
        with m.If(self.i.valid):
            m.d.sync += integ[0].eq(integ[0] + (self.i.payload >> d[0]))
            for j in range(1, N):
                m.d.sync += integ[j].eq(integ[j] + integ[j - 1][d[j] - d[j - 1]:].as_signed())

        # rate change: the sample that completes a group of R lets the combs take the last
        # integrator one clock later (its register then holds that sample's update)
        count = Signal(range(R))
        take = Signal()
        m.d.sync += take.eq(0)
        with m.If(self.i.valid):
            m.d.sync += count.eq(Mux(count == R - 1, 0, (count + 1)[:len(count)]))
            with m.If(count == R - 1):
                m.d.sync += take.eq(1)

        v, prev_d, strobe = integ[N - 1], d[N - 1], take
        for k in range(N):
            j = N + k
            inp = v[d[j] - prev_d:].as_signed()
            if d[j] > prev_d and k > 0:  # a comb register's LSBs the next one drops
                sink = Signal(d[j] - prev_d, name=f"unused_comb{k}_lsbs", attrs={"keep": 1})
                m.d.comb += sink.eq(v[:d[j] - prev_d])
            dly = [Signal(signed(w[j]), name=f"comb{k + 1}_dly{t + 1}") for t in range(M)]
            out = Signal(signed(w[j]), name=f"comb{k + 1}")
            ov = Signal(name=f"comb{k + 1}_valid")
            m.d.sync += ov.eq(strobe)
            with m.If(strobe):
                m.d.sync += [out.eq(inp - dly[M - 1]), dly[0].eq(inp)]
                m.d.sync += [dly[t].eq(dly[t - 1]) for t in range(1, M)]
            v, prev_d, strobe = out, d[j], ov
        m.d.sync += self.o.valid.eq(strobe)
        drop = s.output_discard - prev_d
        if drop:
            sink = Signal(drop, name="unused_output_lsbs", attrs={"keep": 1})
            m.d.comb += sink.eq(v[:drop])
        with m.If(strobe):
            m.d.sync += self.o.payload.eq(v[drop:].as_signed())
        return m

