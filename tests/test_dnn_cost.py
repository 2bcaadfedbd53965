"""Accelerator models: PE table vs published synthesis, roofline, vectorized cost table vs
a naive per-layer loop, allocator hand-off and byte-for-byte determinism."""

import math

import numpy as np
import pytest

from bitsmith.hwmodels.dnn import (
    cost_table,
    estimate,
    layers_from_list,
    load_accelerator,
    pair_code,
    parse_pair_code,
    pe_table,
)

ACCELS = ("bitfusion", "bitserial", "systolic_int8")


@pytest.mark.parametrize("bits, area_um2, power_uw", [
    # Bit Fusion artifact synthesis, 45 nm, 500 MHz (results/systolic_array_synth.csv).
    (2, 125, 31.6), (4, 282, 67.9), (8, 688, 171.8), (16, 2203, 542.7),
])
def test_fixed_pe_fit_reproduces_bit_fusion_synthesis(bits, area_um2, power_uw):
    t = pe_table()
    # 3-parameter area and power fits on 4 points: within 8% / 5%.
    assert float(t.fixed_area_um2(bits, bits)) == pytest.approx(area_um2, rel=0.08)
    if power_uw is not None:
        assert float(t.fixed_power_uw(bits, bits)) == pytest.approx(power_uw, rel=0.05)


def test_fusion_unit_table_and_array_area():
    t = pe_table()
    assert t.fusible(8) == (1733.0, 344.3)        # Bit Fusion: fusible 8->2 PE
    assert t.fusible(16)[0] == 7492.0             # fusible 16->2 PE area
    acc = load_accelerator("bitfusion")
    # 16x32 Fusion Units (Eyeriss-matched configuration) of 1733 um^2 each.
    assert acc.area_mm2()["array"] == pytest.approx(512 * 1733e-6)
    with pytest.raises(ValueError, match=r"max_bits must be one of 8, 16, not 4"):
        t.fusible(4)


def test_bit_fusion_mac_energy_scales_with_power_of_two_modes():
    acc = load_accelerator("bitfusion")
    e8 = acc.mac_energy_pj(8, 8)
    # The artifact's per-Fusion-Unit dynamic power: 3673.5 uW for a 4x4 array / 16, 500 MHz.
    assert e8 == pytest.approx(3673.5 / 16 / 500)
    assert acc.mac_energy_pj(4, 4) == pytest.approx(e8 / 4)
    assert acc.mac_energy_pj(2, 2) == pytest.approx(e8 / 16)
    # 3 bits run in the 4-bit mode, 5 in the 8-bit mode: perf_factor int(8/3) * int(8/5) = 2.
    assert acc.mac_energy_pj(3, 5) == pytest.approx(e8 / 2)
    assert acc.mac_energy_pj(5, 5) == acc.mac_energy_pj(7, 7) == e8
    assert tuple(acc.storage_bits(np.array([2, 3, 5, 7, 9]), 2)[0]) == (2, 4, 8, 8, 16)


def test_bit_serial_unit_is_not_cheaper_than_a_fixed_pe():
    acc = load_accelerator("bitserial")
    fixed8 = 171.8 / 500                     # fixed 8/8 PE, artifact synthesis (pJ/MAC)
    assert acc.mac_energy_pj(8, 8) > fixed8
    assert acc.mac_energy_pj(8, 8) == pytest.approx(64 * acc.mac_energy_pj(1, 1))


def test_cacti_banked_sram_matches_the_artifact():
    acc = load_accelerator("bitfusion")
    # Artifact (simulator.get_area): weight buffer 512 banks of 128 B, input 16 x 2 KiB,
    # output 32 x 512 B read-write; CACTI 45 nm areas from bitfusion/sram/cacti_sweep.csv.
    assert acc.level("weight_buffer").area_mm2 == pytest.approx(512 * 0.00149898)
    assert acc.level("input_buffer").area_mm2 == pytest.approx(16 * 0.015132)
    assert acc.level("output_buffer").area_mm2 == pytest.approx(32 * 0.00760331)
    assert acc.level("weight_buffer").energy_pj_per_bit == pytest.approx(0.683701 / 32)
    assert acc.level("input_buffer").write_energy_pj_per_bit == pytest.approx(3.63853 / 32)
    assert acc.level("dram").energy_pj_per_bit == 15


