"""Receiver simulation: quantizers, AQNM factors, Monte Carlo BER against closed forms and
an independent simulation, the exact enumeration, the ADC cost model."""

import math

import numpy as np
import pytest
import torch
from scipy import integrate
from scipy.stats import norm

from bitsmith.hwmodels import receiver as hwr
from bitsmith.sim import receiver as rx


@pytest.mark.parametrize("bits", [1, 2, 3, 4])
def test_uniform_step_matches_max_1960(bits):
    # Max (1960), table of optimum uniform quantizers for a unit-variance Gaussian
    assert rx.optimal_uniform_step(bits) == pytest.approx(rx.MAX_1960_UNIFORM_STEP[bits],
                                                          rel=1e-3)


def _quad_moments(t, y):
    """E[(x-Q)^2], E[x Q], E[Q^2] for N(0,1) by numerical integration, cell by cell."""
    edges = [-np.inf, *t, np.inf]
    mse = gain = power = 0.0
    for a, b, lv in zip(edges[:-1], edges[1:], y, strict=True):
        mse += integrate.quad(lambda x, lv=lv: (x - lv) ** 2 * norm.pdf(x), a, b)[0]
        gain += integrate.quad(lambda x, lv=lv: x * lv * norm.pdf(x), a, b)[0]
        power += lv**2 * (norm.cdf(b) - norm.cdf(a))
    return mse, gain, power


@pytest.mark.parametrize("bits", [1, 2, 3, 4, 5])
def test_aqnm_rho_reproduced_by_numerical_integration(bits):
    t, y = rx.lloyd_max(bits)
    mse, gain, power = _quad_moments(t, y)
    # the issue's / Max's AQNM distortion factors, within 1 %
    assert mse == pytest.approx(rx.AQNM_RHO_TABLE[bits], rel=0.01)
    # AQNM relations of a Lloyd-Max quantizer: gain 1 - rho, distortion rho (1 - rho)
    assert gain == pytest.approx(1 - mse, rel=1e-6)
    assert power - gain**2 == pytest.approx(mse * (1 - mse), rel=1e-5)
    st = rx.quantizer_stats("lloyd_max", bits)
    assert st["mse"] == pytest.approx(mse, rel=1e-6)


@pytest.mark.parametrize("bits, rel", [(6, 0.035), (7, 0.02), (8, 0.01)])
def test_aqnm_high_resolution_formula(bits, rel):
    mse, _, _ = _quad_moments(*rx.lloyd_max(bits))
    assert mse == pytest.approx(rx.aqnm_rho(bits), rel=rel)  # (pi sqrt3 / 2) 4^-b


def test_uniform_quantizer_levels_and_saturation():
    step = rx.optimal_uniform_step(3)
    x = torch.tensor([-100.0, -0.01, 0.01, 0.3 * step, 1.2 * step, 100.0], dtype=torch.float64)
    q = rx.quantize_real(x, *rx.quantizer_tables("uniform", 3))
    expect = np.array([-3.5, -0.5, 0.5, 0.5, 1.5, 3.5]) * step
    np.testing.assert_allclose(q.numpy(), expect)


@pytest.mark.parametrize("modulation", ["qpsk", "16qam"])
def test_modulation_roundtrip_unit_energy(modulation):
    g = torch.Generator().manual_seed(1)
    bps = 2 if modulation == "qpsk" else 4
    b = torch.randint(0, 2, (3, 500, bps), generator=g, dtype=torch.uint8)
    s = rx.modulate(b, modulation)
    assert torch.equal(rx.demodulate(s, modulation), b)
    assert float((s.abs() ** 2).mean()) == pytest.approx(1.0, rel=0.05)


