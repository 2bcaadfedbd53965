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