def test_horowitz_sram_and_technology_scaling():
    t = pe_table()
    # Horowitz 2014: 10 / 20 / 100 pJ per 64-bit access of 8 KB / 32 KB / 1 MB SRAM.
    for kib, pj in ((8, 10), (32, 20), (1024, 100)):
        assert t.sram_pj_per_bit(kib * 1024) * 64 == pytest.approx(pj)
    base = load_accelerator("bitfusion")
    from importlib import resources

    import yaml
    d = yaml.safe_load(resources.files("bitsmith.hwmodels.dnn").joinpath(
        "data", "bitfusion.yaml").read_text())
    d["technology"]["node_nm"] = 22.5
    scaled = load_accelerator(d)
    assert scaled.area_mm2()["array"] == pytest.approx(base.area_mm2()["array"] / 4)
    assert scaled.mac_energy_pj(8, 8) == pytest.approx(base.mac_energy_pj(8, 8) / 2)
    assert scaled.level("dram").energy_pj_per_bit == base.level("dram").energy_pj_per_bit


def test_systolic_int4_int8_runs_4_bit_macs_twice_as_fast():
    acc = load_accelerator("configs/hw/systolic_int4_int8.yaml")
    layers = layers_from_list([{"name": "c", "kind": "conv2d", "in_channels": 64,
                                "out_channels": 64, "kernel": 1, "in_size": 8}])
    c = {b: estimate(layers, acc, (b, b))["layers"][0]["compute_cycles"] for b in (3, 4, 5, 8)}
    assert c[3] == c[4] and c[5] == c[8] == 2 * c[4]
    assert acc.mac_energy_pj(4, 4) == pytest.approx(acc.mac_energy_pj(8, 8) / 2)


def test_systolic_int8_ignores_narrow_bits(mobilenet):
    acc = load_accelerator("systolic_int8")
    a = estimate(mobilenet, acc, (8, 8))["totals"]
    b = estimate(mobilenet, acc, (4, 4))["totals"]
    assert a["energy_uj"] == b["energy_uj"] and a["latency_cycles"] == b["latency_cycles"]
    assert b["bops"] * 4 == a["bops"]


def test_bitfusion_w4a4_latency_ratio_and_memory_bound_layers(resnet18):
    acc = load_accelerator("bitfusion")
    r8 = estimate(resnet18, acc, (8, 8))
    r4 = estimate(resnet18, acc, (4, 4))
    ratio = r4["totals"]["latency_cycles"] / r8["totals"]["latency_cycles"]
    assert 0.25 < ratio < 1.0  # between compute-bound (1/4) and memory-bound (1)
    by = {r["name"]: r for r in r4["layers"]}
    # fc: each weight is used once at batch 1, so DRAM streaming dominates.
    fc = by["fc"]
    assert fc["memory_bound"] and fc["memory_cycles"] > 10 * fc["compute_cycles"]
    assert fc["latency_cycles"] == fc["memory_cycles"]
    # layer1 3x3 convs: 64x64x9 weights reused over 56x56 positions: compute-bound.
    c = by["layer1.0.conv2"]
    assert not c["memory_bound"] and c["latency_cycles"] == c["compute_cycles"]
    # Compute cycles of layer1.0.conv2 by hand: 3136 positions x ceil(576*4/(16*16))
    # reduction tiles x ceil(64/32) column tiles.
    assert c["compute_cycles"] == 3136 * 9 * 2


def test_bitserial_cycles_scale_with_bw_times_ba():
    layers = layers_from_list([{"name": "c", "kind": "conv2d", "in_channels": 256,
                                "out_channels": 64, "kernel": 1, "in_size": 16}])
    acc = load_accelerator("bitserial")
    c = [estimate(layers, acc, (b, b))["layers"][0]["compute_cycles"] for b in (2, 4, 8)]
    assert c[1] == 4 * c[0] and c[2] == 16 * c[0]


