"""Structural counts of the FIR datapath that ``bitsmith.rtl.FirFilter`` builds.

This walks the same structure as the generator (terms, CSD shift-add chains, pairwise adder
tree or transposed chain, output rounding point) with the same node widths, and counts
*nontrivial adder bits*: for an adder ``a +- b`` whose result keeps ``w_out`` bits, the
bits ``[pass, min(w_out, max(w_a, w_b)))``, where ``pass`` low bits are plain wires because
one operand is a known zero there (measured with yosys 0.70: a w-bit + w-bit adder maps to
w LUTs and ceil((w+1)/4) CARRY4; ``a + (b << s)`` with 16-bit a, b costs 16 LUTs for every
s, i.e. only the overlapping and sign-extension bits). Register bits count flip-flops that
hold a non-constant bit (yosys removes registers of constant zero bits).

The counts are exact properties of the structure; turning them into LUTs is the job of the
calibrated linear model in :mod:`bitsmith.hwmodels.fir`.
"""

from __future__ import annotations

import math

from ..sim._firspec import signed_width_for

#: Feature names, in the order of the calibrated LUT coefficients.
LUT_FEATURES = ("add_bits", "csa_bits", "pre_bits", "sat_bits", "n_sums")


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
    def __init__(self):
        self.f = dict.fromkeys(LUT_FEATURES, 0)
        self.parts = {}  # part -> features materialized while it was current
        self.part = "adder_tree"
        self.adder_widths = []

    def _bump(self, key, v):
        self.f[key] += v
        part = self.parts.setdefault(self.part, dict.fromkeys(LUT_FEATURES, 0))
        part[key] += v

    def materialize(self, s: _Sum, w_out: int | None = None) -> _Sum:
        """Cost of computing ``s`` into a wire of ``w_out`` bits; returns it as one operand."""
        w_out = s.w if w_out is None else w_out
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
            self._bump("csa_bits", (k - 2) * bits)
            self._bump("add_bits", bits)
            self._bump("n_sums", 1)
            self.adder_widths.extend([w_out] * (k - 1))
        return _Sum([(w_out, s.z, False)], s.lo, s.hi, s.z)


def _neg(s: _Sum) -> _Sum:
    return _Sum([(w, z, not sub) for w, z, sub in s.ops], -s.hi, -s.lo, s.z)


def _add(a: _Sum, b: _Sum) -> _Sum:
    return _Sum(a.ops + b.ops, a.lo + b.lo, a.hi + b.hi, min(a.z, b.z))


def _csd_product(c: int, u: _Sum) -> _Sum:
    from ..rtl import csd_digits

    uw = u.w
    ops = [(uw + shift, shift + u.z, sign < 0) for shift, sign in csd_digits(c)]
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
    cnt = _Counter()
    ff = 0
    products = []
    dsps = 0
    reg = pipeline > 0

    def product(c: int, u: _Sum) -> tuple[_Sum, bool]:
        nonlocal dsps
        cw = signed_width_for(c, c)
        products.append((u.w, cw))
        if not dsp:
            return _csd_product(c, u), False
        lo, hi = min(c * u.lo, c * u.hi), max(c * u.lo, c * u.hi)
        if abs(c) & (abs(c) - 1) == 0:  # +-2**k: yosys turns it into a shift (or negation)
            return _Sum([(u.w + _tz(c), _tz(c) + u.z, c < 0)], lo, hi, _tz(c) + u.z), False
        dsps += dsp_blocks(u.w, cw)
        return _Sum([(signed_width_for(lo, hi), u.z, False)], lo, hi, u.z), True

    def reg_product(p: _Sum, in_dsp: bool) -> _Sum:
        nonlocal ff
        cnt.part = "multipliers"
        p = cnt.materialize(p)
        cnt.part = "adder_tree"
        # with DSPs the product register is the DSP48E1's own (MREG/PREG): no fabric FFs
        if not in_dsp:
            ff += p.w - p.z
        return p

    x = _Sum([(xw, 0, False)], xlo, xhi, 0)
    if direct:
        ff += max(k for _, taps in terms for k, _ in taps) * xw
        nodes = []
        for c, taps in terms:
            if len(taps) == 1:
                u = x
            else:
                u = _add(x, x if taps[1][1] > 0 else _neg(x))
                u = _Sum([(u.w, 0, False)], u.lo, u.hi, 0)
                cnt.part = "pre_adders"
                cnt._bump("pre_bits", xw)
                cnt.part = "adder_tree"
                cnt.adder_widths.append(xw + 1)
            nodes.append(product(c, u))
        if reg:
            nodes = [reg_product(p, d) for p, d in nodes]
        else:
            nodes = [p for p, _ in nodes]
            ff += 1
        n_levels = max(0, (len(nodes) - 1).bit_length())
        tree_regs = {j for j in range(1, n_levels) if pipeline and j % pipeline == 0}
        level = 0
        while len(nodes) > 1:
            level += 1
            r = level in tree_regs
            nxt = [_add(nodes[j], nodes[j + 1]) for j in range(0, len(nodes) - 1, 2)]
            if r:
                nxt = [cnt.materialize(s) for s in nxt]
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
        uses = {}
        for c, taps in terms:
            uses[c] = uses.get(c, 0) + len(taps)
        prods = {}
        shared = {}
        for c, taps in terms:
            if c in shared:  # yosys merges identical constant multipliers of the same x
                p = shared[c]
            else:
                p, in_dsp = product(c, x)
                if reg:
                    p = reg_product(p, in_dsp)
                elif uses[c] > 1:
                    cnt.part = "multipliers"
                    p = cnt.materialize(p)
                    cnt.part = "adder_tree"
                shared[c] = p
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
    # output rounding point (its adder joins the final sum) and output register
    ff += wo + 1
    acc_w = acc.w
    if shift_out > 0 and rounding != "truncate":
        acc = _Sum(acc.ops + [(shift_out, shift_out - 1, False)], acc.lo, acc.hi, acc.z)
        top = acc_w + 1
    else:
        top = acc_w
    vw = top - max(shift_out, 0)
    saturating = overflow != "wrap"
    if saturating:
        lo_r, hi_r = _round_range(acc.lo, acc.hi, shift_out, rounding)
        sides = (lo_r < -(1 << (wo - 1))) + (hi_r > (1 << (wo - 1)) - 1)
        saturating = sides > 0
        if saturating:
            cnt.part = "output_rounding"
            cnt._bump("sat_bits", sides * max(0, vw - wo + 1) + wo)
    cnt.part = "output_rounding" if len(acc.ops) == 2 else "adder_tree"
    cnt.materialize(acc, top if saturating else min(top, max(shift_out, 0) + wo))
    f = cnt.f
    f["parts"] = cnt.parts
    f["ff_bits"] = ff
    f["dsp_blocks"] = dsps
    f["adder_widths"] = cnt.adder_widths
    f["products"] = products
    return f


def _round_range(lo: int, hi: int, shift: int, rounding: str) -> tuple[int, int]:
    from ..rtl._fir import round_shift_int
    from ..sim._fixed import Rounding

    r = Rounding(rounding)
    return round_shift_int(lo, shift, r), round_shift_int(hi, shift, r)
