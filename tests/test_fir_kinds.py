"""Filter kinds beyond the linear-phase lowpass/highpass/bandpass/bandstop: Kaiser and
window designs (and the cutoff form), halfband, multi-band remez, user coefficients,
minimum phase, and the linear-phase types I-IV. Every float design is compared with the
``scipy.signal`` call it stands for."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.signal

from bitsmith.cli import main
from bitsmith.config import ConfigError
from bitsmith.flows import load_config
from bitsmith.sim import (
    FirDesign,
    Rounding,
    Symmetry,
    bands,
    design_fir,
    linear_phase_type,
    meets,
    phase_type_conflict,
    quantize_coefficient_batch,
    quantize_coefficients,
    response_metrics,
    symmetry,
    variable_map,
)
from bitsmith.sim.fir._coefficients import load_coefficients

ROOT = Path(__file__).resolve().parents[1]
FIR_CONFIGS = sorted((ROOT / "configs" / "fir").glob("*.yaml"))
REQUIRED = ["bandpass", "highpass_kaiser", "halfband", "long_lowpass", "even_length",
            "user_coefficients", "minimum_phase", "multiband"]

TAIL = """\
input: {int_bits: 1, frac_bits: 15}
output: {int_bits: 2, frac_bits: 17}
allocation: {min_bits: 2, max_bits: 18, n_particles: 8, n_iter: 5, bisection_steps: 2,
             compare: [uniform]}
