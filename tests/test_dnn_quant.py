"""sim/dnn: PTQ fake-quant vs integer path, Hutchinson vs the exact Hessian, checkpoints,
and the allocation solvers on the digits model's tables."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from bitsmith.sim import dnn  # noqa: E402
from bitsmith.sim.fixed import Rounding  # noqa: E402


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The digits CNN after 4 epochs (seconds), calibrated, in a private cache."""
    torch.set_num_threads(1)
    data = dnn.load_digits_split(0)
    cache = tmp_path_factory.mktemp("dnn-cache")
    model, info = dnn.load_or_train("digits_cnn", data, seed=0, epochs=4, cache_dir=cache)
    assert info["trained"]
    return data, model, dnn.calibrate(model, data.x_calib, clip_search=True), cache


def _configs():
    rng = np.random.default_rng(1)
    out = [([8] * 6, [8] * 6, Rounding.ROUND_HALF_EVEN),
           ([2] * 6, [4] * 6, Rounding.TRUNCATE),
           ([12] * 6, [12] * 6, Rounding.ROUND_HALF_UP),   # wide: the float64 path
           ([1, 2, 3, 4, 5, 6], [8, 7, 6, 5, 4, 3], Rounding.ROUND_TO_ZERO)]
    for r in Rounding:
        out.append((list(rng.integers(2, 9, 6)), list(rng.integers(2, 9, 6)), r))
    return out


@pytest.mark.parametrize(("w_bits", "a_bits", "rounding"), _configs())
def test_fake_and_integer_paths_agree_exactly(trained, w_bits, a_bits, rounding):
    data, _, calib, _ = trained
    q = dnn.quantize_network(calib, w_bits, a_bits, rounding)
    x = data.x_test[:120]
    fake = dnn.fake_forward(q, x, return_all=True)
    exact = dnn.integer_forward(q, x, return_all=True)
    assert len(fake) == len(exact) == 6
    for f, e in zip(fake, exact, strict=True):
        assert f.dtype == e.dtype == np.int64
        np.testing.assert_array_equal(f, e)
    # the requantized activations really lie on their grids
    for la, out in zip(q.layers[:-1], exact[:-1], strict=True):
        assert out.min() >= la.out_fmt.raw_min and out.max() <= la.out_fmt.raw_max


def test_w8a8_keeps_float_accuracy(trained):
    data, model, calib, _ = trained
    fl = dnn.accuracy(model, data.x_test, data.y_test)
    q8 = dnn.quantized_accuracy(dnn.quantize_network(calib, [8] * 6, [8] * 6),
                                data.x_test, data.y_test)
    assert abs(q8 - fl) <= 0.01


def test_quantize_weight_per_channel_symmetric_and_bounds():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(5, 3, 3, 3)) * np.arange(1, 6)[:, None, None, None]
    for b in (2, 3, 4, 8):
        q, s = dnn.quantize_weight(w, b)
        qm = 2 ** (b - 1) - 1
        assert q.min() >= -qm and q.max() <= qm and s.shape == (5,)
        # the largest weight of each channel maps to the top level (no clipping search)
        np.testing.assert_allclose(np.abs(w).reshape(5, -1).max(1) / s, qm)
    with pytest.raises(ValueError, match="weight bits must be between 1 and 16, not 17"):
        dnn.quantize_weight(w, 17)


def test_unsupported_layer_is_named():
    from collections import OrderedDict

    from torch import nn

    net = nn.Sequential(OrderedDict([("c", nn.Conv2d(1, 2, 3)), ("bn", nn.BatchNorm2d(2))]))
    with pytest.raises(dnn.UnsupportedModelError, match="layer 'bn' is a BatchNorm2d"):
        dnn.weight_layers(net)


def test_corrupt_checkpoint_is_retrained(trained):
    data, model, _, cache = trained
    path = dnn.checkpoint_path("digits_cnn", 0, 4, cache_dir=cache)
    assert path.is_file()
    path.write_bytes(b"not a checkpoint")
    m2, info = dnn.load_or_train("digits_cnn", data, seed=0, epochs=4, cache_dir=cache)
    assert info["trained"] and "unreadable" in info["reason"]
    # deterministic training: the rebuilt checkpoint is the same model
    for a, b in zip(model.state_dict().values(), m2.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    m3, info = dnn.load_or_train("digits_cnn", data, seed=0, epochs=4, cache_dir=cache)
    assert not info["trained"]


def _tiny():
    from torch import nn

    torch.manual_seed(3)
    return nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 3))


