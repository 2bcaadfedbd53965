"""FIR filter generator: an Amaranth component built from a :class:`~bitsmith.sim.FirSpec`.

Arithmetic is exactly the spec's (and so the bit-true model's): products and sums are exact
at full precision, the final sum is the ``spec.acc_width``-bit accumulator of
``spec.acc_format``, and the single rounding point requantizes it to ``spec.output_format``
with ``spec.rounding`` and ``spec.overflow``, as :func:`bitsmith.sim.requantize` does.

Internal node widths are the exact two's complement widths of each node's value range over
all inputs (interval arithmetic on ``spec.input_format``'s raw range, sized with
:func:`~bitsmith.sim.fir._spec.signed_width_for`); the final sum's range is ``spec.acc_range``
and its width is checked to equal ``spec.acc_width``.
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import Const, Module, Mux, ResetSignal, Signal, Value, signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ...sim.fir._spec import FirForm, FirSpec, Multiplier, Symmetry, signed_width_for
from ...sim.fixed import Overflow, QFormat, Rounding
from .._csd import csd_digits

__all__ = ["RESET_POLICIES", "FirFilter", "fir_latency", "round_shift_int"]

#: What the synchronous reset clears: ``all`` registers, or the ``control`` path only
#: (valid bits and handshake; data registers start from their power-up value 0).
RESET_POLICIES = ("control", "all")


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


def _trailing_zeros(c: int) -> int:
    return (c & -c).bit_length() - 1


@dataclass(frozen=True)
class _Node:
    """A datapath value ``sig * 2**shift`` whose range is [lo, hi] (raw integers).

    The ``shift`` constant zero LSBs are not built (a product by an even coefficient, or a sum
    of such products, has them): no wire or register carries a bit that is always 0, and
    ``sig`` is exactly ``signed_width_for(lo >> shift, hi >> shift)`` wide.
    """

    sig: Value
    shift: int
    lo: int
    hi: int

    @staticmethod
    def width(lo: int, hi: int, shift: int) -> int:
        return signed_width_for(lo >> shift, hi >> shift)

    def aligned(self, shift: int) -> Value:
        """``sig`` scaled to a smaller ``shift`` (appends zero LSBs)."""
        return self.sig << (self.shift - shift)


class FirFilter(wiring.Component):
    """Pipelined constant-coefficient FIR filter.

    Ports
    -----
    i : In(stream.Signature(signed(spec.input_format.word_bits), always_ready=not backpressure))
        Input samples (raw integers of ``spec.input_format``). Without ``backpressure``
        ``i.ready`` is the constant 1: the filter takes one sample on every clock where
        ``i.valid`` is high. With it, a sample is taken where ``i.valid`` and ``i.ready``
        are both high; ``i.ready`` is a register output gated by reset (no combinational
        path from ``o.ready``), low while reset is asserted.
    o : Out(stream.Signature(signed(spec.output_format.word_bits), always_ready=not backpressure))
        Output samples (raw integers of ``spec.output_format``), one per input sample,
        ``latency`` clocks after it when the sink accepts. Without ``backpressure`` the sink
        must always accept; with it, the sample is held (``o.valid`` high, ``o.payload``
        stable) until ``o.ready``. ``o.payload`` holds its last value while ``o.valid`` is low.

    Valid handling: the tapped delay line (direct form) or the adder chain (transposed form)
    advances only on an accepted input sample, so gaps in ``i.valid`` do not disturb the
    filter state. Every other pipeline register runs on every clock the pipeline is enabled
    and a shift register of valid bits travels beside the data; the output register loads
    only when its valid bit is set.

    Back-pressure: a two-entry output skid buffer (the output register and one spare).
    The whole pipeline advances on a clock enable ``ce = !skid_valid``, a register, which is
    also ``i.ready`` (outside reset): when the sink stalls with the output register full,
    the sample arriving on that clock goes to the spare register and the pipeline holds from
    the next clock until the sink takes the output. No sample is lost or duplicated; with
    ``o.ready`` always high the filter takes one sample per clock at the same ``latency``.

    Reset (synchronous, active high, ``reset``): ``"all"`` clears every register (the
    filter state is zero after any reset, as the bit-true model assumes); ``"control"``
    clears only the valid bits and the handshake registers, and data registers start from
    their power-up (initial) value 0, so the model holds from power-up; a reset in the
    middle of a stream then keeps the samples already in the delay line. Inputs are ignored
    while reset is asserted (``"control"``; with back-pressure ``i.ready`` is low).

    Parameters
    ----------
    spec : FirSpec
        The filter. ``spec.overflow`` of :attr:`Overflow.RAISE` cannot be built (hardware
        has no exception): it is built as :attr:`Overflow.SATURATE`, which agrees with the
        bit-true model on every input where the model does not raise.
    backpressure : bool
        Give ``i`` and ``o`` ready signals and stall on ``o.ready`` low (skid buffer).
    reset : {"all", "control"}
        What the synchronous reset clears (see above).

    Attributes
    ----------
    spec : FirSpec
    latency : int
        Clocks from a valid input sample to its valid output sample (cycles).
    terms : tuple
        The constant multiplications built (zero coefficients build none); with
        ``fold_symmetric`` each pre-adds a symmetric pair.
    """

    def __init__(self, spec: FirSpec, *, backpressure: bool = False, reset: str = "all"):
        if not isinstance(spec, FirSpec):
            raise TypeError(f"spec must be a FirSpec, not {type(spec).__name__}")
        if reset not in RESET_POLICIES:
            raise ValueError(f"reset must be one of {RESET_POLICIES}, not {reset!r}")
        self.spec = spec
        self.backpressure = bool(backpressure)
        self.reset = reset
        self._ce = None  # pipeline clock enable (back-pressure), set by elaborate
        self._accept = None  # an input sample is taken this clock, set by elaborate
        self.terms = self._plan_terms(spec)
        self._cap = self._wrap_bits(spec)
        xfmt = spec.input_format
        self._xrange = (xfmt.raw_min, xfmt.raw_max)
        self._tree_regs = _tree_registers(spec, len(self.terms))
        self.latency = fir_latency(spec)
        super().__init__(
            {
                "i": In(stream.Signature(signed(xfmt.word_bits),
                                         always_ready=not self.backpressure)),
                "o": Out(stream.Signature(signed(spec.output_format.word_bits),
                                          always_ready=not self.backpressure)),
            }
        )

    @staticmethod
    def _wrap_bits(spec: FirSpec) -> int | None:
        """LSBs of the accumulator the output depends on, when that is not all of them.

        With :attr:`Overflow.WRAP` the output keeps ``word_bits`` bits above the rounding
        point and rounding only carries upward, so only the accumulator's low
        ``shift + word_bits`` bits matter and every node is built modulo that power of two
        (no logic for bits that wrap away). Round-to-zero needs the true sign: no limit.
        """
        shift = spec.acc_format.frac_bits - spec.output_format.frac_bits
        if spec.overflow is not Overflow.WRAP or (
            spec.rounding is Rounding.ROUND_TO_ZERO and shift > 0
        ):
            return None
        cap = shift + spec.output_format.word_bits
        return cap if cap < spec.acc_width else None

    @staticmethod
    def _plan_terms(spec: FirSpec) -> tuple[_Term, ...]:
        L, h = spec.taps, spec.coefficients
        if not spec.fold_symmetric:
            terms = [_Term(c, ((k, 1),)) for k, c in enumerate(h) if c != 0]
        else:
            s = 1 if spec.symmetry is Symmetry.EVEN else -1
            terms = [_Term(h[k], ((k, 1), (L - 1 - k, s))) for k in range(L // 2) if h[k] != 0]
            if L % 2 and h[L // 2] != 0:  # middle tap (always 0 for odd symmetry)
                terms.append(_Term(h[L // 2], ((L // 2, 1),)))
        cap = FirFilter._wrap_bits(spec)
        if cap is not None:  # a product that is 0 modulo 2**cap wraps away entirely
            terms = [t for t in terms if _trailing_zeros(t.coef) < cap]
        return tuple(terms)

    def _limit(self, shift: int) -> int | None:
        """Most bits a node at ``shift`` needs (None: its exact width)."""
        return None if self._cap is None else self._cap - shift

    # -- building blocks ---------------------------------------------------------------
    def _data_signal(self, shape, name: str) -> Signal:
        """A datapath register: not reset under the ``control`` policy (init value 0)."""
        return Signal(shape, name=name, reset_less=self.reset == "control")

    def _sync(self, m: Module, stmt) -> None:
        """A pipeline register update: only on clocks the pipeline is enabled."""
        if self._ce is None:
            m.d.sync += stmt
        else:
            with m.If(self._ce):
                m.d.sync += stmt

    def _signal(
        self,
        m: Module,
        value: Value,
        lo: int,
        hi: int,
        shift: int,
        name: str,
        register: bool = False,
        limit: int | None = None,
    ) -> _Node:
        """A node holding ``value`` at exactly its range's width (registered or not).

        The width is at most ``limit`` bits (default :meth:`_limit`): the node then holds
        its value modulo ``2**(shift + limit)``, all that the output depends on.
        """
        w = _Node.width(lo, hi, shift)
        limit = self._limit(shift) if limit is None else limit
        shape = signed(w if limit is None else max(1, min(w, limit)))
        # the value may be wider than s (Amaranth grows every sum by a bit); its range fits
        if register:
            s = self._data_signal(shape, name)
            self._sync(m, s.eq(value))
        else:
            s = Signal(shape, name=name)
            m.d.comb += s.eq(value)
        return _Node(s, shift, lo, hi)

    def _operand(self, u: _Node, limit: int | None) -> Value:
        """``u.sig`` cut to ``limit`` bits (the bits a wrapping result can see)."""
        if limit is None or limit >= len(u.sig):
            return u.sig
        return u.sig[:limit].as_signed()

    def _multiply(self, m: Module, u: _Node, c: int, name: str) -> _Node:
        """``c * u`` (u unshifted); the coefficient's trailing zeros become the node's shift.

        A CSD multiplier adds one shifted copy of ``u`` per digit, each partial sum a node
        of its own exact width (no adder is wider than the value it can produce).
        """
        z = _trailing_zeros(c)
        limit = self._limit(u.shift + z)
        x = _Node(self._operand(u, limit), 0, u.lo, u.hi)
        lo, hi = _interval_mul(c, u.lo, u.hi)
        if self.spec.multiplier is Multiplier.DSP:
            k = c >> z
            if limit is not None and signed_width_for(k, k) > limit:
                # the constant modulo 2**limit: the product's kept bits are the same
                k = ((k + (1 << (limit - 1))) % (1 << limit)) - (1 << (limit - 1))
            return self._signal(m, x.sig * k, lo, hi, u.shift + z, name, limit=limit)
        digits = csd_digits(c >> z)  # the lowest digit has shift 0: c >> z is odd
        (_, sign), rest = digits[0], digits[1:]
        part = x if sign > 0 else self._signal(m, -x.sig, -x.hi, -x.lo, 0, f"{name}_n", limit=limit)
        if limit is not None:  # digits at or above the limit vanish modulo 2**limit
            rest = [(k, sg) for k, sg in rest if k < limit]
        coef = digits[0][1]
        for i, (shift, sign) in enumerate(rest):
            t = _Node(x.sig, shift, x.lo << shift, x.hi << shift)
            last = i == len(rest) - 1
            coef += sign << shift
            # the partial sum is coef * x: its range is that product's, tighter than the
            # interval sum of its (correlated) digit terms
            part = self._add(
                m,
                part,
                t,
                sign,
                name if last else f"{name}_p{i}",
                limit=limit,
                rng=_interval_mul(coef, x.lo, x.hi),
            )
        if part.sig is x.sig:  # c = 2**z: the product is the (shifted) operand itself
            part = self._signal(m, x.sig, x.lo, x.hi, 0, name, limit=limit)
        return _Node(part.sig, u.shift + z, lo, hi)

    def _add(
        self,
        m: Module,
        a: _Node,
        b: _Node,
        sign: int,
        name: str,
        register=False,
        limit: int | None = None,
        rng: tuple[int, int] | None = None,
    ) -> _Node:
        """``a + sign * b`` at the smaller of the two shifts.

        Its range is the interval sum (exact for independent operands) unless ``rng``.
        """
        shift = min(a.shift, b.shift)
        if sign > 0:
            expr, lo, hi = a.aligned(shift) + b.aligned(shift), a.lo + b.lo, a.hi + b.hi
        else:
            expr, lo, hi = a.aligned(shift) - b.aligned(shift), a.lo - b.hi, a.hi - b.lo
        if rng is not None:
            lo, hi = rng
        return self._signal(m, expr, lo, hi, shift, name, register, limit)

    def _input(self, m: Module, width: int) -> Value | None:
        """The input sample cut to the ``width`` LSBs a wrapping output depends on."""
        x = self.i.payload
        if width >= len(x):
            return x
        sink = Signal(len(x) - width, name="unused_i_payload_msbs", attrs={"keep": 1})
        m.d.comb += sink.eq(x[width:])
        return x[:width].as_signed() if width else None

    def _input_bits(self, terms) -> int:
        """Input bits the products of ``terms`` can see (all of them unless wrapping)."""
        xw = len(self.i.payload)
        if self._cap is None:
            return xw
        return min(xw, max(self._cap - _trailing_zeros(t.coef) for t in terms))

    def _requantize(self, m: Module, acc: _Node) -> _Node:
        """Combinational output rounding point: ``acc`` (acc_format) -> output_format.

        Rounding adds one bit ``r`` to the kept bits ``acc >> shift`` (never a constant to
        the whole word, whose dropped LSBs would be computed for nothing): half-up adds the
        first dropped bit, half-even adds it when the rest is nonzero or the kept LSB is odd,
        to-zero adds 1 to negative values with any dropped bit set. Truncation and half-up
        ignore the lowest dropped bits; they go to the ``unused_acc_lsbs`` wire, which marks
        them as deliberately unused for lint and readers (and is removed by synthesis).
        """
        spec = self.spec
        ofmt: QFormat = spec.output_format
        s = spec.acc_format.frac_bits - ofmt.frac_bits - acc.shift  # bits of acc.sig dropped
        a = acc.sig
        if s <= 0:
            v = a << -s
        else:

            def bit(i):  # bit i of acc.sig, sign-extended
                return a[min(i, len(a) - 1)]

            kept = a >> s  # floor; the sign bit alone when every bit of `a` is dropped
            r = spec.rounding
            unused = None  # dropped bits that cannot change the result
            if r is Rounding.TRUNCATE:
                v, unused = kept, a[: min(s, len(a) - 1)]
            elif r is Rounding.ROUND_HALF_UP:
                v, unused = kept + bit(s - 1), a[: min(s - 1, len(a) - 1)]
            elif r is Rounding.ROUND_HALF_EVEN:
                rest = a[: min(s - 1, len(a))].any() if s > 1 else 0
                v = kept + (bit(s - 1) & (rest | bit(s)))
            else:  # ROUND_TO_ZERO: negative values with dropped bits set move up by one
                wo = ofmt.word_bits
                if spec.overflow is Overflow.WRAP and len(kept) > wo:
                    # only the sign and the bits that do not wrap away are read
                    between = Signal(len(kept) - wo - 1, name="unused_acc_msbs", attrs={"keep": 1})
                    if len(between):
                        m.d.comb += between.eq(kept[wo:-1])
                    kept = kept[:wo].as_signed()
                v = kept + (a[-1] & a[: min(s, len(a))].any())
            if unused is not None and len(unused):
                sink = Signal(len(unused), name="unused_acc_lsbs", attrs={"keep": 1})
                m.d.comb += sink.eq(unused)
        wo = ofmt.word_bits
        shift = spec.acc_format.frac_bits - ofmt.frac_bits
        lo, hi = (round_shift_int(x, shift, spec.rounding) for x in spec.acc_range)
        if spec.overflow is Overflow.WRAP:
            # the low word_bits: two's complement wrap-around
            return self._signal(m, v, lo, hi, 0, "y_rounded", limit=wo)
        v = self._signal(m, v, lo, hi, 0, "y_full")
        # only the sides the rounded accumulator can actually cross get a comparator
        sat = v.sig[:wo].as_signed()
        if lo < ofmt.raw_min:
            sat = Mux(v.sig < ofmt.raw_min, ofmt.raw_min, sat)
        if hi > ofmt.raw_max:
            sat = Mux(v.sig > ofmt.raw_max, ofmt.raw_max, sat)
        lo, hi = max(lo, ofmt.raw_min), min(hi, ofmt.raw_max)
        return self._signal(m, sat, lo, hi, 0, "y_rounded", limit=wo)

    # -- forms -------------------------------------------------------------------------
    def _direct(self, m: Module, valid: Value) -> tuple[_Node, Value]:
        spec = self.spec
        lo, hi = self._xrange
        used = max(k for t in self.terms for k, _ in t.taps)  # deepest tap that is used
        # bits of each delay-line stage: what its products and the next stage need
        width = [0] * (used + 2)
        for t in self.terms:
            for k, _ in t.taps:
                width[k] = max(width[k], self._input_bits([t]))
        for k in range(used, -1, -1):
            width[k] = max(width[k], width[k + 1])
        line = [self._input(m, width[0])]
        for k in range(1, used + 1):
            d = self._data_signal(signed(width[k]), f"x_d{k}")
            with m.If(self._accept):  # implies the clock enable
                m.d.sync += d.eq(line[-1])
            line.append(d)
        nodes = []
        for n, t in enumerate(self.terms):
            if len(t.taps) == 1:
                u = _Node(line[t.taps[0][0]], 0, lo, hi)
            else:
                (a, _), (b, sb) = t.taps
                u = self._add(
                    m,
                    _Node(line[a], 0, lo, hi),
                    _Node(line[b], 0, lo, hi),
                    sb,
                    f"pre{n}",
                    limit=self._limit(_trailing_zeros(t.coef)),
                )
            nodes.append(self._multiply(m, u, t.coef, f"prod{n}"))
        if spec.pipeline > 0:  # product registers
            nodes = [
                self._signal(m, p.sig, p.lo, p.hi, p.shift, f"{p.sig.name}_r", True) for p in nodes
            ]
            v = Signal(name="valid_prod")
            self._sync(m, v.eq(valid))
            valid = v
        level = 0
        while len(nodes) > 1:
            level += 1
            reg = level in self._tree_regs
            nxt = [
                self._add(m, nodes[j], nodes[j + 1], 1, f"sum_l{level}_{j // 2}", reg)
                for j in range(0, len(nodes) - 1, 2)
            ]
            if len(nodes) % 2:
                p = nodes[-1]
                nxt.append(
                    self._signal(m, p.sig, p.lo, p.hi, p.shift, f"pass_l{level}_{len(nxt)}", True)
                    if reg
                    else p
                )
            if reg:
                v = Signal(name=f"valid_l{level}")
                self._sync(m, v.eq(valid))
                valid = v
            nodes = nxt
        return nodes[0], valid

    def _transposed(self, m: Module, valid: Value) -> tuple[_Node, Value]:
        spec = self.spec
        x = _Node(self._input(m, self._input_bits(self.terms)), 0, *self._xrange)
        # one multiplier per term; with folding a pair's two taps share it (broadcast input)
        prods = {}  # tap -> (product, sign)
        for n, t in enumerate(self.terms):
            p = self._multiply(m, x, t.coef, f"prod{n}")
            if spec.pipeline > 0:
                p = self._signal(m, p.sig, p.lo, p.hi, p.shift, f"prod{n}_r", True)
            for k, sgn in t.taps:
                prods[k] = (p, sgn)
        if spec.pipeline > 0:
            v = Signal(name="valid_prod")
            self._sync(m, v.eq(valid))
            valid = v
        last = max(prods)

        def add(acc: _Node | None, k: int, name: str, register: bool) -> _Node | None:
            if k not in prods:
                if acc is None or not register:
                    return acc
                return self._signal(m, acc.sig, acc.lo, acc.hi, acc.shift, name, register)
            p, sgn = prods[k]
            if acc is None:
                if sgn > 0:
                    return self._signal(m, p.sig, p.lo, p.hi, p.shift, name, register)
                return self._signal(m, -p.sig, -p.hi, -p.lo, p.shift, name, register)
            return self._add(m, acc, p, sgn, name, register)

        # r_k holds sum_{j >= k} h[j] x[n-1-(j-k)]; it advances only on valid samples
        chain = None
        for k in range(last, 0, -1):
            with m.If(valid):
                chain = add(chain, k, f"chain{k}", True)
        return add(chain, 0, "sum", False), valid

    def elaborate(self, platform):
        """Build the datapath (Amaranth elaboration hook)."""
        spec = self.spec
        m = Module()
        if self.backpressure:
            skid_valid = Signal(name="skid_valid")
            self._ce = ~skid_valid
            m.d.comb += self.i.ready.eq(self._ce & ~ResetSignal())
            self._accept = self.i.valid & self.i.ready
        else:
            self._ce = None
            self._accept = (self.i.valid & ~ResetSignal() if self.reset == "control"
                            else self.i.valid)
        valid = self._accept
        if not self.terms:  # every product wraps away (see _wrap_bits): the output is 0
            self._input(m, 0)
            y = Const(0, signed(spec.output_format.word_bits))
            if spec.pipeline > 0:
                v = Signal(name="valid_prod")
                self._sync(m, v.eq(valid))
                valid = v
        else:
            if spec.form is FirForm.DIRECT:
                acc, valid = self._direct(m, valid)
            else:
                acc, valid = self._transposed(m, valid)
            if self._cap is None:  # construction invariant (a wrapping build may drop terms)
                if (acc.lo, acc.hi) != spec.acc_range:
                    raise AssertionError(
                        f"final sum range {(acc.lo, acc.hi)} differs from spec {spec.acc_range}"
                    )
                if _Node.width(acc.lo, acc.hi, 0) != spec.acc_width:
                    raise AssertionError(f"accumulator width differs from spec {spec.acc_width}")
            acc = self._signal(m, acc.sig, acc.lo, acc.hi, acc.shift, "acc")
            y = self._requantize(m, acc).sig
        if self.backpressure:
            self._skid_output(m, y, valid, skid_valid)
        elif not self.terms and self.reset == "all":
            m.d.comb += self.o.payload.eq(0)
            m.d.sync += self.o.valid.eq(valid)
        else:
            out = self._output_register(m)
            with m.If(valid):
                m.d.sync += out.eq(y)
            m.d.sync += self.o.valid.eq(valid)
        return m

    def _output_register(self, m: Module) -> Value:
        """The output data register: the port itself, or a reset-less register driving it."""
        if self.reset == "all":
            return self.o.payload
        out = self._data_signal(signed(self.spec.output_format.word_bits), "y_out")
        m.d.comb += self.o.payload.eq(out)
        return out

    def _skid_output(self, m: Module, y: Value, valid: Value, skid_valid: Signal) -> None:
        """Output register plus one spare (skid) register; ``skid_valid`` stalls the pipeline.

        ``valid`` (the last pipeline stage) only counts on enabled clocks, where the spare is
        empty; when the sink cannot take it (output full, ``o.ready`` low) it goes to the
        spare, and the spare moves to the output as soon as the output frees up.
        """
        out = self._output_register(m)
        skid = self._data_signal(signed(self.spec.output_format.word_bits), "skid_data")
        with m.If(~self.o.valid | self.o.ready):  # the output register can load
            with m.If(skid_valid):
                m.d.sync += [out.eq(skid), self.o.valid.eq(1), skid_valid.eq(0)]
            with m.Else():  # enabled clock: the last stage's sample, if any, goes out
                with m.If(valid):
                    m.d.sync += out.eq(y)
                m.d.sync += self.o.valid.eq(valid)
        with m.Elif(valid & ~skid_valid):
            m.d.sync += [skid.eq(y), skid_valid.eq(1)]
