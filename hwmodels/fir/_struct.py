"""Structural counts of the FIR datapath that ``bitsmith.rtl.FirFilter`` builds.

This walks the same structure as the generator (terms, CSD shift-add chains, pairwise adder
tree or transposed chain, output rounding point) with the same node widths, and counts
*nontrivial adder bits*: for an adder ``a +- b`` whose result keeps ``w_out`` bits, the
bits ``[pass, min(w_out, max(w_a, w_b)))``, where ``pass`` low bits are plain wires because
one operand is a known zero there (measured with yosys 0.70: a w-bit + w-bit adder maps to
w LUTs and ceil((w+1)/4) CARRY4; ``a + (b << s)`` with 16-bit a, b costs 16 LUTs for every
s, i.e. only the overlapping and sign-extension bits). Register bits count flip-flops that
hold a non-constant bit (yosys removes registers of constant zero bits).

Rules measured against yosys 0.70 ``synth_xilinx`` (see each rule's comment): single-use
unregistered sums merge into one carry-save ``$macc``; multipliers of the broadcast input
with the same odd constant part are merged; a direct-form first-level add of a DSP product
is packed into the DSP48E1 post-adder (and its register into PREG).

The counts are exact properties of the structure; turning them into LUTs is the job of the
calibrated linear model in :mod:`bitsmith.hwmodels.fir`.
"""

from __future__ import annotations

import math
from functools import cache

from ...sim.fir._spec import signed_width_for

#: Feature names, in the order of the calibrated LUT coefficients.
LUT_FEATURES = ("add_bits", "csa_bits", "dsp_sum_bits", "pre_bits", "out_bits", "n_sums")


def _tz(c: int) -> int:
    return (c & -c).bit_length() - 1 if c else 0


def _adder_bits(w_out: int, wa: int, za: int, wb: int, zb: int, sub: bool) -> int:
    # a - b passes only b's zero LSBs through (a's zeros still need -b); a + b passes both
    passthrough = zb if sub else max(za, zb)
    return max(0, min(w_out, max(wa, wb)) - passthrough)


def dsp_blocks(wa: int, wb: int) -> int:
    """DSP48E1 blocks yosys 0.70 ``synth_xilinx`` uses for a signed ``wa x wb`` product.

    yosys' ``mul2dsp`` (signed-only 25x18 primitive) keeps a product in one block when the
    operands fit 25 x 18 in either orientation; a wider operand is cut into a signed top
    slice and unsigned 17-bit (B side) / 24-bit (A side) slices, one block per slice pair.
    HARDWARE_FACTS: 25x18 -> 1, 26x18 -> 2, 32x32 -> 4.
    """
    a, b = max(wa, wb), min(wa, wb)
    if a <= 25 and b <= 18:
        return 1
    na = 1 if a <= 25 else 1 + math.ceil((a - 25) / 24)
    nb = 1 if b <= 18 else 1 + math.ceil((b - 18) / 17)
    return na * nb


class _Sum:
    """A value that is a sum of operands yosys has not yet materialized.

    yosys' ``alumacc`` merges a chain of adds/subs whose intermediate results have no other
    use (no register, single fanout) into one multi-operand ``$macc``, which is mapped as a
    carry-save tree of full adders plus one carry-chain adder; a two-operand sum stays one
    carry-chain adder. ``ops`` holds (width, known-zero LSBs, subtracted) per operand.
    """

    __slots__ = ("ops", "lo", "hi", "z")

    def __init__(self, ops, lo, hi, z):
        self.ops, self.lo, self.hi, self.z = ops, lo, hi, z

    @property
    def w(self) -> int:
        return signed_width_for(self.lo, self.hi)