@pytest.mark.parametrize("n_rx, n_users, snr_db", [(8, 4, 0.0), (4, 2, 5.0)])
def test_unquantized_zf_ber_matches_closed_form(n_rx, n_users, snr_db):
    spec = rx.ReceiverSpec(n_rx=n_rx, n_users=n_users, modulation="qpsk")
    res = rx.ber_monte_carlo(spec, None, snr_db, seed=11, detectors=("zf",),
                             min_errors=10**9, max_batches=16, n_channels=64, n_symbols=64)
    r = res["zf"]
    exact = rx.zf_qpsk_rayleigh_ber(n_rx, n_users, snr_db)
    assert r.ci_low <= exact <= r.ci_high, (r, exact)
    assert r.ci_high - r.ci_low < 0.3 * exact  # an informative interval


def _numpy_one_bit(n_rx, n_users, snr_db, n_ch, n_sym, seed):
    """Independent 1-bit simulation: QPSK, Rayleigh, sign ADCs, ZF and Bussgang LMMSE.

    1-bit facts used: a sign quantizer with output +-sqrt(2/pi) sigma per dimension has
    Bussgang gain 2/pi and distortion (2/pi)(1 - 2/pi) of the input power.
    """
    rng = np.random.default_rng(seed)
    n0 = 10 ** (-snr_db / 10)
    H = (rng.standard_normal((n_ch, n_rx, n_users))
         + 1j * rng.standard_normal((n_ch, n_rx, n_users))) / math.sqrt(2)
    b = rng.integers(0, 2, (n_ch, n_users, n_sym, 2))
    s = ((1 - 2 * b[..., 0]) + 1j * (1 - 2 * b[..., 1])) / math.sqrt(2)
    n = (rng.standard_normal((n_ch, n_rx, n_sym))
         + 1j * rng.standard_normal((n_ch, n_rx, n_sym))) * math.sqrt(n0 / 2)
    y = H @ s + n
    p = (np.abs(H) ** 2).sum(axis=2) + n0
    # sign ADC after an AGC to unit variance per dimension, output back in input units
    q = np.sqrt(p / 2)[:, :, None] * math.sqrt(2 / math.pi) * (np.sign(y.real)
                                                               + 1j * np.sign(y.imag))
    g, d = 2 / math.pi, (2 / math.pi) * (1 - 2 / math.pi)
    out = {}
    Hh = np.conj(np.swapaxes(H, 1, 2))
    Wzf = np.linalg.solve(Hh @ H, Hh)
    c = g**2 * n0 + d * p
    A = (Hh * (g**2 / c)[:, None, :]) @ H + np.eye(n_users)
    Wb = np.linalg.solve(A, Hh * (g / c)[:, None, :])
    for name, W in (("zf", Wzf), ("bussgang", Wb)):
        e = W @ q
        err = ((e.real < 0) != b[..., 0]).sum(axis=(1, 2)) + ((e.imag < 0) != b[..., 1]).sum(
            axis=(1, 2))
        per = err / (n_users * n_sym * 2)
        out[name] = (per.mean(), per.std(ddof=1) / math.sqrt(n_ch))
    return out


def test_one_bit_ber_matches_independent_simulation():
    n_rx, n_users, snr = 8, 2, 5.0
    spec = rx.ReceiverSpec(n_rx=n_rx, n_users=n_users, modulation="qpsk", min_bits=1)
    res = rx.ber_monte_carlo(spec, [1] * n_rx, snr, seed=3, detectors=("zf", "bussgang"),
                             min_errors=10**9, max_batches=4, n_channels=128, n_symbols=64)
    ref = _numpy_one_bit(n_rx, n_users, snr, 512, 64, seed=5)
    for d in ("zf", "bussgang"):
        r = res[d]
        se = (r.ci_high - r.ci_low) / (2 * 1.96)
        m, se_ref = ref[d]
        assert abs(r.ber - m) <= 3.5 * math.hypot(se, se_ref), (d, r, m, se_ref)
        assert r.ber > 1e-3  # a 1-bit receiver does make errors here