def _naive(layer, acc, bw, ba, batch=1, first=False):
    """Per-layer cost written out with Python integers (the README equations)."""
    cd = lambda a, b: -(-a // b)  # noqa: E731
    P, G, K = layer.positions * batch, layer.groups, layer.reduction
    CG = layer.out_channels // G
    taps = layer.kernel[0] * layer.kernel[1]
    gpc = max(1, acc.cols // CG) if G > 1 else 1
    steps = cd(G, gpc) * cd(CG, acc.cols)
    im2col = acc.conv_mapping == "im2col" or (acc.conv_mapping == "artifact" and first)
    im2col = im2col or G > 1          # grouped: channels across columns, taps in rows
    if acc.kind == "systolic":
        p = next(q for q in acc.precisions if q >= max(bw, ba))
        s = acc.speedup[acc.precisions.index(p)]
        sw = sa = p
        red = cd(K, acc.rows * s) if im2col else taps * cd(K // taps, acc.rows * s)
        compute = P * steps * red
    elif acc.kind == "bitfusion":
        mode = lambda b: next(m for m in (2, 4, 8, 16) if m >= b)  # noqa: E731
        sw, sa = mode(bw), mode(ba)
        br = sw // 2 * (sa // 2)
        red = cd(K * br, acc.rows * 16) if im2col else taps * cd(K // taps * br, acc.rows * 16)
        compute = P * steps * red
    else:
        sw, sa = bw, ba
        cyc = bw * ba if acc.serial == "both" else ba
        compute = cd(P, acc.rows) * steps * cd(K, acc.lanes) * cyc
    W = layer.weight_elems * sw
    I, O = layer.input_elems * batch * sa, layer.output_elems * batch * sa  # noqa: E741
    wb = acc.level("weight_buffer").size_bytes * 8
    ib = acc.level("input_buffer").size_bytes * 8
    a_in = I * (cd(W, wb) if I > ib else 1)
    b_w = W * (cd(I, ib) if W > wb else 1)
    dw, di = (W, a_in) if W + a_in <= b_w + I else (b_w, I)
    dram = dw + di + O
    macs = layer.macs * batch
    if acc.kind == "bitserial":
        wr = cd(P, acc.rows) * G * CG * K * sw
    else:
        wr = macs * sw
    ir = P * G * K * cd(CG, acc.cols) * sa
    lv = {m.name: m for m in acc.memory}
    mem = math.ceil(max(dram / lv["dram"].bandwidth_bits_per_cycle,
                        (dw + wr) / lv["weight_buffer"].bandwidth_bits_per_cycle,
                        (di + ir) / lv["input_buffer"].bandwidth_bits_per_cycle,
                        2 * O / lv["output_buffer"].bandwidth_bits_per_cycle))
    if acc.kind == "bitfusion":
        ec = compute * acc.units * 3673.5 / 16 / 500     # artifact: array dynamic power
    else:
        ec = macs * float(acc.mac_energy_pj(bw, ba))
    wbuf, ibuf, obuf = lv["weight_buffer"], lv["input_buffer"], lv["output_buffer"]
    e = (ec + dw * wbuf.write_energy_pj_per_bit + wr * wbuf.energy_pj_per_bit
         + di * ibuf.write_energy_pj_per_bit + ir * ibuf.energy_pj_per_bit
         + O * (obuf.write_energy_pj_per_bit + obuf.energy_pj_per_bit)
         + dram * lv["dram"].energy_pj_per_bit) * 1e-6
    return {"latency_cycles": max(compute, mem) / batch, "compute_cycles": compute / batch,
            "memory_cycles": mem / batch, "dram_bytes": dram / 8 / batch,
            "energy_uj": e / batch, "bops": layer.macs * bw * ba,
            "weight_bytes": layer.params * bw / 8}


@pytest.mark.parametrize("accel", ACCELS + ("configs/hw/systolic_int4_int8.yaml",))
@pytest.mark.parametrize("seed", [0, 1])
def test_vectorized_table_equals_naive_loop(accel, seed):
    rng = np.random.default_rng(seed)
    entries = []
    for i in range(12):
        k = int(rng.choice([1, 3, 5]))
        cin = int(rng.integers(1, 300))
        dw = bool(rng.integers(0, 4) == 0)
        entries.append({"name": f"l{i}", "kind": "conv2d", "in_channels": cin,
                        "out_channels": cin if dw else int(rng.integers(1, 600)),
                        "groups": cin if dw else 1, "kernel": k, "padding": k // 2,
                        "stride": int(rng.integers(1, 3)), "in_size": int(rng.integers(k, 80))})
    entries.append({"name": "fc", "kind": "linear", "in_features": 2048, "out_features": 1000})
    entries.append({"name": "att", "kind": "matmul", "in_features": 4 * 64,
                    "out_features": 4 * 50, "groups": 4, "in_size": [50, 1]})
    layers = layers_from_list(entries)
    acc = load_accelerator(accel)
    batch = (1, 16)[seed]
    table = cost_table(layers, acc, batch=batch)
    for li, layer in enumerate(layers):
        for wi, bw in enumerate(table.w_bits):
            for ai, ba in enumerate(table.a_bits):
                ref = _naive(layer, acc, bw, ba, batch, first=li == 0)
                for key, v in ref.items():
                    got = table.metrics[key][li, wi, ai]
                    assert got == pytest.approx(v, rel=1e-12), (layer.name, bw, ba, key)


def test_pair_code_round_trip_and_order():
    codes = [pair_code(w, a) for w in range(2, 9) for a in range(2, 9)]
    assert codes == sorted(codes) and len(set(codes)) == 49
    assert pair_code(4, 8) == 408 and parse_pair_code(408) == (4, 8)


def test_problem_handoff_solves_with_mckp_dp(resnet18):
    from bitsmith.search import minimize

    acc = load_accelerator("bitfusion")
    table = cost_table(resnet18, acc)
    lo = table.flat("energy_uj").min(axis=1).sum()
    hi = table.flat("energy_uj").max(axis=1).sum()
    budget = lo + 0.3 * (hi - lo)  # uJ
    prob = table.problem("energy_uj", budget, resolution=1.0)
    assert prob.n_var == len(resnet18) and prob.choices[0] == table.codes
    res = minimize(prob, method="mckp_dp")
    assert res.feasible
    bits = {la.name: parse_pair_code(c) for la, c in zip(resnet18, res.x, strict=True)}
    e = estimate(resnet18, acc, bits)["totals"]["energy_uj"]
    assert e <= budget
    # A tighter budget cannot give a smaller error.
    res2 = minimize(table.problem("energy_uj", lo + 0.1 * (hi - lo)), method="mckp_dp")
    assert res2.error >= res.error


def test_problem_error_table_shape_checked(resnet18):
    table = cost_table(resnet18[:3], load_accelerator("bitfusion"))
    with pytest.raises(ValueError, match=r"error_table must have 49 choices per layer"):
        table.problem("bops", 1e12, error_table=np.zeros((3, 48)))
    with pytest.raises(KeyError, match=r"metric must be one of .*, not 'area'"):
        table.problem("area", 1.0)


def test_bits_outside_accelerator_range(resnet18):
    with pytest.raises(ValueError, match=r"weight bits must be integers between 2 and 16 on "
                                         r"accelerator 'bitfusion' \(bitfusion\), not 1"):
        estimate(resnet18, load_accelerator("bitfusion"), (1, 8))


@pytest.mark.parametrize("patch, match", [
    ({"kind": "tpu"}, r"accelerator\.kind: must be one of bitfusion, bitserial, systolic, "
                      r"not 'tpu'"),
    ({"rows": 0}, r"accelerator\.rows: must be an integer > 0, not 0"),
    ({"memory": {"dram": {"energy_pj_per_bit": 20}}},
     r"accelerator\.memory\.weight_buffer: must be a mapping, not None"),
    ({"colls": 3}, r"accelerator\.colls: unknown key"),
    ({"conv_mapping": "winograd"}, r"accelerator\.conv_mapping: must be one of im2col, "
                                   r"per_tap, artifact, not 'winograd'"),
    ({"max_bits": 32}, r"accelerator: Bit Fusion fuses 2-bit BitBricks into 2, 4, 8 and "
                       r"16-bit modes: min_bits must be >= 2 and max_bits <= 16, not 2 and 32"),
])
def test_accelerator_yaml_errors(patch, match):
    from importlib import resources

    import yaml
    d = yaml.safe_load(resources.files("bitsmith.hwmodels.dnn").joinpath(
        "data", "bitfusion.yaml").read_text())
    d.update(patch)
    with pytest.raises(ValueError, match=match):
        load_accelerator(d)


@pytest.mark.parametrize("name", ACCELS)
def test_configs_hw_match_package_data(name):
    assert load_accelerator(f"configs/hw/{name}.yaml") == load_accelerator(name)


def test_cost_table_files_deterministic(tmp_path, resnet18):
    acc = load_accelerator("bitfusion")
    for i in range(2):
        t = cost_table(resnet18, acc)
        t.to_json(tmp_path / f"t{i}.json")
        t.to_npz(tmp_path / f"t{i}.npz")
    assert (tmp_path / "t0.json").read_bytes() == (tmp_path / "t1.json").read_bytes()
    assert (tmp_path / "t0.npz").read_bytes() == (tmp_path / "t1.npz").read_bytes()
    import zipfile
    # Fixed member dates: files written in different seconds are identical too.
    with zipfile.ZipFile(tmp_path / "t0.npz") as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    z = np.load(tmp_path / "t0.npz")
    assert z["energy_uj"].shape == (21, 7, 7)
    assert np.array_equal(z["bops"], t.metrics["bops"])