def test_hutchinson_agrees_with_exact_hessian_within_interval():
    """Per-layer Hutchinson traces vs the brute-force block traces of
    torch.autograd.functional.hessian on a tiny model (9-parameter blocks)."""
    import torch.nn.functional as F

    model = _tiny().double()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4))
    y = rng.integers(0, 3, 32)
    params = [model[0].weight, model[2].weight]
    est = dnn.hutchinson_traces(model, x, y, params=params, names=["l1", "l2"],
                                min_probes=32, max_probes=4000, rel_tol=0.05, seed=0)
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)
    shapes = [p.shape for p in params]
    sizes = [p.numel() for p in params]

    def loss(flat):
        w1, w2 = torch.split(flat, sizes)
        h = torch.tanh(F.linear(xt, w1.reshape(shapes[0]), model[0].bias))
        return F.cross_entropy(F.linear(h, w2.reshape(shapes[1]), model[2].bias), yt)

    flat = torch.cat([p.detach().reshape(-1) for p in params])
    H = torch.autograd.functional.hessian(loss, flat).numpy()
    exact = [np.trace(H[:sizes[0], :sizes[0]]), np.trace(H[sizes[0]:, sizes[0]:])]
    assert est.converged and est.n_probes >= 32
    for k in range(2):
        assert abs(est.mean[k] - exact[k]) <= est.halfwidth[k], (est.mean, est.halfwidth,
                                                                   exact)
        assert est.halfwidth[k] <= 0.05 * abs(est.mean[k])
    # one sample per probe and layer; same seed, same samples
    again = dnn.hutchinson_traces(model, x, y, params=params, min_probes=32,
                                  max_probes=4000, rel_tol=0.05, seed=0)
    np.testing.assert_array_equal(est.samples, again.samples)
    assert est.unconverged == () and np.all(est.relative_halfwidth <= 0.05)
    # stopped early: the layers above the tolerance are named, and only those
    short = dnn.hutchinson_traces(model, x, y, params=params, names=["l1", "l2"],
                                  min_probes=4, max_probes=4, rel_tol=0.05, seed=0)
    rel = short.halfwidth / np.abs(short.mean)
    np.testing.assert_allclose(short.relative_halfwidth, rel)
    assert not short.converged
    assert short.unconverged == tuple(n for n, r in zip(("l1", "l2"), rel, strict=True)
                                      if r > 0.05) != ()


def test_mpqco_omega_decreases_with_bits(trained):
    data, _, calib, _ = trained
    ow, oa = dnn.mpqco_omega(calib, data.x_calib[:200], data.y_calib[:200], [2, 4, 8],
                             [4, 8])
    assert ow.shape == (6, 3) and oa.shape == (6, 2)
    assert np.all(np.diff(ow, axis=1) < 0) and np.all(np.diff(oa, axis=1) < 0)


def test_mlp_paths_agree(tmp_path):
    data = dnn.load_digits_split(0)
    model, _ = dnn.load_or_train("digits_mlp", data, seed=1, epochs=2, cache_dir=tmp_path)
    calib = dnn.calibrate(model, data.x_calib, percentile=99.9)
    for wb, ab in (([3, 5, 2], [8, 4, 6]), ([8, 8, 8], [8, 8, 8])):
        q = dnn.quantize_network(calib, wb, ab, Rounding.ROUND_HALF_UP)
        for f, e in zip(dnn.fake_forward(q, data.x_test, return_all=True),
                        dnn.integer_forward(q, data.x_test, return_all=True), strict=True):
            np.testing.assert_array_equal(f, e)