def test_exhaustive_equals_brute_force():
    from bitsmith.flows.receiver import ReceiverProblem, exhaustive

    spec = rx.ReceiverSpec(n_rx=4, n_users=2, min_bits=1, max_bits=5)
    H = rx.draw_channels_numpy(spec, 1, np.random.default_rng(2))[0]
    for budget in (8, 20, 45):
        prob = ReceiverProblem(spec, H, 5.0, budget)
        ex = exhaustive(prob)
        G = np.array(np.meshgrid(*[np.arange(1, 6)] * 4, indexing="ij")).reshape(4, -1).T
        err, cost = prob.evaluate(G)
        best = err[cost[:, 0] <= budget].min()
        assert ex["error"] == pytest.approx(best, abs=1e-12)
        assert ex["cost"] <= budget and ex["n_evals"] < len(G)


def test_aqnm_rate_monotone_and_unquantized_limit():
    spec = rx.ReceiverSpec(n_rx=8, n_users=3)
    H = rx.draw_channels_numpy(spec, 2, np.random.default_rng(0))
    rates = rx.aqnm_sum_rate(np.array([[b] * 8 for b in range(1, 11)]), H, 5.0)
    assert np.all(np.diff(rates) > 0)
    assert rates[-1] < rx.aqnm_sum_rate(None, H, 5.0)[0] < rates[-1] + 0.01


def test_sensitivity_is_first_order_rate_loss():
    from bitsmith.flows.receiver import ReceiverProblem

    spec = rx.ReceiverSpec(n_rx=8, n_users=3)
    H = rx.draw_channels_numpy(spec, 1, np.random.default_rng(4))[0]
    prob = ReceiverProblem(spec, H, 5.0, 2**20)
    x = np.full(8, 6)
    s = prob.sensitivity(x)
    lower = np.repeat(x[None], 8, axis=0) - np.eye(8, dtype=np.int64)
    actual = prob.error(lower) - prob.error(x[None])[0]
    np.testing.assert_allclose(s, actual, rtol=0.05)


def test_walden_cost_is_integer_power():
    spec = rx.ReceiverSpec(n_rx=4, n_users=1, fom_j=500e-15, fs_hz=1e9)
    assert hwr.antenna_cost(spec, [1, 3, 10]).tolist() == [2, 8, 1024]
    X = np.array([[1, 2, 3, 4]])
    watts = hwr.allocation_cost(spec, X)[0] * hwr.cost_unit_w(spec)
    assert watts == pytest.approx(hwr.allocation_power_w(spec, X)[0])
    assert watts == pytest.approx(2 * 500e-15 * 1e9 * (2 + 4 + 8 + 16))
    bits = rx.ReceiverSpec(n_rx=4, n_users=1, cost_model="total_bits")
    assert hwr.allocation_cost(bits, X)[0] == 2 * 10


def test_monte_carlo_stopping_rule_and_executor_independence():
    spec = rx.ReceiverSpec(n_rx=4, n_users=2, modulation="16qam")
    kw = dict(seed=(5, 1), detectors=("zf", "bussgang"), n_channels=4, n_symbols=32,
              batches_per_round=2)
    # 1-bit 16-QAM errs a lot: one round of 2 batches reaches 10 errors
    quick = rx.ber_monte_carlo(spec, [1] * 4, 10.0, min_errors=10, max_batches=20, **kw)
    assert quick["zf"].units == 2 * 4 and quick["zf"].errors >= 10
    # an unreachable error count stops at the batch cap
    capped = rx.ber_monte_carlo(spec, [1] * 4, 10.0, min_errors=10**9, max_batches=6, **kw)
    assert capped["zf"].units == 6 * 4

    def backwards(fn, items):  # a scheduler that runs the batches in another order
        items = list(items)
        return [fn(a) for a in items[::-1]][::-1]

    other = rx.ber_monte_carlo(spec, [1] * 4, 10.0, min_errors=10**9, max_batches=6,
                               map=backwards, **kw)
    assert other == capped