class _Counter:
    def __init__(self, cap: int | None = None, dsp: bool = False):
        self.dsp = dsp
        self.cap = cap  # wrap limit: nodes keep only bits below it (None: exact widths)
        self.f = dict.fromkeys(LUT_FEATURES, 0)
        self.parts = {}  # part -> features materialized while it was current
        self.part = "adder_tree"
        self.adder_widths = []

    def _bump(self, key, v):
        if self.dsp and key in ("add_bits", "csa_bits") and self.part == "adder_tree":
            # the sums of DSP products: yosys' DSP packing changes their cost (measured)
            key = "dsp_sum_bits"
        self.f[key] += v
        part = self.parts.setdefault(self.part, dict.fromkeys(LUT_FEATURES, 0))
        part[key] += v

    def width(self, lo: int, hi: int) -> int:
        """Bits of a node of range [lo, hi] (capped at the wrap limit)."""
        w = signed_width_for(lo, hi)
        return w if self.cap is None else min(w, self.cap)

    def materialize(self, s: _Sum, w_out: int | None = None) -> _Sum:
        """Cost of computing ``s`` into a wire of ``w_out`` bits; returns it as one operand."""
        w_out = self.width(s.lo, s.hi) if w_out is None else w_out
        ops = s.ops
        k = len(ops)
        if k == 2:
            (wa, za, sa), (wb, zb, sb) = ops
            if sa and not sb:
                (wa, za, sa), (wb, zb, sb) = (wb, zb, sb), (wa, za, sa)
            self._bump("add_bits", _adder_bits(w_out, wa, za, wb, zb, sb))
            self._bump("n_sums", 1)
            self.adder_widths.append(w_out)
        elif k == 1 and ops[0][2]:  # a negation: an adder against zero
            self._bump("add_bits", max(0, w_out - ops[0][1]))
            self._bump("n_sums", 1)
            self.adder_widths.append(w_out)
        elif k >= 3:
            zmin = min(z for _, z, _ in ops)
            bits = max(0, w_out - zmin)
            # carry-save full adders: one per operand bit beyond the final adder's two rows
            # (an operand's known-zero LSBs are no bits; its sign extension is)
            column_bits = sum(max(0, min(w, w_out) - z) for w, z, _ in ops)
            self._bump("csa_bits", max(0, column_bits - 2 * bits))
            self._bump("add_bits", bits)
            self._bump("n_sums", 1)
            self.adder_widths.extend([w_out] * (k - 1))
        return _Sum([(w_out, s.z, False)], s.lo, s.hi, s.z)


def _shifted(s: _Sum, d: int) -> _Sum:
    """``s * 2**d`` (d >= 0 or < 0 by whole known-zero bits): the same wires, moved."""
    if d >= 0:
        return _Sum([(w + d, z + d, sub) for w, z, sub in s.ops], s.lo << d, s.hi << d, s.z + d)
    return _Sum([(w + d, z + d, sub) for w, z, sub in s.ops], s.lo >> -d, s.hi >> -d, s.z + d)


def _neg(s: _Sum) -> _Sum:
    return _Sum([(w, z, not sub) for w, z, sub in s.ops], -s.hi, -s.lo, s.z)


def _add(a: _Sum, b: _Sum) -> _Sum:
    return _Sum(a.ops + b.ops, a.lo + b.lo, a.hi + b.hi, min(a.z, b.z))


@cache
def _csd(c: int) -> tuple[tuple[int, int], ...]:
    from ...rtl import csd_digits

    return tuple(csd_digits(c))


def _csd_product(c: int, u: _Sum, cap: int | None = None) -> _Sum:
    uw = u.w
    ops = [
        (uw + shift if cap is None else min(uw + shift, cap), shift + u.z, sign < 0)
        for shift, sign in _csd(c)
    ]
    lo, hi = min(c * u.lo, c * u.hi), max(c * u.lo, c * u.hi)
    return _Sum(ops, lo, hi, _tz(c) + u.z)


