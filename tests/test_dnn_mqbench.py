"""The small MQ-Bench (sampling, parallel evaluation on a dask LocalCluster), proxy
ranking, evolved-program validity, and multipoint quantization."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from bitsmith.flows.dnn_alloc._config import DnnAllocConfig  # noqa: E402
from bitsmith.flows.dnn_alloc._mq import mqbench_data, sample_configs  # noqa: E402
from bitsmith.sim import dnn  # noqa: E402


def test_sample_configs_distinct_and_seeded():
    a = sample_configs(6, 500, seed=0)
    assert a.shape == (500, 6) and set(np.unique(a)) == {2, 3, 4}
    assert len({tuple(r) for r in a}) == 500
    np.testing.assert_array_equal(a, sample_configs(6, 500, seed=0))
    with pytest.raises(ValueError, match="must not exceed the 729 distinct"):
        sample_configs(6, 730, seed=0)


def _cfg(tmp_path, n):
    cfg = DnnAllocConfig(kind="dnn_allocation").model_dump()
    cfg["model"].update(epochs=2, cache_dir=str(tmp_path / "ck"))
    cfg["mqbench"]["n_configs"] = n
    return cfg


@pytest.mark.slow
def test_mqbench_on_local_cluster_matches_in_process(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    cfg = _cfg(tmp_path, 20)
    local = mqbench_data(cfg, 0, lambda f, *it: [f(*a) for a in zip(*it, strict=True)],
                         cache_dir=tmp_path / "a")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        ex = client.get_executor()
        remote = mqbench_data(cfg, 0, lambda f, *it: list(ex.map(f, *it)),
                              cache_dir=tmp_path / "b")
    assert remote["w_bits"] == local["w_bits"]
    assert remote["accuracy"] == local["accuracy"]
    # cached: a corrupt file is regenerated, a good one is read back
    f = next((tmp_path / "a").glob("mqbench-*.json"))
    f.write_text("{broken")
    again = mqbench_data(cfg, 0, lambda fn, *it: [fn(*a) for a in zip(*it, strict=True)],
                         cache_dir=tmp_path / "a")
    assert again["accuracy"] == local["accuracy"]


def test_spearman_at_top_k():
    s = np.arange(10.0)
    assert dnn.spearman_at(s, s ** 2, 1.0) == pytest.approx(1.0)
    assert dnn.spearman_at(s, -s, 0.5) == pytest.approx(-1.0)


def test_invalid_programs_rejected():
    rng = np.random.default_rng(0)
    t = [{"W": rng.normal(size=9), "G": rng.normal(size=9), "H": rng.normal(size=9),
          "A": rng.normal(size=20)} for _ in range(3)]
    with pytest.raises(dnn.InvalidProgram, match="sizes 9 and 20"):
        dnn.program_values(("reduce", "sum", ("bin", "mul", ("leaf", "W"), ("leaf", "A"))), t)
    same = [{k: np.ones(4) for k in "WGHA"} for _ in range(3)]
    with pytest.raises(dnn.InvalidProgram, match="same statistic"):
        dnn.program_values(("reduce", "sum", ("leaf", "W")), same)
    w = rng.integers(2, 5, size=(30, 3))
    acc = w @ np.array([1.0, 0.1, 3.0]) + 0.01 * rng.normal(size=30)
    tt = [{"W": np.full(5, v), "G": rng.normal(size=5), "H": rng.normal(size=5),
           "A": rng.normal(size=7)} for v in (1.0, 0.1, 3.0)]
    best, info = dnn.evolve_proxy(tt, w, acc, generations=10, pop_size=12, seed=1)
    assert info["fitness"] > 0.9
    assert dnn.evolve_proxy(tt, w, acc, generations=10, pop_size=12, seed=1)[0] == best


def test_multipoint_residual_shrinks():
    rng = np.random.default_rng(2)
    w = rng.normal(size=64)
    errs = []
    for n in (1, 2, 3, 4):
        a, q = dnn.multipoint_channel(w, 2, n)
        assert q.shape == (n, 64) and np.abs(q).max() <= 1
        errs.append(float(((a @ q - w) ** 2).sum()))
    assert all(e2 < 0.7 * e1 for e1, e2 in zip(errs, errs[1:], strict=False))


# -- the shipped MQ-Bench file ----------------------------------------------------------------

def _default_cfg():
    from pathlib import Path

    from bitsmith.flows import load_config

    _, cfg, _ = load_config(str(Path(__file__).resolve().parents[1] /
                                "configs/dnn/digits_cnn.yaml"))
    return cfg


def _no_mapper(*_a):
    raise AssertionError("the shipped file should have been used, not regenerated")


def test_shipped_mqbench_loads_without_evaluating(tmp_path):
    from bitsmith.flows.dnn_alloc._mq import _key, load_shipped, shipped_path

    cfg = _default_cfg()
    n = cfg["mqbench"]["n_configs"]
    assert n >= 500
    path = shipped_path(cfg["model"]["arch"], 0)
    assert path.is_file() and path.parent.name == "data"
    doc = load_shipped(cfg, 0)
    assert doc is not None and doc["key"] == _key(cfg, 0, n)
    w = np.asarray(doc["w_bits"])
    acc = np.asarray(doc["accuracy"])
    assert w.shape == (n, 6) and set(np.unique(w)) == {2, 3, 4}
    assert len({tuple(r) for r in w}) == n
    np.testing.assert_array_equal(w, sample_configs(6, n, seed=0))  # the generator's sample
    assert 0.5 < acc.min() < acc.max() <= 1.0 and len(np.unique(acc)) > 50
    # test accuracy on 500 images: multiples of 1/500
    np.testing.assert_allclose(acc * 500, np.round(acc * 500), atol=1e-9)
    # an empty cache falls back on the shipped file (nothing trained, nothing evaluated)
    got = mqbench_data(cfg, 0, _no_mapper, cache_dir=tmp_path / "empty")
    assert got["accuracy"] == doc["accuracy"] and not (tmp_path / "empty").exists()


def test_shipped_mqbench_not_used_when_generator_hash_differs(tmp_path):
    from bitsmith.flows.dnn_alloc._mq import _key, load_shipped, ship

    cfg = _default_cfg()
    other = {**cfg, "quantization": {**cfg["quantization"], "clip_search": False}}
    assert _key(other, 0, 600) != _key(cfg, 0, 600)
    assert load_shipped(other, 0) is None
    # ship() refuses a document of another config, and rewrites nothing that is current
    with pytest.raises(ValueError, match="does not belong to this config"):
        ship(other, 0, load_shipped(cfg, 0))
    assert ship(cfg, 0, load_shipped(cfg, 0)) is False
    called = []

    def mapper(f, *it):
        called.append(len(it[0]))
        return [[0.5] * len(c) for c in it[2]]

    other["model"] = {**other["model"], "epochs": 1, "cache_dir": str(tmp_path / "ck")}
    doc = mqbench_data(other, 0, mapper, cache_dir=tmp_path / "c")
    assert called == [12] and doc["key"] == _key(other, 0, 600) != load_shipped(cfg, 0)["key"]


@pytest.mark.slow
def test_proxy_table_from_shipped_file(tmp_path):
    """The Spearman table is computed from the shipped configurations and accuracies."""
    from bitsmith.flows.dnn_alloc._mq import load_shipped, proxy_table

    cfg = _default_cfg()
    cfg["model"] = {**cfg["model"], "cache_dir": str(tmp_path / "ck")}
    cfg["mqbench"] = {**cfg["mqbench"], "generations": 2}
    cfg["sensitivity"] = {**cfg["sensitivity"], "min_probes": 4, "max_probes": 8}
    torch.set_num_threads(1)
    doc = load_shipped(cfg, 0)
    tab = proxy_table(cfg, 0, doc)
    assert tab["n_configs"] == 600 and tab["n_fit"] + tab["n_heldout"] == 600
    acc = np.asarray(doc["accuracy"])
    assert tab["acc_min"] == acc.min() and tab["acc_max"] == acc.max()
    sp = tab["spearman"]
    assert {"hessian", "params", "hawq_omega", "mpqco_omega", "evolved"} <= set(sp)
    for vals in sp.values():
        assert len(vals) == 3 and all(np.isnan(v) or -1 <= v <= 1 for v in vals)
    # a proxy's Spearman really is the held-out one on the shipped accuracies: the params
    # proxy scores a configuration by its parameter-weighted bits
    rng = np.random.default_rng([0, 7])
    held = rng.permutation(600)[300:]
    w = np.asarray(doc["w_bits"])[held]
    from bitsmith.hwmodels.dnn import trace_model
    from bitsmith.sim.dnn import build_digits_model, spearman_at

    params = np.array([la.params for la in trace_model(build_digits_model("digits_cnn"),
                                                       torch.zeros(1, 1, 8, 8))])
    want = spearman_at(w @ params, acc[held], 1.0)
    assert sp["params"][2] == pytest.approx(want, abs=1e-6)
