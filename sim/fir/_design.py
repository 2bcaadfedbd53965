"""FIR requirements, float designs, coefficient quantization and allocation variables.

A :class:`FirDesign` states what the filter must do (response type, band edges, ripple and
attenuation targets); :func:`design_fir` turns it into float taps with ``scipy.signal``;
:func:`quantize_coefficients` turns float taps and per-coefficient widths into the raw
integers a :class:`~bitsmith.sim.FirSpec` holds.

Frequencies are normalized to Nyquist = 1 (so 0.25 is fs/8) unless a sampling rate ``fs``
(Hz) is given, in which case band edges are in Hz.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import scipy.signal

from ..fixed import Overflow, QFormat, Rounding
from ._spec import FirForm, FirSpec, Multiplier, Symmetry

__all__ = [
    "Band",
    "DesignMethod",
    "FirDesign",
    "Response",
    "bands",
    "design_fir",
    "expand_widths",
    "linear_phase_type",
    "phase_type_conflict",
    "fir_spec_from_design",
    "quantize_coefficient_batch",
    "quantize_coefficients",
    "symmetry",
    "variable_map",
    "ZERO_RTOL",
]


class Response(enum.Enum):
    """Frequency-selective response type."""

    LOWPASS = "lowpass"
    HIGHPASS = "highpass"
    BANDPASS = "bandpass"
    BANDSTOP = "bandstop"
    HALFBAND = "halfband"  #: lowpass with f_pass + f_stop = Nyquist: every other tap 0
    MULTIBAND = "multiband"  #: an explicit band list with per-band desired gains


class DesignMethod(enum.Enum):
    """How float taps are designed from the requirements."""

    FIRWIN = "firwin"  #: windowed sinc (Kaiser window from the targets unless one is given)
    REMEZ = "remez"  #: Parks-McClellan equiripple, band weights 1/delta
    FIRLS = "firls"  #: weighted least squares, band weights 1/delta
    KAISER = "kaiser"  #: windowed sinc, Kaiser window of ``beta`` (or the one the targets imply)


# Which bands are passbands, in order, between the edges (True = pass).
_BAND_PATTERN = {
    Response.LOWPASS: (True, False),
    Response.HIGHPASS: (False, True),
    Response.BANDPASS: (False, True, False),
    Response.BANDSTOP: (True, False, True),
    Response.HALFBAND: (True, False),
}

#: Windowed-sinc methods (they take ``window``/``beta`` and the ``cutoff`` form).
_WINDOWED = (DesignMethod.FIRWIN, DesignMethod.KAISER)


def _enum_value(cls, value, name):
    if isinstance(value, cls):
        return value
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in cls)
        raise ValueError(f"{name} must be one of {allowed}, not {value!r}") from None


@dataclass(frozen=True)
class FirDesign:
    """Requirements of a FIR: what it must do and how its float taps are designed.

    Parameters
    ----------
    response : Response or str or None
        ``lowpass``, ``highpass``, ``bandpass``, ``bandstop``, ``halfband`` (a lowpass with
        f_pass + f_stop = Nyquist, every other tap exactly 0 and the centre tap exactly
        0.5) or ``multiband`` (``band_list``/``desired``). None only with user
        ``coefficients`` and no mask (the spec is then ``max_error_db`` alone).
    edges : tuple of float
        Transition-band edges in increasing order: 2 for lowpass/halfband ``(f_pass,
        f_stop)`` and highpass ``(f_stop, f_pass)``; 4 for bandpass ``(f_stop1, f_pass1,
        f_pass2, f_stop2)`` and bandstop ``(f_pass1, f_stop1, f_stop2, f_pass2)``; none for
        multiband (and for window designs given by ``cutoff`` and ``width``). Normalized
        to Nyquist = 1, or in Hz when ``fs`` is given.
    numtaps : int or None
        Filter length L (taps); None estimates it from the targets (Kaiser's formula for
        the window methods, Bellanger's for ``remez``/``firls``).
    passband_ripple_db : float
        Largest allowed passband deviation from the desired gain, +-dB.
    stopband_atten_db : float
        Smallest allowed stopband attenuation below unity gain (dB).
    method : DesignMethod or str
        ``firwin`` (default), ``kaiser``, ``remez`` or ``firls``.
    fs : float or None
        Sampling rate (Hz) when edges are in Hz.
    window : str, tuple or None
        ``scipy.signal.get_window`` argument for ``firwin``; None means a Kaiser window whose
        beta meets the tighter of the two targets.
    beta : float or None
        Kaiser window shape for ``kaiser`` (and halfband); None: ``kaiser_beta`` of the
        tighter target.
    cutoff : tuple of float or None
        Window designs only: the cutoff frequencies given to ``firwin`` (instead of the
        middle of each transition band); needs ``width``, the transition width, from which
        the mask edges ``cutoff -+ width/2`` follow.
    width : float or None
        Transition width with ``cutoff`` (same unit as the edges).
    band_list : tuple of (float, float) or None
        Multiband: the bands ``((lo, hi), ...)`` in increasing order, 0 to Nyquist.
    desired : tuple of float or None
        Multiband: desired gain of each band (0: a stopband, > 0: a passband whose ripple
        is measured relative to that gain).
    weights : tuple of float or None
        Multiband remez/firls weight per band; None: 1/delta of the band's target.
    coefficients : tuple of float or None
        User taps: the design is these, as given (``method`` is not used).
    max_error_db : float or None
        Spec on the response error: max |H_q - H_float| / max |H_float| <= 10**(this/20)
        over 0..Nyquist (negative dB). Required for user coefficients without a mask.
    phase : str
        ``linear`` or ``minimum``: ``scipy.signal.minimum_phase`` (homomorphic) of a
        linear-phase prototype of 2L-1 taps designed for the squared spec (twice the
        ripple and the attenuation in dB, since the homomorphic method square-roots the
        magnitude).
    """

    response: Response | str | None
    edges: tuple[float, ...] = ()
    numtaps: int | None = None
    passband_ripple_db: float = 0.1
    stopband_atten_db: float = 60.0
    method: DesignMethod | str = DesignMethod.FIRWIN
    fs: float | None = None
    window: str | tuple | None = None
    beta: float | None = None
    cutoff: tuple[float, ...] | None = None
    width: float | None = None
    band_list: tuple[tuple[float, float], ...] | None = None
    desired: tuple[float, ...] | None = None
    weights: tuple[float, ...] | None = None
    coefficients: tuple[float, ...] | None = None
    max_error_db: float | None = None
    phase: str = "linear"

    def __post_init__(self):
        if self.response is not None:
            object.__setattr__(self, "response",
                               _enum_value(Response, self.response, "response"))
        object.__setattr__(self, "method", _enum_value(DesignMethod, self.method, "method"))
        if self.phase not in ("linear", "minimum"):
            raise ValueError(f"phase must be linear or minimum, not {self.phase!r}")
        if self.fs is not None and not (math.isfinite(self.fs) and self.fs > 0):
            raise ValueError(f"fs must be a positive number of Hz, not {self.fs}")
        top = 1.0 if self.fs is None else self.fs / 2
        unit = "(normalized to Nyquist = 1)" if self.fs is None else f"Hz (fs/2 = {top:g} Hz)"
        if self.coefficients is not None:
            c = np.asarray(self.coefficients, dtype=np.float64)
            if c.ndim != 1 or c.size < 1:
                raise ValueError("coefficients must be a non-empty list of numbers")
            if not np.all(np.isfinite(c)):
                k = int(np.flatnonzero(~np.isfinite(c))[0])
                raise ValueError(f"coefficient {k} is {c[k]}: every coefficient must be finite")
            if not np.any(c):
                raise ValueError("the coefficients are all zero")
            object.__setattr__(self, "coefficients", tuple(float(v) for v in c))
            if self.phase != "linear":
                raise ValueError("phase minimum applies to designed filters, not to user "
                                 "coefficients")
        elif self.response is None:
            raise ValueError("a response is needed unless coefficients are given")
        if self.max_error_db is not None and not (math.isfinite(self.max_error_db)
                                                  and self.max_error_db < 0):
            raise ValueError(f"max_error_db must be a negative number of dB, not "
                             f"{self.max_error_db}")
        if self.response is None and self.max_error_db is None:
            raise ValueError("user coefficients without a response mask need max_error_db")
        if self.response is not Response.MULTIBAND:
            extra = [k for k in ("band_list", "desired", "weights") if getattr(self, k) is not None]
            if extra:
                names = ", ".join("bands" if k == "band_list" else k for k in extra)
                raise ValueError(f"{names}: for response multiband only")
        if self.coefficients is not None:
            extra = [k for k in ("window", "beta", "cutoff") if getattr(self, k) is not None]
            if extra:
                raise ValueError(f"{', '.join(extra)}: for designed filters, not for user "
                                 f"coefficients")
        if self.width is not None and self.cutoff is None:
            raise ValueError("width applies to the cutoff form only (give cutoff, or edges "
                             "without width)")
        if self.cutoff is not None:
            self._set_cutoff_edges(top, unit)
        object.__setattr__(self, "edges", tuple(float(e) for e in self.edges))
        if self.response is Response.MULTIBAND:
            self._check_multiband(top, unit)
        elif self.response is not None:
            n_edges = 2 * (len(_BAND_PATTERN[self.response]) - 1)
            if len(self.edges) != n_edges:
                raise ValueError(
                    f"a {self.response.value} needs {n_edges} band edges, not {len(self.edges)}"
                )
        elif self.edges:
            raise ValueError("edges need a response")
        for e in self.edges:
            if not (0.0 < e < top):
                raise ValueError(
                    f"band edges must lie strictly between 0 and {top:g} {unit}, not {e:g}"
                )
        for a, b in zip(self.edges, self.edges[1:], strict=False):
            if not a < b:
                raise ValueError(f"band edges must increase: {a:g} then {b:g}")
        if self.response is Response.HALFBAND:
            if self.phase == "minimum":
                raise ValueError("phase minimum does not apply to a halfband (its zeros and "
                                 "centre tap are a linear-phase property)")
            fp, fst = self.edges
            if abs(fp + fst - top) > 1e-9 * top:
                raise ValueError(f"a halfband needs f_pass + f_stop = {top:g} (Nyquist), not "
                                 f"{fp:g} + {fst:g} = {fp + fst:g}")
            if self.method not in _WINDOWED:
                raise ValueError(f"a halfband is designed with a window (method firwin or "
                                 f"kaiser), not {self.method.value}")
        if self.numtaps is not None:
            if isinstance(self.numtaps, bool) or int(self.numtaps) != self.numtaps:
                raise ValueError(f"numtaps must be an integer, not {self.numtaps!r}")
            object.__setattr__(self, "numtaps", int(self.numtaps))
            if self.numtaps < 1:
                raise ValueError(f"numtaps must be at least 1, not {self.numtaps}")
            if self.coefficients is not None and self.numtaps != len(self.coefficients):
                raise ValueError(f"numtaps ({self.numtaps}) differs from the number of "
                                 f"coefficients ({len(self.coefficients)})")
            if self.coefficients is None and self.phase == "linear":
                why = phase_type_conflict(
                    "II" if self.numtaps % 2 == 0 else "I", bands(self))
                if why:
                    raise ValueError(f"a {self.response.value} needs an odd number of taps "
                                     f"(numtaps {self.numtaps} makes a {why}), not "
                                     f"{self.numtaps}")
            if self.response is Response.HALFBAND and self.numtaps % 4 != 3:
                raise ValueError(f"a halfband needs numtaps = 4k+3 (4k+1 has zero end taps, "
                                 f"an even length no zero taps), not {self.numtaps}")
        if not (math.isfinite(self.passband_ripple_db) and self.passband_ripple_db > 0):
            raise ValueError(
                f"passband_ripple_db must be a positive number of dB, not {self.passband_ripple_db}"
            )
        if not (math.isfinite(self.stopband_atten_db) and self.stopband_atten_db > 0):
            raise ValueError(
                f"stopband_atten_db must be a positive number of dB, not {self.stopband_atten_db}"
            )
        if self.window is not None:
            if self.method is not DesignMethod.FIRWIN:
                raise ValueError(f"window applies to method firwin only, not {self.method.value}")
            window = tuple(self.window) if isinstance(self.window, list) else self.window
            object.__setattr__(self, "window", window)
            try:
                scipy.signal.get_window(window, 16)
            except (ValueError, TypeError) as e:
                raise ValueError(f"window {window!r} is not a scipy.signal window: "
                                 f"{' '.join(str(e).split())}") from None
        if self.beta is not None:
            if self.method is not DesignMethod.KAISER and self.response is not Response.HALFBAND:
                raise ValueError(f"beta applies to method kaiser only, not {self.method.value}")
            if not (math.isfinite(self.beta) and self.beta >= 0):
                raise ValueError(f"beta must be a number >= 0, not {self.beta}")

    def _set_cutoff_edges(self, top, unit):
        if self.method not in _WINDOWED:
            raise ValueError(f"cutoff applies to the window methods (firwin, kaiser), not "
                             f"{self.method.value}; give edges")
        if self.edges:
            raise ValueError("give either edges or cutoff (with width), not both")
        if self.width is None or not (math.isfinite(self.width) and self.width > 0):
            raise ValueError("cutoff needs width, the transition width (> 0)"
                             + ("" if self.width is None else f", not {self.width}"))
        c = tuple(float(v) for v in self.cutoff)
        object.__setattr__(self, "cutoff", c)
        w = float(self.width)
        if self.response is not None and self.response is not Response.MULTIBAND:
            need = len(_BAND_PATTERN[self.response]) - 1
            if len(c) != need:
                raise ValueError(f"a {self.response.value} needs {need} cutoff "
                                 f"frequencies, not {len(c)}")
        object.__setattr__(self, "edges", tuple(e for f in c for e in (f - w / 2, f + w / 2)))

    def _check_multiband(self, top, unit):
        if self.edges:
            raise ValueError("a multiband response takes bands, not edges")
        if self.band_list is None or self.desired is None:
            raise ValueError("a multiband response needs bands and desired")
        bl = tuple((float(lo), float(hi)) for lo, hi in self.band_list)
        object.__setattr__(self, "band_list", bl)
        object.__setattr__(self, "desired", tuple(float(g) for g in self.desired))
        if len(bl) < 2:
            raise ValueError(f"a multiband response needs at least 2 bands, not {len(bl)}")
        if len(self.desired) != len(bl):
            raise ValueError(f"desired needs one gain per band ({len(bl)}), not "
                             f"{len(self.desired)}")
        flat = [f for b in bl for f in b]
        if not (flat[0] >= 0 and flat[-1] <= top):
            raise ValueError(f"bands must lie in [0, {top:g}] {unit}, not {list(bl)}")
        if not all(a < b for a, b in zip(flat, flat[1:], strict=False)):
            raise ValueError(f"bands must increase and not touch, not {list(bl)}")
        if not all(math.isfinite(g) and g >= 0 for g in self.desired):
            raise ValueError(f"desired gains must be >= 0, not {list(self.desired)}")
        if not (any(g > 0 for g in self.desired) and any(g == 0 for g in self.desired)):
            raise ValueError(f"a multiband response needs a passband (desired > 0) and a "
                             f"stopband (desired 0), not desired {list(self.desired)}")
        if self.weights is not None:
            object.__setattr__(self, "weights", tuple(float(v) for v in self.weights))
            if len(self.weights) != len(bl):
                raise ValueError(f"weights needs one weight per band ({len(bl)}), not "
                                 f"{len(self.weights)}")
            if not all(math.isfinite(v) and v > 0 for v in self.weights):
                raise ValueError(f"weights must be > 0, not {list(self.weights)}")
        if self.method in _WINDOWED:
            raise ValueError(f"a multiband response is designed with method remez or firls, not "
                             f"{self.method.value}")

    @property
    def normalized_edges(self) -> tuple[float, ...]:
        """Band edges normalized to Nyquist = 1."""
        if self.fs is None:
            return self.edges
        return tuple(2.0 * e / self.fs for e in self.edges)

    @property
    def normalized_cutoff(self) -> tuple[float, ...] | None:
        """``cutoff`` normalized to Nyquist = 1 (None when not given)."""
        if self.cutoff is None or self.fs is None:
            return self.cutoff
        return tuple(2.0 * c / self.fs for c in self.cutoff)

    @property
    def delta_pass(self) -> float:
        """Passband amplitude ripple delta_p (linear): 10**(ripple_db/20) - 1."""
        return 10.0 ** (self.passband_ripple_db / 20.0) - 1.0

    @property
    def delta_stop(self) -> float:
        """Stopband amplitude delta_s (linear): 10**(-atten_db/20)."""
        return 10.0 ** (-self.stopband_atten_db / 20.0)

    @property
    def transition_width(self) -> float:
        """Narrowest transition band (normalized to Nyquist = 1)."""
        b = bands(self)
        if len(b) < 2:
            raise ValueError("a transition width needs at least two bands")
        return min(b[i + 1].f_lo - b[i].f_hi for i in range(len(b) - 1))

    def estimated_numtaps(self) -> int:
        """Taps L from the targets (odd, so every response is realizable as type I).

        Kaiser's formula (``scipy.signal.kaiserord``) for the window methods; Bellanger's
        estimate L = 2/3 log10(1 / (10 delta_p delta_s)) / (df) + 1, with df the transition
        width as a fraction of fs, for ``remez`` and ``firls``. A halfband is rounded up to
        4k+3 taps. Both are estimates: check the designed response with
        :func:`~bitsmith.sim.response_metrics`.
        """
        if self.coefficients is not None:
            return len(self.coefficients)
        if self.method in _WINDOWED:
            n, _ = scipy.signal.kaiserord(self._kaiser_atten_db(), self.transition_width)
        else:
            df = self.transition_width / 2.0
            n = (
                math.ceil(
                    2.0 / 3.0 * math.log10(1.0 / (10 * self.delta_pass * self.delta_stop)) / df
                )
                + 1
            )
        n = max(int(n), 1)
        n = n if n % 2 == 1 else n + 1
        if self.response is Response.HALFBAND and n % 4 != 3:
            n += 2
        return n

    def _kaiser_atten_db(self) -> float:
        # A Kaiser window has the same ripple delta in every band, so meet the tighter one.
        return -20.0 * math.log10(min(self.delta_pass, self.delta_stop))

    def kaiser_window(self) -> tuple[str, float]:
        """The Kaiser window of the window designs: ``beta`` or ``kaiser_beta`` of the
        tighter target."""
        beta = self.beta
        if beta is None:
            beta = float(scipy.signal.kaiser_beta(self._kaiser_atten_db()))
        return ("kaiser", float(beta))


class Band(NamedTuple):
    """One band of the specification mask (frequencies normalized to Nyquist = 1)."""

    kind: str  #: "pass" or "stop"
    f_lo: float
    f_hi: float
    gain: float  #: target linear gain (1 in a passband, 0 in a stopband; multiband: desired)
    limit_db: float  #: +- ripple (pass, relative to gain) or minimum attenuation (stop), dB


def bands(design: FirDesign) -> tuple[Band, ...]:
    """The pass and stop bands with their targets: the specification mask.

    Parameters
    ----------
    design : FirDesign
        The requirements.

    Returns
    -------
    tuple of Band
        In frequency order, covering [0, 1] (Nyquist = 1) except the transition bands;
        the multiband's own bands; none for user coefficients without a response.
    """
    if design.response is None:
        return ()
    if design.response is Response.MULTIBAND:
        scale = 1.0 if design.fs is None else 2.0 / design.fs
        return tuple(
            Band("pass", lo * scale, hi * scale, g, design.passband_ripple_db) if g > 0
            else Band("stop", lo * scale, hi * scale, 0.0, design.stopband_atten_db)
            for (lo, hi), g in zip(design.band_list, design.desired, strict=True))
    e = (0.0, *design.normalized_edges, 1.0)
    out = []
    for i, is_pass in enumerate(_BAND_PATTERN[design.response]):
        lo, hi = e[2 * i], e[2 * i + 1]
        if is_pass:
            out.append(Band("pass", lo, hi, 1.0, design.passband_ripple_db))
        else:
            out.append(Band("stop", lo, hi, 0.0, design.stopband_atten_db))
    return tuple(out)


def design_fir(design: FirDesign) -> np.ndarray:
    """Design float taps meeting (approximately) the requirements with ``scipy.signal``.

    Parameters
    ----------
    design : FirDesign
        The requirements; ``numtaps=None`` uses :meth:`FirDesign.estimated_numtaps`.

    Returns
    -------
    numpy.ndarray of float64, shape (L,)
        Taps: the user's coefficients as given; otherwise linear phase with the desired
        passband gain (minimum phase for ``phase="minimum"``).
    """
    if design.coefficients is not None:
        return np.array(design.coefficients, dtype=np.float64)
    if design.phase == "minimum":
        return _minimum_phase(design)
    numtaps = design.numtaps if design.numtaps is not None else design.estimated_numtaps()
    edges = design.normalized_edges
    if design.response is Response.HALFBAND:
        return _halfband(design, numtaps)
    if design.response is Response.MULTIBAND:
        b = bands(design)
        band_edges = [f for x in b for f in (x.f_lo, x.f_hi)]
        gains = [x.gain for x in b]
        weights = design.weights
        if weights is None:
            weights = [1.0 / (design.delta_pass * x.gain if x.kind == "pass"
                              else design.delta_stop) for x in b]
    else:
        pattern = _BAND_PATTERN[design.response]
        band_edges = [0.0, *edges, 1.0]
        gains = [1.0 if p else 0.0 for p in pattern]
        weights = [1.0 / (design.delta_pass if p else design.delta_stop) for p in pattern]
    if design.method in _WINDOWED:
        # Cutoffs at the middle of each transition band, unless given.
        cutoffs = design.normalized_cutoff
        if cutoffs is None:
            cutoffs = [(edges[i] + edges[i + 1]) / 2 for i in range(0, len(edges), 2)]
        window = design.window
        if window is None:
            window = design.kaiser_window()
        return scipy.signal.firwin(
            numtaps, list(cutoffs), window=window, pass_zero=pattern[0], scale=True, fs=2.0
        )
    weights = list(weights)
    if design.method is DesignMethod.REMEZ:
        return scipy.signal.remez(numtaps, band_edges, gains, weight=weights, fs=2.0)
    if numtaps % 2 == 0:
        raise ValueError(f"method firls needs an odd number of taps, not {numtaps}")
    desired = [g for g in gains for _ in range(2)]
    return scipy.signal.firls(numtaps, band_edges, desired, weight=weights, fs=2.0)


def _halfband(design: FirDesign, numtaps: int) -> np.ndarray:
    """Windowed sinc at Nyquist/2, unscaled: taps at even offsets from the centre are
    exactly 0 and the centre exactly 0.5 (firwin computes them as round-off of those)."""
    window = design.window if design.window is not None else design.kaiser_window()
    h = scipy.signal.firwin(numtaps, 0.5, window=window, scale=False, fs=2.0)
    c = (numtaps - 1) // 2
    off = np.arange(numtaps) - c
    h[(off % 2 == 0)] = 0.0
    h[c] = 0.5
    return h


def _minimum_phase(design: FirDesign) -> np.ndarray:
    """Homomorphic minimum phase of a 2L-1 tap prototype designed for the squared spec."""
    import dataclasses

    if design.numtaps is not None:
        n_proto = 2 * design.numtaps - 1
    else:
        n_proto = None
    proto = dataclasses.replace(
        design, phase="linear", numtaps=n_proto,
        passband_ripple_db=2 * design.passband_ripple_db,
        stopband_atten_db=2 * design.stopband_atten_db)
    h = design_fir(proto)
    if h.size % 2 == 0:  # an estimated length is odd; keep the result's length L
        raise ValueError(f"the minimum-phase prototype needs an odd length, not {h.size}")
    return scipy.signal.minimum_phase(h, method="homomorphic")


def linear_phase_type(h) -> str | None:
    """Linear-phase type of float taps: I (even symmetry, odd length), II (even, even),
    III (odd symmetry, odd length), IV (odd, even); None without symmetry."""
    s = symmetry(h)
    n = np.asarray(h).size
    if s is Symmetry.EVEN:
        return "I" if n % 2 else "II"
    if s is Symmetry.ODD:
        return "III" if n % 2 else "IV"
    return None


#: Frequencies (Nyquist = 1) where each linear-phase type has a forced zero.
_FORCED_ZEROS = {"I": (), "II": (1.0,), "III": (0.0, 1.0), "IV": (0.0,)}


def phase_type_conflict(ptype: str | None, mask) -> str | None:
    """Why a linear-phase type cannot meet a mask (None if it can).

    Type II has a forced zero at Nyquist, type III at DC and Nyquist, type IV at DC: a
    passband containing such a frequency cannot be met.
    """
    if ptype is None:
        return None
    for f in _FORCED_ZEROS[ptype]:
        for b in mask:
            if b.kind == "pass" and b.f_lo <= f <= b.f_hi:
                where = "DC" if f == 0 else "Nyquist"
                return (f"type {ptype} linear-phase filter, which has a zero at {where}, "
                        f"inside the passband [{b.f_lo:g}, {b.f_hi:g}]")
    return None


# -- linear-phase symmetry and allocation variables --------------------------------------


def symmetry(h, rtol: float = 1e-9) -> Symmetry:
    """Linear-phase symmetry of float taps, within ``rtol * max|h|``.

    Parameters
    ----------
    h : array_like of float, shape (L,)
        Float taps.
    rtol : float
        Tolerance relative to the largest tap magnitude.

    Returns
    -------
    Symmetry
        EVEN if h[k] ~ h[L-1-k], ODD if h[k] ~ -h[L-1-k], else NONE (and NONE for L < 2).
    """
    h = np.asarray(h, dtype=np.float64)
    if h.ndim != 1:
        raise ValueError(f"taps must be a 1-D array, not shape {h.shape}")
    if h.size < 2 or not np.any(h):
        return Symmetry.NONE
    tol = rtol * float(np.max(np.abs(h)))
    if np.all(np.abs(h - h[::-1]) <= tol):
        return Symmetry.EVEN
    if np.all(np.abs(h + h[::-1]) <= tol):
        return Symmetry.ODD
    return Symmetry.NONE


def variable_map(taps: int, symmetric: bool | Symmetry) -> list[tuple[int, ...]]:
    """Allocation variables as tuples of tap indices.

    A symmetric (or antisymmetric) pair (k, L-1-k) shares one constant and so one width:
    it is ONE variable. Otherwise every tap is its own variable.

    Parameters
    ----------
    taps : int
        Filter length L.
    symmetric : bool or Symmetry
        Whether the taps are (anti)symmetric (``Symmetry.NONE`` counts as false).

    Returns
    -------
    list of tuple of int
        Variable i covers taps ``vmap[i]``; ceil(L/2) variables when symmetric, else L.
    """
    if taps < 1:
        raise ValueError(f"taps must be at least 1, not {taps}")
    if isinstance(symmetric, Symmetry):
        symmetric = symmetric is not Symmetry.NONE
    if not symmetric:
        return [(k,) for k in range(taps)]
    vmap = [(k, taps - 1 - k) for k in range(taps // 2)]
    if taps % 2:
        vmap.append((taps // 2,))
    return vmap


def expand_widths(var_widths, vmap, taps: int) -> tuple[int, ...]:
    """Per-tap widths (bits) from per-variable widths.

    Parameters
    ----------
    var_widths : sequence of int
        One width per variable (bits).
    vmap : list of tuple of int
        From :func:`variable_map`.
    taps : int
        Filter length L.

    Returns
    -------
    tuple of int
        Width of each tap (bits).
    """
    if len(var_widths) != len(vmap):
        raise ValueError(
            f"var_widths must have one width per variable ({len(vmap)}), not {len(var_widths)}"
        )
    out = [None] * taps
    for w, group in zip(var_widths, vmap, strict=True):
        for k in group:
            if not 0 <= k < taps:
                raise ValueError(f"variable map tap index must be in [0, {taps}), not {k}")
            out[k] = int(w)
    missing = [k for k, w in enumerate(out) if w is None]
    if missing:
        raise ValueError(f"variable map must cover every tap 0..{taps - 1}; missing {missing}")
    return tuple(out)


# -- coefficient quantization -------------------------------------------------------------


def _round(x: np.ndarray, rounding: Rounding) -> np.ndarray:
    """Round float64 values to integers (as float64) with ``rounding``; exact for |x| < 2**52."""
    if rounding is Rounding.ROUND_HALF_EVEN:
        return np.rint(x)
    if rounding is Rounding.ROUND_HALF_UP:
        # floor(x + 0.5) could round in the addition; x - floor(x) is exact.
        r = np.floor(x)
        return r + ((x - r) >= 0.5)
    if rounding is Rounding.TRUNCATE:
        return np.floor(x)
    if rounding is Rounding.ROUND_TO_ZERO:
        return np.trunc(x)
    raise ValueError(f"rounding must be a Rounding, not {rounding!r}")


#: Taps within this fraction of the largest are float round-off of an exact zero of the
#: design (a windowed sinc at fs/8 has zeros every 4th tap, computed as ~1e-18): they
#: quantize to 0 instead of getting their own exponent 2**-60 and blowing up the
#: accumulator. Same tolerance as :func:`symmetry`.
ZERO_RTOL = 1e-9


def _cleaned(h: np.ndarray) -> np.ndarray:
    """Float taps with round-off zeros set to 0 and (anti)symmetry made exact.

    Symmetric pairs then quantize identically.
    """
    h = np.where(np.abs(h) <= ZERO_RTOL * np.max(np.abs(h)), 0.0, h)
    s = symmetry(h)
    if s is Symmetry.EVEN:
        return (h + h[::-1]) / 2
    if s is Symmetry.ODD:
        return (h - h[::-1]) / 2
    return h


def _quantize_own_exponent(h: np.ndarray, W: np.ndarray, rounding: Rounding, max_frac):
    """Round each h (broadcast against W) to W signed bits at its own smallest exponent.

    Returns (q, frac): integer significands (float64, exact) and fractional bits, with
    value q * 2**-frac; q = 0, frac = 0 where h = 0. With ``max_frac``, a coefficient
    whose own frac would exceed it is rounded on the 2**-max_frac grid instead (fewer
    significant bits, possibly 0).
    """
    # |h| = m * 2**p with 0.5 <= m < 1: int_bits p+1 always holds h itself; p holds it only
    # when it rounds to exactly -2**(p-1); p+2 is needed when rounding carries up to 2**p.
    _, p = np.frexp(h)
    p = np.broadcast_to(p, W.shape)
    hb = np.broadcast_to(h, W.shape)
    hi = np.ldexp(1.0, W - 1)
    q = np.zeros(W.shape)
    frac = np.zeros(W.shape, dtype=np.int64)
    todo = np.broadcast_to(h != 0, W.shape).copy()
    for de in (0, 1, 2):
        f = W - (p + de)
        if max_frac is not None:
            f = np.minimum(f, max_frac)
        qc = _round(np.ldexp(hb, f), rounding)
        ok = todo & (qc >= -hi) & (qc <= hi - 1)
        q[ok] = qc[ok]
        frac[ok] = f[ok]
        todo &= ~ok
    if max_frac is not None:
        # A capped coefficient may round to 0: it is then a zero tap, not a 2**-frac one.
        frac = np.where(q == 0, 0, frac)
    return q, frac


def _check_taps(h: np.ndarray):
    if h.ndim != 1 or h.size < 1:
        raise ValueError(f"taps must be a non-empty 1-D array, not shape {h.shape}")
    if not np.all(np.isfinite(h)):
        raise ValueError("taps must be finite numbers")


def _check_widths(h: np.ndarray, W: np.ndarray):
    if W.shape[-1] != h.size:
        raise ValueError(f"widths must have one width per tap ({h.size}), not {W.shape[-1]}")
    if W.size and (W.min() < 2 or W.max() > 52):
        bad = W.min() if W.min() < 2 else W.max()
        raise ValueError(f"coefficient width must be between 2 and 52 bits, not {bad}")


def quantize_coefficients(
    h, widths, rounding: Rounding = Rounding.ROUND_HALF_EVEN, max_frac: int | None = None
):
    """Quantize float taps to per-coefficient widths on a common LSB.

    Scaling: coefficient k with width b_k (bits, sign included) gets its OWN exponent: the
    smallest int_bits_k such that h_k, rounded to b_k signed bits, fits (rounding may carry
    up to the next power of two, e.g. 0.9999 at 4 bits needs int_bits 2: 1.0 = 0b0100 * 2**-2),
    so it has frac f_k = b_k - int_bits_k and is the nearest b_k-bit value (for the
    rounding mode). All are then put on the common LSB 2**-F, F = max_k f_k, by a left
    shift of F - f_k bits: raw_k = q_k << (F - f_k). A shift adds trailing zeros only, so
    ``coef_significant_bits(raw_k) <= b_k`` (what :class:`FirSpec` checks) and the hardware
    constant of tap k is a b_k-bit multiplier. Zero taps stay 0, and so do taps within
    :data:`ZERO_RTOL` (1e-9) of the largest (float round-off of a design zero).
    (Anti)symmetric float designs (within the same tolerance) are symmetrized first, so
    pairs with equal widths get identical (negated) integers.

    The common LSB makes the accumulator grow with the dynamic range of the taps (a tap of
    2**-30 at 10 bits puts F near 40); ``max_frac`` caps F for such designs.

    Parameters
    ----------
    h : array_like of float, shape (L,)
        Float taps.
    widths : sequence of int, shape (L,)
        Width of each coefficient (bits, sign included), 2..52.
    rounding : Rounding
        Rounding of each coefficient to its grid (no overflow is possible: the exponent adapts).
    max_frac : int or None
        Finest allowed LSB 2**-max_frac: a coefficient whose own frac exceeds it is rounded
        on that grid instead (fewer significant bits, possibly 0). None: no cap.

    Returns
    -------
    (tuple of int, int)
        Raw integer coefficients and the common fractional bits F (value = raw * 2**-F).
    """
    h = np.asarray(h, dtype=np.float64)
    _check_taps(h)
    h = _cleaned(h)
    W = np.asarray(widths, dtype=np.int64)
    _check_widths(h, W)
    if W.ndim != 1:
        raise ValueError(f"widths must be 1-D, not shape {W.shape}")
    q, frac = _quantize_own_exponent(h, W, rounding, max_frac)
    nz = q != 0
    if not np.any(nz):
        return tuple(0 for _ in h), 0
    F = int(frac[nz].max())
    raw = tuple(int(qk) << (F - int(fk)) if qk != 0 else 0 for qk, fk in zip(q, frac, strict=True))
    return raw, F


def quantize_coefficient_batch(
    h, W, rounding: Rounding = Rounding.ROUND_HALF_EVEN, max_frac: int | None = None
) -> np.ndarray:
    """Quantized coefficient values for many width allocations at once (for search).

    Same scaling and rounding as :func:`quantize_coefficients` (per-coefficient exponent),
    returning values only: row i equals ``raw * 2**-F`` of ``quantize_coefficients(h, W[i])``.

    Parameters
    ----------
    h : array_like of float, shape (L,)
        Float taps.
    W : array_like of int, shape (n, L)
        Width allocation per candidate (bits, sign included), 2..52.
    rounding : Rounding
        Rounding of each coefficient.
    max_frac : int or None
        Cap on the coefficient LSB, as in :func:`quantize_coefficients`.

    Returns
    -------
    numpy.ndarray of float64, shape (n, L)
        Quantized coefficient values.
    """
    h = np.asarray(h, dtype=np.float64)
    _check_taps(h)
    h = _cleaned(h)
    W = np.asarray(W, dtype=np.int64)
    if W.ndim != 2:
        raise ValueError(f"W must be a 2-D (n_candidates, L) array, not shape {W.shape}")
    _check_widths(h, W)
    q, frac = _quantize_own_exponent(h, W, rounding, max_frac)
    return np.ldexp(q, -frac)


def fir_spec_from_design(
    h,
    widths,
    input_format: QFormat,
    output_format: QFormat,
    rounding: Rounding = Rounding.ROUND_HALF_UP,
    overflow: Overflow = Overflow.SATURATE,
    form: FirForm = FirForm.DIRECT,
    fold_symmetric: bool = False,
    multiplier: Multiplier = Multiplier.CSD,
    pipeline: int = 1,
    coef_rounding: Rounding = Rounding.ROUND_HALF_EVEN,
    max_coef_frac: int | None = None,
) -> FirSpec:
    """Build the :class:`FirSpec` of float taps quantized to per-tap widths.

    Parameters
    ----------
    h : array_like of float, shape (L,)
        Float taps.
    widths : sequence of int, shape (L,)
        Width of each coefficient (bits, sign included); see :func:`expand_widths` for
        per-variable allocations.
    input_format, output_format : QFormat
        Signed sample formats.
    rounding, overflow :
        Modes of the output rounding point.
    form, fold_symmetric, multiplier, pipeline :
        Hardware structure, passed to :class:`FirSpec`.
    coef_rounding : Rounding
        Rounding of the coefficients (:func:`quantize_coefficients`).
    max_coef_frac : int or None
        Cap on the common coefficient LSB (:func:`quantize_coefficients` ``max_frac``).

    Returns
    -------
    FirSpec
    """
    raw, frac = quantize_coefficients(h, widths, coef_rounding, max_coef_frac)
    return FirSpec(
        coefficients=raw,
        coef_frac=frac,
        coef_widths=tuple(int(w) for w in widths),
        input_format=input_format,
        output_format=output_format,
        rounding=rounding,
        overflow=overflow,
        form=form,
        fold_symmetric=fold_symmetric,
        multiplier=multiplier,
        pipeline=pipeline,
    )