def structure(
    coefs: tuple[int, ...],
    xw: int,
    shift_out: int,
    wo: int,
    rounding: str,
    overflow: str,
    direct: bool,
    fold: bool,
    dsp: bool,
    pipeline: int,
) -> dict:
    """Counts of the datapath the generator builds for these raw coefficients.

    Mirrors ``bitsmith.rtl.FirFilter``: a product's trailing zero bits are not built (they
    are known zeros here), with a wrapping output every node keeps only the accumulator's
    low ``shift_out + wo`` bits (``cap``; products that wrap away entirely are dropped, the
    delay line holds only the input bits some product sees), and the rounding point adds a
    single bit to the kept bits (an incrementer) instead of a constant to the whole sum.

    Parameters
    ----------
    coefs : tuple of int
        Raw coefficients.
    xw : int
        Input word (bits).
    shift_out : int
        Accumulator LSBs dropped at the output rounding point (bits; <= 0 scales up).
    wo : int
        Output word (bits).
    rounding, overflow : str
        ``Rounding`` / ``Overflow`` enum values.
    direct, fold, dsp : bool
        Direct form (else transposed), symmetric folding, ``*`` for DSPs (else CSD).
    pipeline : int
        ``FirSpec.pipeline``.

    Returns
    -------
    dict
        LUT features (:data:`LUT_FEATURES`: bits or counts), ``ff_bits`` (flip-flops),
        ``dsp_blocks``, ``products`` (list of (multiplicand bits, constant bits)) and
        ``adder_widths`` (bits of every two-operand addition, for the energy estimate).
    """
    L = len(coefs)
    xlo, xhi = -(1 << (xw - 1)), (1 << (xw - 1)) - 1
    if fold:
        sym = 1 if all(coefs[k] == coefs[-1 - k] for k in range(L)) else -1
        terms = [(coefs[k], ((k, 1), (L - 1 - k, sym))) for k in range(L // 2) if coefs[k]]
        if L % 2 and coefs[L // 2]:
            terms.append((coefs[L // 2], ((L // 2, 1),)))
    else:
        terms = [(c, ((k, 1),)) for k, c in enumerate(coefs) if c]
    # the wrap limit (FirFilter._wrap_bits): output bits above the rounding point
    cap = None
    if overflow == "wrap" and rounding != "round_to_zero":
        acc_lo = sum(min(c * xlo, c * xhi) * len(t) for c, t in terms)
        acc_hi = sum(max(c * xlo, c * xhi) * len(t) for c, t in terms)
        if shift_out + wo < signed_width_for(acc_lo, acc_hi):
            cap = shift_out + wo
            terms = [(c, t) for c, t in terms if _tz(c) < cap]
    cnt = _Counter(cap, dsp)
    if not terms:  # every product wraps away: the generator outputs a constant 0
        f = cnt.f
        f.update(parts={}, ff_bits=1, dsp_blocks=0, adder_widths=[], products=[])
        return f
    ff = 0
    products = []
    dsps = 0
    reg = pipeline > 0

    def in_bits(c: int) -> int:
        return xw if cap is None else max(1, min(xw, cap - _tz(c)))

    def product(c: int, u: _Sum) -> tuple[_Sum, bool]:
        nonlocal dsps
        z = _tz(c)
        codd = c >> z
        cw = signed_width_for(codd, codd)
        products.append((u.w - u.z, cw))
        lo, hi = min(c * u.lo, c * u.hi), max(c * u.lo, c * u.hi)
        if not dsp:
            return _csd_product(c, u, cnt.cap), False
        if abs(codd) == 1:  # +-2**k: a shift (or a negation)
            return _Sum([(cnt.width(lo, hi), z + u.z, c < 0)], lo, hi, z + u.z), False
        dsps += dsp_blocks(min(u.w, cnt.width(u.lo, u.hi)) - u.z, cw)
        return _Sum([(cnt.width(lo, hi), z + u.z, False)], lo, hi, z + u.z), True

    def reg_product(p: _Sum, in_dsp: bool) -> _Sum:
        nonlocal ff
        cnt.part = "multipliers"
        p = cnt.materialize(p)
        cnt.part = "adder_tree"
        # with DSPs the product register is the DSP48E1's own (MREG/PREG): no fabric FFs
        if not in_dsp:
            ff += p.w - p.z
        return p

    if direct:
        # delay line: stage k holds the input bits the products of taps >= k see
        width = [0] * (L + 1)
        for c, taps in terms:
            for k, _ in taps:
                width[k] = max(width[k], in_bits(c))
        for k in range(L - 1, -1, -1):
            width[k] = max(width[k], width[k + 1])
        ff += sum(width[1:])
        nodes = []
        for c, taps in terms:
            b = in_bits(c)
            x = _Sum([(b, 0, False)], -(1 << (b - 1)), (1 << (b - 1)) - 1, 0)
            if len(taps) == 1:
                u = x
            else:
                lim = None if cap is None else cap - _tz(c)
                lo, hi = (2 * xlo, 2 * xhi) if taps[1][1] > 0 else (xlo - xhi, xhi - xlo)
                uw = signed_width_for(lo, hi) if lim is None else min(signed_width_for(lo, hi), lim)
                u = _Sum([(uw, 0, False)], lo, hi, 0)
                cnt.part = "pre_adders"
                cnt._bump("pre_bits", min(b + 1, uw))
                cnt.part = "adder_tree"
                cnt.adder_widths.append(uw)
            nodes.append(product(c, u))
        in_dsp = [d for _, d in nodes]
        if reg:
            nodes = [reg_product(p, d) for p, d in nodes]
        else:
            nodes = [p for p, _ in nodes]
        if reg:
            ff += 1
        n_levels = max(0, (len(nodes) - 1).bit_length())
        tree_regs = {j for j in range(1, n_levels) if pipeline and j % pipeline == 0}
        level = 0
        while len(nodes) > 1:
            level += 1
            r = level in tree_regs
            nxt = [_add(nodes[j], nodes[j + 1]) for j in range(0, len(nodes) - 1, 2)]
            if level == 1 and not r and dsp:
                # product + product, not registered: yosys packs the add into the DSP48E1
                # post-adder too (no fabric logic; it leaves the DSP as one operand)
                for j in range(len(nxt)):
                    if in_dsp[2 * j] or in_dsp[2 * j + 1]:
                        nxt[j] = _Sum([(cnt.width(nxt[j].lo, nxt[j].hi), nxt[j].z, False)],
                                      nxt[j].lo, nxt[j].hi, nxt[j].z)
            if r:
                for j in range(len(nxt)):
                    if level == 1 and reg and (in_dsp[2 * j] or in_dsp[2 * j + 1]):
                        # registered product + product: yosys packs the add into the DSP48E1
                        # post-adder and its register into PREG (measured: no fabric logic)
                        nxt[j] = _Sum([(cnt.width(nxt[j].lo, nxt[j].hi), nxt[j].z, False)],
                                      nxt[j].lo, nxt[j].hi, nxt[j].z)
                        ff -= nxt[j].w - nxt[j].z
                    else:
                        nxt[j] = cnt.materialize(nxt[j])
                ff += sum(s.w - s.z for s in nxt) + 1
                if len(nodes) % 2:
                    odd = cnt.materialize(nodes[-1])
                    ff += odd.w - odd.z
                    nxt.append(odd)
            elif len(nodes) % 2:
                nxt.append(nodes[-1])
            nodes = nxt
        acc = nodes[0]
    else:
        b = max(in_bits(c) for c, _ in terms)
        x = _Sum([(b, 0, False)], xlo, xhi, 0)
        # yosys merges identical multipliers of the broadcast input: the generator builds
        # x * (c >> tz(c)) and shifts, so terms sharing the odd part share one multiplier
        # (DSP48E1 counts measured exact with this rule, not with per-coefficient sharing)
        def key(c: int) -> int:
            return c >> _tz(c)

        uses = {}
        for c, taps in terms:
            uses[key(c)] = uses.get(key(c), 0) + len(taps)
        prods = {}
        shared = {}
        for c, taps in terms:
            kz = key(c)
            if kz in shared:
                c0, p0 = shared[kz]
                p = _shifted(p0, _tz(c) - _tz(c0))
            else:
                p, in_dsp = product(c, x)
                if reg:
                    p = reg_product(p, in_dsp)
                elif uses[kz] > 1:
                    cnt.part = "multipliers"
                    p = cnt.materialize(p)
                    cnt.part = "adder_tree"
                shared[kz] = (c, p)
            for k, sg in taps:
                prods[k] = p if sg > 0 else _neg(p)
        if reg:
            ff += 1
        acc = None
        for k in range(max(prods), -1, -1):
            if k in prods:
                acc = prods[k] if acc is None else _add(acc, prods[k])
            if k > 0 and acc is not None:
                acc = cnt.materialize(acc)
                ff += acc.w - acc.z
    # the final sum, then the rounding point: a one-bit increment of the kept bits
    acc = cnt.materialize(acc) if len(acc.ops) > 1 or acc.ops[0][2] else acc
    s_kept = max(shift_out, 0)
    lo_r, hi_r = _round_range(acc.lo, acc.hi, shift_out, rounding)
    vw = signed_width_for(lo_r, hi_r)
    saturating = overflow != "wrap"
    if shift_out > 0 and rounding != "truncate":
        cnt.part = "output_rounding"
        kept = max(1, min(vw, acc.w - s_kept if cap is None else wo))
        cnt._bump("out_bits", kept)
        cnt._bump("n_sums", 1)
        cnt.adder_widths.append(kept)
        if rounding == "round_half_even":
            cnt._bump("out_bits", max(0, min(shift_out, acc.w) - 1 - acc.z))
        elif rounding == "round_to_zero":
            cnt._bump("out_bits", max(0, min(shift_out, acc.w) - acc.z))
    y_lo, y_hi = lo_r, hi_r
    if saturating:
        sides = (lo_r < -(1 << (wo - 1))) + (hi_r > (1 << (wo - 1)) - 1)
        if sides:
            cnt.part = "output_rounding"
            cnt._bump("out_bits", sides * max(0, vw - wo + 1) + wo)
        y_lo, y_hi = max(lo_r, -(1 << (wo - 1))), min(hi_r, (1 << (wo - 1)) - 1)
    ff += min(wo, signed_width_for(y_lo, y_hi)) + 1
    f = cnt.f
    f["parts"] = cnt.parts
    f["ff_bits"] = ff
    f["dsp_blocks"] = dsps
    f["adder_widths"] = cnt.adder_widths
    f["products"] = products
    return f


def _round_range(lo: int, hi: int, shift: int, rounding: str) -> tuple[int, int]:
    from ...rtl.fir._generator import round_shift_int
    from ...sim.fixed import Rounding

    r = Rounding(rounding)
    return round_shift_int(lo, shift, r), round_shift_int(hi, shift, r)