@pytest.mark.parametrize(("bits", "a_bits", "mult_bits", "rounding"), [
    (2, 8, 12, Rounding.ROUND_HALF_EVEN),
    (3, 6, 8, Rounding.TRUNCATE),
    (2, 16, 15, Rounding.ROUND_HALF_UP),     # wide: the float64 fake path, large accumulators
    (1, 8, 12, Rounding.ROUND_TO_ZERO),
])
def test_multipoint_integer_path_agrees_with_fake(trained, bits, a_bits, mult_bits, rounding):
    """Bit-true multipoint: per-point b-bit dot products + integer scale-and-accumulate
    (integer path) give the same integers as the folded-weight fake path, every layer."""
    import copy

    data, model, _, _ = trained
    wl = dnn.weight_layers(model)
    w = [m.weight.detach().double().numpy() for _, m in wl]
    u = dnn.channel_gradients(model, data.x_calib[:100], data.y_calib[:100])
    mp, spent = dnn.multipoint_allocate(w, bits, u, np.ones(6), 60.0, max_points=3)
    assert 0 < spent <= 60 and max(int(la.points.max()) for la in mp) > 1
    m2 = copy.deepcopy(model)
    with torch.no_grad():
        for (_, mod), la in zip(dnn.weight_layers(m2), mp, strict=True):
            mod.weight.copy_(torch.as_tensor(la.weight, dtype=mod.weight.dtype))
    calib = dnn.calibrate(m2, data.x_calib)
    q = dnn.quantize_multipoint(calib, mp, [a_bits] * 6, rounding, mult_bits=mult_bits)
    qmax = 1 if bits == 1 else 2 ** (bits - 1) - 1
    for la, m in zip(q.layers, mp, strict=True):
        p = int(m.points.max())
        assert la.q_points.shape == (p,) + la.q_w.shape and np.abs(la.q_points).max() <= qmax
        assert np.abs(la.m_points).max() <= 2 ** (mult_bits - 1) - 1
        # channels with fewer points have zero multipliers in the unused ones
        used = np.arange(p)[:, None] < m.points[None, :]
        assert np.all(la.m_points[~used] == 0)
        fold = np.einsum("pc,pc...->c...", la.m_points, la.q_points)
        np.testing.assert_array_equal(fold, la.q_w)
        deq = la.q_w * la.s_w.reshape((-1,) + (1,) * (la.q_w.ndim - 1))
        rel = np.linalg.norm(deq - m.weight) / np.linalg.norm(m.weight)
        assert rel <= 4 * p * 2.0 ** -(mult_bits - 1) * qmax, rel
    x = data.x_test[:100]
    fake = dnn.fake_forward(q, x, return_all=True)
    exact = dnn.integer_forward(q, x, return_all=True)
    for f, e in zip(fake, exact, strict=True):
        np.testing.assert_array_equal(f, e)
    if mult_bits == 12:
        # the datapath keeps the multipoint network's accuracy (fake-quant at 16-bit weights)
        ref = dnn.quantized_accuracy(dnn.quantize_network(calib, [16] * 6, [a_bits] * 6),
                                     data.x_test, data.y_test)
        assert abs(dnn.quantized_accuracy(q, data.x_test, data.y_test) - ref) <= 0.02
    with pytest.raises(ValueError, match="mult_bits must lie between 2 and 15, not 1"):
        dnn.quantize_multipoint(calib, mp, [8] * 6, mult_bits=1)


def test_multipoint_eval_stays_within_the_energy_budget(trained):
    """Multipoint at the energy of uniform W3A8: the true accelerator cost of the chosen
    points does not exceed the budget (the per-point costs are only a linear estimate)."""
    from bitsmith.flows.dnn_alloc._mq import multipoint_eval
    from bitsmith.hwmodels.dnn import cost_table, load_accelerator, trace_model

    data, model, _, _ = trained
    accel = load_accelerator("bitfusion")
    layers = trace_model(model, torch.zeros(1, 1, 8, 8))
    e3 = float(cost_table(layers, accel, [2, 3], [8]).flat("energy_uj")[:, 1].sum())
    mp = multipoint_eval(model, data, layers, accel, 2, e3)
    assert mp["base_cost"] < mp["cost"] <= e3
    assert sum(mp["points"]) > sum(mp["channels"])  # extra points were bought
    assert 0.5 < mp["accuracy"] <= 1.0
