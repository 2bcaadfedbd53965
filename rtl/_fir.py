"""FIR filter generator: an Amaranth component built from a :class:`~bitsmith.sim.FirSpec`.

Arithmetic is exactly the spec's (and so the bit-true model's): products and sums are exact
at full precision, the final sum is the ``spec.acc_width``-bit accumulator of
``spec.acc_format``, and the single rounding point requantizes it to ``spec.output_format``
with ``spec.rounding`` and ``spec.overflow``, as :func:`bitsmith.sim.requantize` does.

Internal node widths are the exact two's complement widths of each node's value range over
all inputs (interval arithmetic on ``spec.input_format``'s raw range, sized with
:func:`~bitsmith.sim._firspec.signed_width_for`); the final sum's range is ``spec.acc_range``
and its width is checked to equal ``spec.acc_width``.
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import Module, Mux, Signal, Value, signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..sim._firspec import FirForm, FirSpec, Multiplier, Symmetry, signed_width_for
from ..sim._fixed import Overflow, QFormat, Rounding
from ._csd import csd_digits

__all__ = ["FirFilter", "fir_latency", "round_shift_int"]


def round_shift_int(v: int, shift: int, rounding: Rounding) -> int:
    """Divide ``v`` by ``2**shift`` with ``rounding`` on Python integers (no overflow step).

    This is the rounding the RTL builds; it sizes the saturation logic (which sides of the
    output range the rounded accumulator can cross).

    Parameters
    ----------
    v : int
        Raw value.
    shift : int
        Bits dropped (bits); ``shift <= 0`` scales up exactly.
    rounding : Rounding
        Rounding mode.
    """
    if shift <= 0:
        return v << -shift
    half = 1 << (shift - 1)
    if rounding is Rounding.TRUNCATE:
        return v >> shift
    if rounding is Rounding.ROUND_HALF_UP:
        return (v + half) >> shift
    if rounding is Rounding.ROUND_HALF_EVEN:
        return (v + half - 1 + ((v >> shift) & 1)) >> shift
    if rounding is Rounding.ROUND_TO_ZERO:
        return (v + ((1 << shift) - 1 if v < 0 else 0)) >> shift
    raise ValueError(f"rounding must be a Rounding, not {rounding!r}")


def _tree_registers(spec: FirSpec, n_terms: int) -> frozenset[int]:
    """Adder-tree levels followed by a register (direct form): every ``pipeline`` levels,
    but not after the root, which the output register follows."""
    if spec.form is not FirForm.DIRECT or spec.pipeline == 0:
        return frozenset()
    levels = (n_terms - 1).bit_length()  # ceil(log2(n_terms))
    return frozenset(j for j in range(1, levels) if j % spec.pipeline == 0)


def fir_latency(spec: FirSpec) -> int:
    """Clocks from a valid input sample to its valid output of ``FirFilter(spec)`` (cycles).

    Output register, plus the product register when ``spec.pipeline > 0``, plus the direct
    form's adder-tree registers.
    """
    n_terms = len(FirFilter._plan_terms(spec))
    return 1 + (spec.pipeline > 0) + len(_tree_registers(spec, n_terms))


@dataclass(frozen=True)
class _Term:
    """One constant multiplication: ``coef * sum(sign * x[n - tap])`` (pre-added taps)."""

    coef: int
    taps: tuple[tuple[int, int], ...]  # (tap index k of x[n-k], +1/-1)


def _interval_mul(c: int, lo: int, hi: int) -> tuple[int, int]:
    a, b = c * lo, c * hi
    return (min(a, b), max(a, b))


class FirFilter(wiring.Component):
    """Pipelined constant-coefficient FIR filter.

    Ports
    -----
    i : In(stream.Signature(signed(spec.input_format.word_bits), always_ready=True))
        Input samples (raw integers of ``spec.input_format``). ``i.ready`` is the constant 1:
        the filter takes one sample on every clock where ``i.valid`` is high.
    o : Out(stream.Signature(signed(spec.output_format.word_bits), always_ready=True))
        Output samples (raw integers of ``spec.output_format``), one per input sample,
        ``latency`` clocks after it; the sink must always accept (no back-pressure).
        ``o.payload`` holds its last value while ``o.valid`` is low.

    Valid handling: the tapped delay line (direct form) or the adder chain (transposed form)
    advances only on a valid input sample, so gaps in ``i.valid`` do not disturb the filter
    state. Every other pipeline register runs every clock and a shift register of valid bits
    travels beside the data; the output register loads only when its valid bit is set.
    The synchronous reset clears all registers (the filter state is all zeros after reset,
    as the bit-true model assumes).

    Parameters
    ----------
    spec : FirSpec
        The filter. ``spec.overflow`` of :attr:`Overflow.RAISE` cannot be built (hardware
        has no exception): it is built as :attr:`Overflow.SATURATE`, which agrees with the
        bit-true model on every input where the model does not raise.

    Attributes
    ----------
    spec : FirSpec
    latency : int
        Clocks from a valid input sample to its valid output sample (cycles).
    terms : tuple
        The constant multiplications built (zero coefficients build none); with
        ``fold_symmetric`` each pre-adds a symmetric pair.
    """

    def __init__(self, spec: FirSpec):
        if not isinstance(spec, FirSpec):
            raise TypeError(f"spec must be a FirSpec, not {type(spec).__name__}")
        self.spec = spec
        self.terms = self._plan_terms(spec)
        xfmt = spec.input_format
        self._xrange = (xfmt.raw_min, xfmt.raw_max)
        self._tree_regs = _tree_registers(spec, len(self.terms))
        self.latency = fir_latency(spec)
        super().__init__(
            {
                "i": In(stream.Signature(signed(xfmt.word_bits), always_ready=True)),
                "o": Out(stream.Signature(signed(spec.output_format.word_bits), always_ready=True)),
            }
        )

    @staticmethod
    def _plan_terms(spec: FirSpec) -> tuple[_Term, ...]:
        L, h = spec.taps, spec.coefficients
        if not spec.fold_symmetric:
            return tuple(_Term(c, ((k, 1),)) for k, c in enumerate(h) if c != 0)
        s = 1 if spec.symmetry is Symmetry.EVEN else -1
        terms = [_Term(h[k], ((k, 1), (L - 1 - k, s))) for k in range(L // 2) if h[k] != 0]
        if L % 2 and h[L // 2] != 0:  # middle tap (always 0 for odd symmetry)
            terms.append(_Term(h[L // 2], ((L // 2, 1),)))
        return tuple(terms)

    # -- building blocks ---------------------------------------------------------------
    def _multiply(self, m: Module, x: Value, xrange: tuple[int, int], c: int, name: str):
        """``c * x`` as a signal of its exact width; returns (signal, range)."""
        rng = _interval_mul(c, *xrange)
        p = Signal(signed(signed_width_for(*rng)), name=name)
        if self.spec.multiplier is Multiplier.DSP:
            m.d.comb += p.eq(x * c)
        else:
            expr = None
            for shift, sign in csd_digits(c):
                t = x << shift
                if expr is None:
                    expr = t if sign > 0 else -t
                else:
                    expr = expr + t if sign > 0 else expr - t
            m.d.comb += p.eq(expr)
        return p, rng

    def _requantize(self, m: Module, acc: Signal) -> Signal:
        """Combinational output rounding point: ``acc`` (acc_format) -> output_format."""
        spec = self.spec
        ofmt: QFormat = spec.output_format
        shift = spec.acc_format.frac_bits - ofmt.frac_bits
        if shift <= 0:
            v = acc << -shift
        else:
            half = 1 << (shift - 1)
            r = spec.rounding
            if r is Rounding.TRUNCATE:
                v = acc >> shift
            elif r is Rounding.ROUND_HALF_UP:
                v = (acc + half) >> shift
            elif r is Rounding.ROUND_HALF_EVEN:
                v = (acc + (half - 1) + (acc >> shift)[0]) >> shift
            else:  # ROUND_TO_ZERO: add 2**shift - 1 to negative values, then floor
                v = (acc + Mux(acc[-1], (1 << shift) - 1, 0)) >> shift
        y = Signal(signed(ofmt.word_bits), name="y_rounded")
        wo = ofmt.word_bits
        if spec.overflow is Overflow.WRAP:
            m.d.comb += y.eq(v)  # keeps the low word_bits: two's complement wrap-around
            return y
        lo, hi = (round_shift_int(a, shift, spec.rounding) for a in spec.acc_range)
        # only the sides the rounded accumulator can actually cross get a comparator
        sat = v[:wo].as_signed()
        if lo < ofmt.raw_min:
            sat = Mux(v < ofmt.raw_min, ofmt.raw_min, sat)
        if hi > ofmt.raw_max:
            sat = Mux(v > ofmt.raw_max, ofmt.raw_max, sat)
        m.d.comb += y.eq(sat)
        return y

    def _stage(self, m: Module, value: Value, shape, name: str, register: bool) -> Signal:
        s = Signal(shape, name=name)
        if register:
            m.d.sync += s.eq(value)
        else:
            m.d.comb += s.eq(value)
        return s

    # -- forms -------------------------------------------------------------------------
    def _direct(self, m: Module, valid: Value) -> tuple[Signal, Value]:
        spec = self.spec
        x = self.i.payload
        xw = spec.input_format.word_bits
        used = max(k for t in self.terms for k, _ in t.taps)  # deepest tap that is used
        line = [x]
        for k in range(1, used + 1):
            d = Signal(signed(xw), name=f"x_d{k}")
            with m.If(self.i.valid):
                m.d.sync += d.eq(line[-1])
            line.append(d)
        nodes = []
        for n, t in enumerate(self.terms):
            if len(t.taps) == 1:
                u, urange = line[t.taps[0][0]], self._xrange
            else:
                (a, _), (b, sb) = t.taps
                lo, hi = self._xrange
                urange = (2 * lo, 2 * hi) if sb > 0 else (lo - hi, hi - lo)
                u = Signal(signed(signed_width_for(*urange)), name=f"pre{n}")
                m.d.comb += u.eq(line[a] + line[b] if sb > 0 else line[a] - line[b])
            p, prange = self._multiply(m, u, urange, t.coef, f"prod{n}")
            nodes.append((p, prange))
        reg = spec.pipeline > 0
        if reg:  # product registers
            nodes = [(self._stage(m, p, p.shape(), f"{p.name}_r", True), r) for p, r in nodes]
            v = Signal(name="valid_prod")
            m.d.sync += v.eq(valid)
            valid = v
        level = 0
        while len(nodes) > 1:
            level += 1
            reg = level in self._tree_regs
            nxt = []
            for j in range(0, len(nodes) - 1, 2):
                (a, ra), (b, rb) = nodes[j], nodes[j + 1]
                rng = (ra[0] + rb[0], ra[1] + rb[1])
                s = self._stage(
                    m, a + b, signed(signed_width_for(*rng)), f"sum_l{level}_{j // 2}", reg
                )
                nxt.append((s, rng))
            if len(nodes) % 2:
                a, ra = nodes[-1]
                nxt.append(
                    (self._stage(m, a, a.shape(), f"pass_l{level}_{len(nxt)}", reg), ra)
                    if reg
                    else (a, ra)
                )
            if reg:
                v = Signal(name=f"valid_l{level}")
                m.d.sync += v.eq(valid)
                valid = v
            nodes = nxt
        return nodes[0], valid

    def _transposed(self, m: Module, valid: Value) -> tuple[Signal, Value]:
        spec = self.spec
        h, L = spec.coefficients, spec.taps
        x = self.i.payload
        # one multiplier per term; with folding a pair's two taps share it (broadcast input)
        prods = {}  # tap -> (product, range, sign)
        for n, t in enumerate(self.terms):
            p, prange = self._multiply(m, x, self._xrange, t.coef, f"prod{n}")
            if spec.pipeline > 0:
                p = self._stage(m, p, p.shape(), f"prod{n}_r", True)
            for k, sgn in t.taps:
                prods[k] = (p, prange, sgn)
        if spec.pipeline > 0:
            v = Signal(name="valid_prod")
            m.d.sync += v.eq(valid)
            valid = v
        last = max(k for k in range(L) if h[k] != 0)

        def add(acc, racc, k):
            if k not in prods:
                return acc, racc
            p, (lo, hi), sgn = prods[k]
            rng = (lo, hi) if sgn > 0 else (-hi, -lo)
            if acc is None:
                return (p if sgn > 0 else -p), rng
            return (acc + p if sgn > 0 else acc - p), (racc[0] + rng[0], racc[1] + rng[1])

        # r_k holds sum_{j >= k} h[j] x[n-1-(j-k)]; it advances only on valid samples
        chain, rchain = None, None
        for k in range(last, 0, -1):
            expr, rng = add(chain, rchain, k)
            r = Signal(signed(signed_width_for(*rng)), name=f"chain{k}")
            with m.If(valid):
                m.d.sync += r.eq(expr)
            chain, rchain = r, rng
        expr, rng = add(chain, rchain, 0)
        acc = Signal(signed(signed_width_for(*rng)), name="sum")
        m.d.comb += acc.eq(expr)
        return (acc, rng), valid

    def elaborate(self, platform):
        """Build the datapath (Amaranth elaboration hook)."""
        spec = self.spec
        m = Module()
        if spec.form is FirForm.DIRECT:
            (total, rng), valid = self._direct(m, self.i.valid)
        else:
            (total, rng), valid = self._transposed(m, self.i.valid)
        if rng != spec.acc_range:  # construction invariant, cannot happen for a valid spec
            raise AssertionError(f"final sum range {rng} differs from spec {spec.acc_range}")
        acc = Signal(signed(spec.acc_width), name="acc")
        m.d.comb += acc.eq(total)
        y = self._requantize(m, acc)
        with m.If(valid):
            m.d.sync += self.o.payload.eq(y)
        m.d.sync += self.o.valid.eq(valid)
        return m
