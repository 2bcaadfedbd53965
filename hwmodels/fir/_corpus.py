"""Seeded corpora of realistic FIR specs and a cached yosys runner for them.

Used by ``scripts/calibrate_fir_cost.py`` (fit) and ``benchmarks/fir_cost_model.py`` (held-out
check); the two use different seeds, so the benchmark never sees a calibration design.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import time
from pathlib import Path

import numpy as np

from ...sim.fir._spec import FirForm, FirSpec, Multiplier, coef_significant_bits
from ...sim.fixed import Overflow, QFormat, Rounding
from ..synth import SynthResult, synthesize

#: Default synthesis cache (not committed): results keyed by a hash of the Verilog text.
DEFAULT_CACHE = Path(os.environ.get("BITSMITH_SYNTH_CACHE", "~/.cache/bitsmith/synth")).expanduser()

#: Lowest coefficient LSB kept below the largest coefficient's MSB (bits): tiny tail
#: coefficients are not given an LSB finer than this, as a designer would not either.
MAX_EXPONENT_SPAN = 24


def quantize_per_coefficient(h: np.ndarray, widths) -> tuple[tuple[int, ...], int]:
    """Round each coefficient to its own width with its own MSB, on a common LSB.

    Parameters
    ----------
    h : array of float
        Real coefficients.
    widths : sequence of int
        Significant bits per coefficient (bits, sign included).

    Returns
    -------
    (coefficients, coef_frac)
        Raw integers on the common LSB ``2**-coef_frac``; each fits its width
        (:func:`~bitsmith.sim.coef_significant_bits`).
    """
    h = np.asarray(h, dtype=float)
    emax = math.frexp(float(np.max(np.abs(h))))[1]  # |h| < 2**emax
    lsbs = []
    for v, w in zip(h, widths, strict=True):
        e = math.frexp(float(v))[1] if v != 0 else emax - MAX_EXPONENT_SPAN
        lsbs.append(max(e - (w - 1), emax - MAX_EXPONENT_SPAN))
    frac = -min(lsbs)
    raw = []
    for v, w, lsb in zip(h, widths, lsbs, strict=True):
        q = round(v / 2.0**lsb)
        lim = (1 << (w - 1)) - 1
        q = max(-lim - 1, min(lim, q))
        raw.append(q << (lsb + frac))
    for c, w in zip(raw, widths, strict=True):
        assert coef_significant_bits(c) <= w
    return tuple(raw), frac


def _design(rng: np.random.Generator, L: int) -> np.ndarray:
    from scipy import signal

    kind = rng.choice(["lowpass", "bandpass", "remez"])
    if kind == "lowpass":
        return signal.firwin(L, float(rng.uniform(0.05, 0.5)))
    if kind == "bandpass":
        lo = float(rng.uniform(0.05, 0.35))
        return signal.firwin(L, [lo, lo + float(rng.uniform(0.08, 0.3))], pass_zero=False)
    fp = float(rng.uniform(0.05, 0.3))
    try:
        return signal.remez(L, [0, fp, fp + 0.08, 0.5], [1, 0])
    except ValueError:
        return signal.firwin(L, fp)


def _make_spec(
    rng: np.random.Generator,
    L: int,
    w0: int,
    fold: bool,
    dsp: bool,
    form: FirForm,
    pipeline: int,
) -> FirSpec | None:
    """A quantized firwin/remez design with the given structure (None if degenerate)."""
    h = _design(rng, L)
    if rng.random() < 0.5:
        half = [int(np.clip(w0 - rng.integers(0, 5), 4, 20)) for _ in range((L + 1) // 2)]
        widths = half + half[: L // 2][::-1]
    else:
        widths = [w0] * L
    coefs, frac = quantize_per_coefficient(h, widths)
    if all(c == 0 for c in coefs):
        return None
    xw = int(rng.integers(8, 19))
    xfmt = QFormat(1, xw - 1)
    probe = FirSpec(coefs, frac, tuple(widths), xfmt, xfmt)
    if probe.acc_width > 62:
        return None
    acc = probe.acc_format
    wo = int(min(probe.acc_width, xw + rng.integers(0, 5)))
    oint = acc.int_bits - int(rng.integers(0, 3))
    ofmt = QFormat(oint, wo - oint)
    return FirSpec(
        coefs,
        frac,
        tuple(widths),
        xfmt,
        ofmt,
        rounding=[*Rounding][int(rng.integers(0, 4))],
        overflow=(Overflow.WRAP, Overflow.SATURATE)[int(rng.integers(0, 2))],
        form=form,
        fold_symmetric=fold and probe.symmetry.value != "none",
        multiplier=Multiplier.DSP if dsp else Multiplier.CSD,
        pipeline=pipeline,
    )


def random_spec(rng: np.random.Generator, max_taps: int = 127) -> FirSpec:
    """One realistic FIR spec: quantized firwin/remez design, random structure choices.

    Taps 7..``max_taps`` (log-uniform), coefficient widths 4-20 (half the designs mixed per
    tap, symmetric so folding stays possible), input widths 8-18, direct or transposed,
    folded or not, pipeline 0-2, CSD or DSP multipliers, random rounding/overflow.
    """
    while True:
        L = int(round(math.exp(rng.uniform(math.log(7), math.log(max_taps)))))
        w0 = int(rng.integers(4, 21))
        spec = _make_spec(
            rng,
            L,
            w0,
            fold=bool(rng.random() < 0.5),
            dsp=bool(rng.random() < 0.35),
            form=(FirForm.DIRECT, FirForm.TRANSPOSED)[int(rng.integers(0, 2))],
            pipeline=int(rng.integers(0, 3)),
        )
        if spec is not None:
            return spec


def size_proxy(spec: FirSpec) -> int:
    """A calibration-free size measure (~LUTs, within a factor ~2) used to cap the corpus.

    Adder bits of the multipliers and the sum: per multiplier term, (nonzero CSD digits,
    or 1 with DSPs) times (input bits + the term's coefficient significant bits), plus one
    adder of that width per term for the tree.
    """
    from ...rtl import csd_digits

    xw = spec.input_format.word_bits
    L = spec.taps
    n = L // 2 + L % 2 if spec.fold_symmetric else L
    total = 0
    for k in range(n):
        c = spec.coefficients[k]
        if c == 0:
            continue
        w = xw + (abs(c) >> ((c & -c).bit_length() - 1)).bit_length() + 1
        digits = 0 if spec.multiplier is Multiplier.DSP else len(csd_digits(c)) - 1
        total += (digits + 1) * w
    return total


#: Tap-count strata of :func:`stratified_specs` (inclusive; log-uniform inside each).
TAP_STRATA = ((7, 15), (16, 31), (32, 63), (64, 127))
#: Coefficient-width strata of :func:`stratified_specs` (inclusive, bits).
WIDTH_STRATA = ((4, 7), (8, 11), (12, 15), (16, 20))


def stratified_specs(seed: int, n: int, max_luts: int | None = 8000) -> list[FirSpec]:
    """``n`` FIR specs whose structure choices are balanced (Latin-hypercube style).

    Each factor -- tap stratum (:data:`TAP_STRATA`), coefficient-width stratum
    (:data:`WIDTH_STRATA`), folded or not, DSP or CSD multipliers, direct or transposed,
    pipeline 0/1/2 -- takes its levels equally often over the ``n`` designs, in an order
    shuffled independently per factor, so every level of every factor appears even in a
    small corpus and large designs appear without drawing dozens of them. The rest
    (filter type, input width, per-tap widths, output format, rounding, overflow) is drawn
    as in :func:`random_spec`.

    Parameters
    ----------
    seed : int
        Corpus seed (calibration uses 0, the held-out benchmark 1).
    n : int
        Number of designs.
    max_luts : int or None
        Synthesis budget: a draw whose :func:`size_proxy` exceeds this is redrawn with a
        narrower coefficient width (same other factors), because yosys' time grows with
        the design (~1 min at 6000 LUTs on 2 shared cores). None: no cap. (The proxy, not
        the calibrated model, so that a refit never changes the corpus.)

    Returns
    -------
    list of FirSpec
    """
    rng = np.random.default_rng(seed)

    def levels(k: int) -> np.ndarray:
        return rng.permutation(np.resize(np.arange(k), n))

    taps_l, width_l = levels(len(TAP_STRATA)), levels(len(WIDTH_STRATA))
    fold_l, dsp_l, form_l, pipe_l = levels(2), levels(2), levels(2), levels(3)
    specs = []
    for i in range(n):
        lo, hi = TAP_STRATA[taps_l[i]]
        wlo, whi = WIDTH_STRATA[width_l[i]]
        while True:
            L = int(round(math.exp(rng.uniform(math.log(lo), math.log(hi + 0.49)))))
            w0 = int(rng.integers(wlo, whi + 1))
            spec = None
            while spec is None or (
                max_luts is not None and w0 > 4 and size_proxy(spec) > max_luts
            ):
                if spec is not None:
                    w0 -= 1
                spec = _make_spec(
                    rng, L, w0, bool(fold_l[i]), bool(dsp_l[i]),
                    (FirForm.DIRECT, FirForm.TRANSPOSED)[form_l[i]], int(pipe_l[i]),
                )
                if spec is None:
                    break
            if spec is not None:
                specs.append(spec)
                break
    return specs


def spec_to_row(spec: FirSpec) -> dict:
    """A JSON/CSV-friendly description of a spec (enough to rebuild it)."""
    return {
        "coefficients": " ".join(map(str, spec.coefficients)),
        "coef_frac": spec.coef_frac,
        "coef_widths": " ".join(map(str, spec.coef_widths)),
        "input_format": f"{spec.input_format.int_bits},{spec.input_format.frac_bits}",
        "output_format": f"{spec.output_format.int_bits},{spec.output_format.frac_bits}",
        "rounding": spec.rounding.value,
        "overflow": spec.overflow.value,
        "form": spec.form.value,
        "fold_symmetric": int(spec.fold_symmetric),
        "multiplier": spec.multiplier.value,
        "pipeline": spec.pipeline,
    }


def row_to_spec(row: dict) -> FirSpec:
    """Inverse of :func:`spec_to_row`."""

    def fmt(s):
        a, b = (int(v) for v in str(s).split(","))
        return QFormat(a, b)

    return FirSpec(
        tuple(int(v) for v in str(row["coefficients"]).split()),
        int(row["coef_frac"]),
        tuple(int(v) for v in str(row["coef_widths"]).split()),
        fmt(row["input_format"]),
        fmt(row["output_format"]),
        rounding=Rounding(row["rounding"]),
        overflow=Overflow(row["overflow"]),
        form=FirForm(row["form"]),
        fold_symmetric=bool(int(row["fold_symmetric"])),
        multiplier=Multiplier(row["multiplier"]),
        pipeline=int(row["pipeline"]),
    )


def _key(spec: FirSpec, target: str) -> tuple[str, str, bool]:
    from ...rtl import fir_verilog

    verilog = fir_verilog(spec, name="fir")
    dsp = spec.multiplier is Multiplier.DSP
    return hashlib.sha256(f"{target}|{dsp}|{verilog}".encode()).hexdigest()[:24], verilog, dsp


def _cache_lookup(spec: FirSpec, target: str, cache: Path) -> SynthResult | None:
    path = cache / f"{_key(spec, target)[0]}.json"
    return SynthResult(**json.loads(path.read_text())) if path.exists() else None


def synthesize_spec(spec: FirSpec, target: str = "xc7", cache: Path | None = DEFAULT_CACHE):
    """Synthesize ``fir_verilog(spec)``; results cached by a hash of Verilog text and flow.

    DSP inference is allowed only for :attr:`Multiplier.DSP` specs (a CSD design is meant
    for the fabric). Returns ``(SynthResult, cached)``.
    """
    key, verilog, dsp = _key(spec, target)
    path = cache / f"{key}.json" if cache is not None else None
    if path is not None and path.exists():
        d = json.loads(path.read_text())
        return SynthResult(**d), True
    res = synthesize(verilog, "fir", target=target, dsp=dsp)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(
                {
                    "luts": res.luts,
                    "ffs": res.ffs,
                    "dsps": res.dsps,
                    "carries": res.carries,
                    "latches": res.latches,
                    "cells": res.cells,
                    "tool": res.tool,
                    "seconds": res.seconds,
                    "target": res.target,
                }
            )
        )
    return res, False


def write_csv(path: Path, rows: list[dict]) -> None:
    """Write rows (dicts with the same keys) as CSV."""
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def fit_luts(X, y) -> np.ndarray:
    """Nonnegative relative least squares: LUTs ~ X @ coef + intercept, weights 1/LUTs.

    Relative, because the target is a % error and an unweighted fit would be decided by the
    few largest designs; nonnegative, because every feature is logic that costs LUTs.
    Returns ``[*coef, intercept]``.
    """
    from scipy.optimize import nnls

    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    w = 1.0 / np.maximum(y, 1.0)
    A = np.column_stack([X, np.ones(len(y))])
    theta, _ = nnls(A * w[:, None], y * w)
    return theta


def generator_hash() -> str:
    """SHA-256 (first 16 hex digits) of the FIR generator's sources (``rtl/*.py``).

    Stored with each calibration, so a stale fit (the generator changed since) is visible.
    """
    from ... import rtl

    h = hashlib.sha256()
    for p in sorted(Path(rtl.__file__).parent.rglob("*.py")):
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


def corpus_results(specs, target: str, cache: Path, cached_only: bool, log=None):
    """Yield ``(index, spec, SynthResult)`` for each spec: synthesized (cached), or --
    with ``cached_only`` -- only those already in the cache.

    ``log(i, spec, result, seconds or None if cached)`` reports each fresh synthesis.
    """
    for i, spec in enumerate(specs):
        if cached_only:
            res = _cache_lookup(spec, target, cache)
            if res is None:
                continue
        else:
            t0 = time.perf_counter()
            res, cached = synthesize_spec(spec, target, cache)
            if log is not None:
                log(i, spec, res, None if cached else time.perf_counter() - t0)
        yield i, spec, res