verification: {simulators: [icarus], random_samples: 2000, icarus_share: 1.0}
synthesis: {enabled: false}
report: {noise_samples: 5000, pareto_points: 0}
"""


def _cfg(tmp_path, filter_yaml: str, tail: str = TAIL) -> Path:
    p = tmp_path / "fir.yaml"
    p.write_text("kind: fir\nseed: 3\nfilter:\n" + filter_yaml + tail)
    return p


def _setup(path):
    from bitsmith.flows.fir._flow import setup

    _, cfg, _ = load_config(path)
    logs = []
    return setup(cfg, path, logs.append), logs


def _config_error(tmp_path, capsys, filter_yaml, tail=TAIL):
    """Exit status and the one-line stderr of running a config that should be refused."""
    p = _cfg(tmp_path, filter_yaml, tail)
    out = tmp_path / "out"
    code = main(["run", str(p), "-o", str(out), "-q"])
    err = capsys.readouterr().err.strip()
    assert not out.exists()
    return code, err


# -- Kaiser, windows and the cutoff form ---------------------------------------------------


def test_kaiser_beta_given_equals_firwin():
    d = FirDesign("lowpass", (0.2, 0.3), numtaps=51, method="kaiser", beta=5.5)
    ref = scipy.signal.firwin(51, 0.25, window=("kaiser", 5.5), fs=2)
    np.testing.assert_array_equal(design_fir(d), ref)


def test_kaiser_beta_from_attenuation_and_kaiserord_length():
    d = FirDesign("highpass", (0.3, 0.4), method="kaiser", stopband_atten_db=70,
                  passband_ripple_db=0.1)
    n, beta = scipy.signal.kaiserord(70, 0.1)
    assert beta == pytest.approx(scipy.signal.kaiser_beta(70))
    n = n | 1
    ref = scipy.signal.firwin(n, 0.35, window=("kaiser", scipy.signal.kaiser_beta(70)),
                              pass_zero=False, fs=2)
    h = design_fir(d)
    assert h.size == n
    np.testing.assert_array_equal(h, ref)


def test_cutoff_form_equals_firwin_with_those_cutoffs():
    d = FirDesign("bandstop", cutoff=(0.3, 0.6), width=0.08, numtaps=81, method="kaiser",
                  stopband_atten_db=50)
    ref = scipy.signal.firwin(81, [0.3, 0.6], window=("kaiser", scipy.signal.kaiser_beta(50)),
                              pass_zero=True, fs=2)
    np.testing.assert_array_equal(design_fir(d), ref)
    assert d.edges == pytest.approx((0.26, 0.34, 0.56, 0.64))
    assert [b.kind for b in bands(d)] == ["pass", "stop", "pass"]
    # in Hz: the same filter
    d_hz = FirDesign("bandstop", cutoff=(300.0, 600.0), width=80.0, numtaps=81,
                     method="kaiser", stopband_atten_db=50, fs=2000.0)
    np.testing.assert_allclose(design_fir(d_hz), ref, rtol=0, atol=1e-15)


@pytest.mark.parametrize("window", ["hamming", ("tukey", 0.5), ("chebwin", 80)])
def test_window_choice_equals_firwin(window):
    d = FirDesign("lowpass", (0.2, 0.3), numtaps=61, method="firwin", window=window)
    ref = scipy.signal.firwin(61, 0.25, window=window, fs=2)
    np.testing.assert_array_equal(design_fir(d), ref)


def test_window_from_yaml_list(tmp_path):
    p = _cfg(tmp_path, "  {response: lowpass, edges: [0.2, 0.3], numtaps: 61, method: firwin,"
                       " window: [tukey, 0.5], stopband_atten_db: 20, passband_ripple_db: 1}\n")
    st, _ = _setup(p)
    ref = scipy.signal.firwin(61, 0.25, window=("tukey", 0.5), fs=2)
    np.testing.assert_array_equal(st.h, ref)


@pytest.mark.parametrize(("filt", "message"), [
    ("{edges: [0.2, 0.3], method: firwin, window: nosuchwindow}",
     r"filter\.window: window 'nosuchwindow' is not a scipy.signal window"),
    ("{edges: [0.2, 0.3], method: remez, beta: 5}",
     r"filter\.beta: beta applies to method kaiser only, not remez"),
    ("{cutoff: [0.25], method: kaiser}",
     r"filter\.width: cutoff needs width"),
    ("{cutoff: [0.25], width: 0.1, method: remez}",
     r"filter\.cutoff: cutoff applies to the window methods"),
    ("{edges: [0.2, 0.3], cutoff: [0.25], width: 0.1, method: kaiser}",
     r"filter\.cutoff: give either edges or cutoff"),
])
def test_window_config_errors(tmp_path, capsys, filt, message):
    code, err = _config_error(tmp_path, capsys, f"  {filt}\n")
    assert code == 2, err
    assert len(err.splitlines()) == 1, err
    assert re.search(message, err), err


# -- halfband ------------------------------------------------------------------------------


def test_halfband_equals_unscaled_firwin_with_exact_zeros_and_centre():
    d = FirDesign("halfband", (0.4, 0.6), numtaps=51, method="kaiser", stopband_atten_db=60,
                  passband_ripple_db=0.01)
    h = design_fir(d)
    beta = scipy.signal.kaiser_beta(60)  # the tighter of the two targets
    ref = scipy.signal.firwin(51, 0.5, window=("kaiser", beta), scale=False, fs=2)
    np.testing.assert_allclose(h, ref, rtol=0, atol=1e-15)
    c = 25
    off = np.arange(51) - c
    assert h[c] == 0.5
    assert np.all(h[(off % 2 == 0) & (off != 0)] == 0.0)
    assert np.all(h[off % 2 == 1] != 0.0)
    assert symmetry(h) is Symmetry.EVEN
    m = response_metrics(h, h, d)
    assert meets(d, m), m
    # the zeros and the centre stay exact at every width
    for b in (2, 3, 8, 16):
        raw, frac = quantize_coefficients(h, [b] * 51)
        q = np.array(raw) * 2.0**-frac
        assert np.all(q[(off % 2 == 0) & (off != 0)] == 0.0)
        assert q[c] == 0.5
    Q = quantize_coefficient_batch(h, np.full((3, 51), 5), Rounding.ROUND_HALF_EVEN)
    assert np.all(Q[:, (off % 2 == 0) & (off != 0)] == 0.0) and np.all(Q[:, c] == 0.5)


def test_halfband_length_estimate_is_4k_plus_3():
    d = FirDesign("halfband", (0.45, 0.55), method="kaiser", stopband_atten_db=70,
                  passband_ripple_db=0.001)
    n = d.estimated_numtaps()
    assert n % 4 == 3
    assert n >= scipy.signal.kaiserord(70, 0.1)[0]
    assert design_fir(d).size == n


def test_halfband_zeros_are_not_search_variables(tmp_path):
    p = _cfg(tmp_path, "  {response: halfband, edges: [0.4, 0.6], numtaps: 43,\n"
                       "   stopband_atten_db: 50, passband_ripple_db: 0.05}\n")
    st, logs = _setup(p)
    h = st.h
    zero = np.flatnonzero(h == 0)
    assert zero.size == 20  # offsets +-2, +-4, ..., +-20 from the centre
    assert st.zero_taps == 20
    covered = {k for taps in st.vmap for k in taps}
    assert covered.isdisjoint(zero.tolist())
    assert len(st.vmap) == 12  # 11 odd-offset pairs + the centre
    assert any("20 taps are exact zeros" in line for line in logs)
    # every candidate the search can produce has width 0 (pruned) and value 0 there
    rng = np.random.default_rng(0)
    X = np.array([[rng.choice(c) for c in st.choices] for _ in range(16)])
    W = st.problem.tap_widths(X)
    assert np.all(W[:, zero] == 0)
    assert np.all(st.problem.quantized(X)[:, zero] == 0.0)
    raw, frac, widths = st.problem.raw(X[:1])
    assert all(raw[k] == 0 and widths[k] == 0 for k in zero)


@pytest.mark.parametrize(("filt", "message"), [
    ("{response: halfband, edges: [0.4, 0.5]}",
     r"filter\.edges: a halfband needs f_pass \+ f_stop = 1 \(Nyquist\), not 0.4 \+ 0.5"),
    ("{response: halfband, edges: [0.4, 0.6], numtaps: 41}",
     r"filter\.numtaps: a halfband needs numtaps = 4k\+3"),
    ("{response: halfband, edges: [0.4, 0.6], method: remez}",
     r"filter\.method: a halfband is designed with a window"),
    ("{response: halfband, edges: [0.4, 0.6], phase: minimum}",
     r"filter\.phase: phase minimum does not apply to a halfband"),
])
def test_halfband_config_errors(tmp_path, capsys, filt, message):
    code, err = _config_error(tmp_path, capsys, f"  {filt}\n")
    assert code == 2, err
    assert re.search(message, err), err


# -- multi-band remez ----------------------------------------------------------------------


def test_multiband_equals_remez():
    bl = ((0.0, 0.15), (0.25, 0.45), (0.55, 1.0))
    d = FirDesign("multiband", band_list=bl, desired=(1.0, 0.0, 0.5), weights=(1.0, 5.0, 2.0),
                  numtaps=47, method="remez", stopband_atten_db=50, passband_ripple_db=0.2)
    ref = scipy.signal.remez(47, [0, 0.15, 0.25, 0.45, 0.55, 1.0], [1, 0, 0.5],
                             weight=[1, 5, 2], fs=2)
    np.testing.assert_array_equal(design_fir(d), ref)
    assert [(b.kind, b.gain) for b in bands(d)] == [("pass", 1.0), ("stop", 0.0),
                                                     ("pass", 0.5)]
    # ripple is relative to each band's gain: the 0.5 passband is not 6 dB of "ripple"
    m = response_metrics(ref, ref, d)
    assert m.passband_ripple_db < 0.2
    assert meets(d, m)
    # default weights: 1/delta, a passband's delta scaled by its gain
    d0 = FirDesign("multiband", band_list=bl, desired=(1.0, 0.0, 0.5), numtaps=47,
                   method="remez", stopband_atten_db=50, passband_ripple_db=0.2)
    dp, ds = d0.delta_pass, d0.delta_stop
    ref0 = scipy.signal.remez(47, [0, 0.15, 0.25, 0.45, 0.55, 1.0], [1, 0, 0.5],
                              weight=[1 / dp, 1 / ds, 1 / (0.5 * dp)], fs=2)
    np.testing.assert_array_equal(design_fir(d0), ref0)


def test_multiband_firls_equals_firls():
    bl = ((0.0, 0.2), (0.3, 0.6), (0.7, 1.0))
    d = FirDesign("multiband", band_list=bl, desired=(0.0, 1.0, 0.0), weights=(3, 1, 3),
                  numtaps=61, method="firls")
    ref = scipy.signal.firls(61, [0, 0.2, 0.3, 0.6, 0.7, 1.0], [0, 0, 1, 1, 0, 0],
                             weight=[3, 1, 3], fs=2)
    np.testing.assert_array_equal(design_fir(d), ref)


@pytest.mark.parametrize(("filt", "message"), [
    ("{response: multiband, bands: [[0, 0.2], [0.3, 1]], desired: [1], numtaps: 31}",
     r"filter\.desired: desired needs one gain per band \(2\), not 1"),
    ("{response: multiband, bands: [[0, 0.3], [0.2, 1]], desired: [1, 0], numtaps: 31}",
     r"filter\.bands: bands must increase and not touch"),
    ("{response: multiband, bands: [[0, 0.2], [0.3, 1]], desired: [1, 0], weights: [1, -2],"
     " numtaps: 31}", r"filter\.weights: weights must be > 0"),
    ("{response: multiband, bands: [[0, 0.2], [0.3, 1]], desired: [1, 0], method: firwin,"
     " numtaps: 31}", r"filter\.method: a multiband response is designed with method remez"),
    # a passband reaching Nyquist with an even length: type II has a zero there
    ("{response: multiband, bands: [[0, 0.2], [0.3, 1]], desired: [0, 1], numtaps: 30}",
     r"filter\.numtaps: a multiband needs an odd number of taps \(numtaps 30 makes a type II "
     r"linear-phase filter, which has a zero at Nyquist"),
])
def test_multiband_config_errors(tmp_path, capsys, filt, message):
    code, err = _config_error(tmp_path, capsys, f"  {filt}\n")
    assert code == 2, err
    assert re.search(message, err), err


@pytest.mark.parametrize(("filt", "message"), [
    ("{edges: [0.2, 0.3], bands: [[0, 0.2], [0.3, 1]]}",
     r"filter\.bands: bands: for response multiband only"),
    ("{edges: [0.2, 0.3], weights: [1, 2]}",
     r"filter\.weights: weights: for response multiband only"),
    ("{edges: [0.2, 0.3], width: 0.1}", r"filter\.width: width applies to the cutoff form"),
    ("{coefficients: [0.2, 0.5, 0.2], max_error_db: -40, window: hann}",
     r"filter\.window: window: for designed filters, not for user coefficients"),
])
def test_keys_of_other_kinds_are_refused(tmp_path, capsys, filt, message):
    code, err = _config_error(tmp_path, capsys, f"  {filt}\n")
    assert code == 2, err
    assert re.search(message, err), err



# -- user coefficients ---------------------------------------------------------------------


def test_user_coefficients_list_are_the_taps(tmp_path):
    c = [0.1, -0.2, 0.7, 0.3, 0.05]  # no symmetry
    p = _cfg(tmp_path, f"  {{coefficients: {c}, max_error_db: -50}}\n")
    st, logs = _setup(p)
    np.testing.assert_array_equal(st.h, c)
    assert st.design.response is None and bands(st.design) == ()
    assert st.symmetry is Symmetry.NONE and st.phase_type is None
    assert st.vmap == tuple((k,) for k in range(5))
    assert any("non-linear phase, one variable per tap, fold_symmetric off" in m for m in logs)
    # the spec: max |H_q - H| / max |H| against 10**(-50/20)
    from bitsmith.sim import frequency_response

    x = np.array([c[-1] for c in st.choices])
    Q = st.problem.quantized(x[None, :])
    n = st.problem.n_freq
    assert n == 4096  # the grid of the final check
    _, H = frequency_response(np.array(c), n)
    _, Hq = frequency_response(Q[0], n)
    want = np.abs(Hq - H).max() / (np.abs(H).max() * 10 ** (-50 / 20))
    assert st.problem.spec_error(Q)[0] == pytest.approx(want, rel=1e-12)
    x2 = np.array([c[0] for c in st.choices])
    e2 = float(st.problem.error(x2[None, :])[0])
    assert e2 > 1  # 2-bit coefficients miss -50 dB


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_coe_radix_10_and_16(tmp_path):
    p10 = _write(tmp_path / "a.coe", "; comment\nradix=10;\ncoefdata=\n-105,\n2040,\n"
                                     "8634,\n2040,\n-105;\n")
    np.testing.assert_array_equal(load_coefficients(p10), [-105, 2040, 8634, 2040, -105])
    # Xilinx writes radix 16 zero-padded to the width: two's complement at 4 bits a digit
    p16 = _write(tmp_path / "b.coe", "Radix = 16;\nCoefData = FF97, 07F8, 21BA,\n"
                                     "07F8, FF97;\n")
    np.testing.assert_array_equal(load_coefficients(p16), [-105, 2040, 8634, 2040, -105])
    p16m = _write(tmp_path / "c.coe", "radix=16;\ncoefdata=-69,7f8;\n")
    np.testing.assert_array_equal(load_coefficients(p16m), [-105, 2040])


def test_text_and_npy_coefficients(tmp_path):
    t = _write(tmp_path / "h.txt", "# taps\n0.25\n\n0.5  # centre\n0.25\n")
    np.testing.assert_array_equal(load_coefficients(t), [0.25, 0.5, 0.25])
    n = tmp_path / "h.npy"
    np.save(n, np.array([0.1, 0.2, -0.3]))
    np.testing.assert_array_equal(load_coefficients(n), [0.1, 0.2, -0.3])


@pytest.mark.parametrize(("name", "text", "message"), [
    ("nan.txt", "0.1\n0.2\nnan\n", r"nan.txt:3: nan is not finite"),
    ("inf.txt", "0.1\n-inf\n", r"inf.txt:2: -inf is not finite"),
    ("junk.txt", "0.1\n0.2x\n", r"junk.txt:2: '0.2x' is not a number"),
    ("empty.txt", "# nothing\n\n", r"empty.txt: no coefficients in the file"),
    ("zero.txt", "0\n0.0\n-0\n", r"zero.txt: every coefficient is zero"),
    ("bad.coe", "radix=10;\ncoefdata=\n1,\n2.5,\n3;\n", r"bad.coe:4: '2.5' is not a radix-10"),
    ("radix.coe", "radix=2;\ncoefdata=1,0;\n", r"radix.coe:1: radix 2 is not supported"),
    ("open.coe", "radix=10;\ncoefdata=1,2,\n", r"open.coe: coefdata does not end with ';'"),
    ("noradix.coe", "coefdata=1,2;\n", r"noradix.coe:1: coefdata before 'radix"),
])
def test_bad_coefficient_file_is_one_line_exit_2(tmp_path, capsys, name, text, message):
    _write(tmp_path / "data" / name, text)
    code, err = _config_error(tmp_path, capsys,
                              f"  {{coefficients: data/{name}, max_error_db: -40}}\n")
    assert code == 2, err
    assert len(err.splitlines()) == 1, err
    assert "filter.coefficients" in err and str(tmp_path / "data" / name) in err, err
    assert re.search(message, err), err


@pytest.mark.parametrize(("coefs", "message"), [
    ("[0.1, .nan, 0.2]", r"coefficients\[1\] is nan"),
    ("[0.1, .inf]", r"coefficients\[1\] is inf"),
    ("[0, 0, 0]", r"every coefficient is zero"),
    ("[]", r"coefficients is empty"),
])
def test_bad_coefficient_list_names_the_item(tmp_path, capsys, coefs, message):
    code, err = _config_error(tmp_path, capsys, f"  {{coefficients: {coefs}, max_error_db: -40}}\n")
    assert code == 2, err
    assert re.search(message, err), err


def test_npy_nan_names_the_item(tmp_path, capsys):
    (tmp_path / "data").mkdir()
    np.save(tmp_path / "data" / "h.npy", np.array([0.1, 0.2, np.nan, 0.1]))
    code, err = _config_error(tmp_path, capsys, "  {coefficients: data/h.npy, max_error_db: -40}\n")
    assert code == 2 and re.search(r"h.npy: item 2 is nan", err), err


def test_user_coefficients_without_a_spec_are_refused(tmp_path, capsys):
    code, err = _config_error(tmp_path, capsys, "  {coefficients: [0.1, 0.5, 0.1]}\n")
    assert code == 2 and "need max_error_db" in err, err


def test_user_coefficients_with_a_mask(tmp_path):
    """With response + edges the mask is checked as for a designed filter: the float taps
    must meet it, and so must the quantized ones."""
    h = scipy.signal.remez(31, [0, 0.2, 0.35, 1], [1, 0], weight=[1, 10], fs=2)
    np.savetxt(tmp_path / "h.txt", h)
    p = _cfg(tmp_path, "  {coefficients: h.txt, response: lowpass, edges: [0.2, 0.35],\n"
                       "   passband_ripple_db: 0.5, stopband_atten_db: 40}\n")
    st, _ = _setup(p)
    np.testing.assert_allclose(st.h, h, rtol=1e-15)  # savetxt keeps 18 digits
    assert st.phase_type == "I"
    bad = _cfg(tmp_path, "  {coefficients: h.txt, response: lowpass, edges: [0.2, 0.35],\n"
                         "   passband_ripple_db: 0.5, stopband_atten_db: 60}\n")
    with pytest.raises(ConfigError, match=r"the float user-coefficient design with 31 taps "
                                          r"does not meet the spec itself"):
        _setup(bad)


# -- linear-phase types --------------------------------------------------------------------


def test_linear_phase_types():
    assert linear_phase_type([1, 2, 3, 2, 1]) == "I"
    assert linear_phase_type([1, 2, 2, 1]) == "II"
    assert linear_phase_type([1, 2, 0, -2, -1]) == "III"
    assert linear_phase_type([1, 2, -2, -1]) == "IV"
    assert linear_phase_type([1, 2, 3]) is None
    # the forced zeros: type II at Nyquist, III at DC and Nyquist, IV at DC, checked
    # against the spec mask
    for t, f in (("II", 1.0), ("III", 0.0), ("III", 1.0), ("IV", 0.0)):
        H = np.polyval({"II": [1, 2, 2, 1], "III": [1, 2, 0, -2, -1],
                        "IV": [1, 2, -2, -1]}[t], np.exp(1j * np.pi * f))
        assert abs(H) < 1e-12, (t, f)
    lp = bands(FirDesign("lowpass", (0.2, 0.3)))
    hp = bands(FirDesign("highpass", (0.2, 0.3)))
    assert phase_type_conflict("I", hp) is None
    assert phase_type_conflict("II", lp) is None
    assert "zero at Nyquist" in phase_type_conflict("II", hp)
    assert "zero at DC" in phase_type_conflict("IV", lp)
    assert phase_type_conflict("IV", hp) is None
    assert phase_type_conflict("III", hp) is not None


@pytest.mark.parametrize(("response", "edges"), [("highpass", "[0.3, 0.4]"),
                                                 ("bandstop", "[0.2, 0.3, 0.5, 0.6]")])
def test_even_length_highpass_or_bandstop_is_refused(tmp_path, capsys, response, edges):
    code, err = _config_error(tmp_path, capsys, f"  {{response: {response}, edges: {edges}, "
                                                f"numtaps: 40}}\n")
    assert code == 2, err
    assert re.search(rf"filter\.numtaps: a {response} needs an odd number of taps", err), err


def test_user_antisymmetric_taps_against_a_lowpass_mask_are_refused(tmp_path, capsys):
    code, err = _config_error(tmp_path, capsys,
                              "  {coefficients: [0.1, 0.3, 0.0, -0.3, -0.1], response: lowpass,"
                              " edges: [0.2, 0.3]}\n")
    assert code == 2, err
    assert re.search(r"make a type III linear-phase filter, which has a zero at DC", err), err


def test_even_length_type_ii_is_detected(tmp_path):
    p = _cfg(tmp_path, "  {response: lowpass, edges: [0.2, 0.3], numtaps: 46, method: remez,\n"
                       "   passband_ripple_db: 0.2, stopband_atten_db: 50}\n")
    st, logs = _setup(p)
    np.testing.assert_array_equal(
        st.h, scipy.signal.remez(46, [0, 0.2, 0.3, 1], [1, 0],
                                 weight=[1 / st.design.delta_pass, 1 / st.design.delta_stop],
                                 fs=2))
    assert st.phase_type == "II"
    assert any("linear phase type II (even symmetry, even length: zero at Nyquist)" in m
               for m in logs)
    assert len(st.vmap) == 23


# -- minimum phase -------------------------------------------------------------------------


def test_minimum_phase_equals_scipy_of_the_squared_spec_prototype():
    d = FirDesign("lowpass", (0.2, 0.3), numtaps=32, method="remez", phase="minimum",
                  passband_ripple_db=0.5, stopband_atten_db=40)
    proto = FirDesign("lowpass", (0.2, 0.3), numtaps=63, method="remez",
                      passband_ripple_db=1.0, stopband_atten_db=80)
    h_proto = scipy.signal.remez(63, [0, 0.2, 0.3, 1], [1, 0],
                                 weight=[1 / proto.delta_pass, 1 / proto.delta_stop], fs=2)
    ref = scipy.signal.minimum_phase(h_proto, method="homomorphic")
    h = design_fir(d)
    np.testing.assert_array_equal(h, ref)
    assert h.size == 32
    assert symmetry(h) is Symmetry.NONE
    assert variable_map(32, symmetry(h)) == [(k,) for k in range(32)]
    # the final magnitude meets the (unsquared) spec; the prototype's targets are doubled
    m = response_metrics(h, h, d)
    assert meets(d, m), m
    # the energy is at the front (minimum phase), unlike a linear-phase filter's
    e = np.cumsum(h**2) / np.sum(h**2)
    h_lin = design_fir(FirDesign("lowpass", (0.2, 0.3), numtaps=32, method="remez",
                                 passband_ripple_db=0.5, stopband_atten_db=40))
    e_lin = np.cumsum(h_lin**2) / np.sum(h_lin**2)
    assert e[7] > 0.8 > 0.2 > e_lin[7]


def test_minimum_phase_with_explicit_fold_is_refused(tmp_path, capsys):
    tail = TAIL + "implementation: {fold_symmetric: true}\n"
    code, err = _config_error(tmp_path, capsys, "  {response: lowpass, edges: [0.2, 0.3], "
                                                "numtaps: 32, phase: minimum}\n", tail)
    assert code == 2, err
    assert "implementation: fold_symmetric: true needs symmetric coefficients" in err, err


# -- the shipped configs -------------------------------------------------------------------


def test_required_fir_configs_are_shipped():
    names = {p.stem for p in FIR_CONFIGS}
    assert set(REQUIRED) <= names, set(REQUIRED) - names
    assert list((ROOT / "configs" / "fir" / "data").glob("*.coe"))


@pytest.mark.parametrize("path", FIR_CONFIGS, ids=lambda p: p.stem)
def test_shipped_fir_config_validates(path):
    """The schema, and the float design of the filter section meets its own mask."""
    from bitsmith.flows.fir._config import filter_design

    kind, cfg, _ = load_config(path)
    assert kind == "fir"
    d = filter_design(cfg["filter"])
    h = design_fir(d)
    if bands(d):
        assert meets(d, response_metrics(h, h, d)), path.stem
    else:
        assert d.max_error_db is not None


@pytest.mark.slow
@pytest.mark.parametrize("path", FIR_CONFIGS, ids=lambda p: p.stem)
def test_shipped_fir_config_passes_setup(path):
    """Schema, design and reachability (steps 1-3 of the flow, before any search)."""
    st, logs = _setup(path)
    d = st.design
    m = response_metrics(st.h, st.h, d)
    if bands(d):
        assert meets(d, m), (path.stem, m)
    assert st.problem.n_var == len(st.vmap) >= 1
    if path.stem == "long_lowpass":
        assert st.h.size >= 127
        _, cfg, _ = load_config(path)
        assert cfg["synthesis"]["enabled"]
    if path.stem == "halfband":
        assert st.zero_taps > 0
    if path.stem == "even_length":
        assert st.phase_type == "II"
    if path.stem == "minimum_phase":
        assert st.phase_type is None and d.phase == "minimum"
    if path.stem == "user_coefficients":
        assert d.coefficients is not None


@pytest.mark.hdl
@pytest.mark.slow
def test_halfband_end_to_end(tmp_path, require_simulator):
    require_simulator("icarus")
    p = _cfg(tmp_path, "  {response: halfband, edges: [0.4, 0.6], numtaps: 43,\n"
                       "   stopband_atten_db: 50, passband_ripple_db: 0.05}\n")
    out = tmp_path / "out"
    code = main(["run", str(p), "-o", str(out), "-q"])
    s = json.loads((out / "summary.json").read_text())
    assert code == 0, s.get("checks")
    assert s["meets_spec"] and s["linear_phase_type"] == "I" and s["zero_taps"] == 20
    assert s["variables"] == 12 and s["design"] == "halfband kaiser"
    alloc = json.loads((out / "allocation.json").read_text())
    off = np.arange(43) - 21
    zero = (off % 2 == 0) & (off != 0)
    assert all(alloc["widths_per_tap"][k] == 0 and alloc["coefficients"][k] == 0
               for k in np.flatnonzero(zero))
    assert alloc["coefficients"][21] * 2.0 ** -alloc["coef_frac"] == 0.5
    assert s["verification"]["icarus"]["mismatches"] == 0
    assert "type I" in (out / "report.md").read_text()
