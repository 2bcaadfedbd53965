"""Benchmark and reference comparison of the DNN accelerator cost models.

1. Builds the full (bw, ba) x layer cost table of ResNet-50 (49 choices per layer, every
   metric) on each accelerator and prints the time.
2. Bit Fusion PE synthesis (artifact) against the PE fit.
3. Bit Fusion compute cycles against the artifact's formula (``hsharma35/bitfusion``,
   ``Accelerator.get_compute_cycles``, reimplemented below) on every ResNet-18 layer for
   all 49 (bw, ba) pairs, im2col and per-kernel-tap.
4. MobileNetV2 on the bit-serial array at batch 16 next to HAQ's released BISMO table
   (``mit-han-lab/haq``, ``lib/simulator/lookup_tables/``), network and per layer class.
5. HAWQ-V3 model sizes and BOPs.
6. ZigZag (``zigzag-dse``, the ``bench`` extra) on the same ResNet-18 layers with a Bit
   Fusion-like hardware description at W8A8 and W4A4, per layer, if it is installed
   (``--no-zigzag`` skips it; it takes a few minutes).

Run: .venv/bin/python benchmarks/dnn_estimate.py
"""

from __future__ import annotations

import argparse
import logging
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from bitsmith.hwmodels.dnn import (
    compute_cycles,
    cost_table,
    estimate,
    layer_costs,
    load_accelerator,
    pe_table,
    trace_model,
)
from bitsmith.hwmodels.dnn.models import build

# HAQ's released latency table for MobileNetV2 (ImageNet-100, batch 16, BISMO-style
# simulator; mit-han-lab/haq lib/simulator/lookup_tables/
# qmobilenetv2_imagenet100_batch16_latency_table.npy, indexed [layer, bw-1, ba-1]):
# per layer, the W8A8, W4A4 and W2A2 entries (simulator cycles).
HAQ_MBV2 = [
    (1620752, 804608, 401600), (3212832, 1606016, 802880), (1606416, 803008, 401440),
    (4860688, 1222848, 402112), (2409792, 1204512, 602208), (405248, 201152, 100448),
    (1824992, 458544, 116944), (3614688, 1806768, 903312), (405248, 201152, 100448),
    (1824992, 458544, 116944), (904176, 452016, 225936), (102512, 50624, 25184),
    (614512, 159792, 43024), (1205568, 602688, 301248), (102512, 50624, 25184),
    (614512, 159792, 43024), (1205568, 602688, 301248), (102512, 50624, 25184),
    (614512, 159792, 43024), (308544, 151104, 75456), (57456, 16432, 6624),
    (331888, 89136, 25424), (617088, 302208, 150912), (114800, 32816, 13216),
    (331888, 89136, 25424), (617088, 302208, 150912), (114800, 32816, 13216),
    (331888, 89136, 25424), (617088, 302208, 150912), (114800, 32816, 13216),
    (331888, 89136, 25424), (617088, 302208, 150912), (172144, 49200, 15376),
    (491632, 129072, 35408), (925632, 453312, 226368), (258160, 73776, 23056),
    (491632, 129072, 35408), (925632, 453312, 226368), (258160, 73776, 23056),
    (491632, 129072, 35408), (262080, 121536, 58176), (132208, 37680, 15968),
    (248944, 63792, 30944), (436800, 202560, 96960), (176240, 50224, 21280),
    (248944, 63792, 30944), (436800, 202560, 96960), (176240, 50224, 21280),
    (248944, 63792, 30944), (436800, 202560, 96960), (340080, 91184, 41760),
    (667872, 168496, 82336), (40021, 20006, 10001),
]


def _layers(name):
    m, s = build(name)
    return trace_model(m, torch.zeros(s, device="meta"))


def _ratio(layers, acc, key, b, ref=8, batch=1):
    lo = estimate(layers, acc, (b, b), batch=batch)["totals"][key]
    hi = estimate(layers, acc, (ref, ref), batch=batch)["totals"][key]
    return lo / hi


def _with(name, **patch):
    from importlib import resources

    d = yaml.safe_load(resources.files("bitsmith.hwmodels.dnn").joinpath(
        "data", f"{name}.yaml").read_text())
    d.update(patch)
    return load_accelerator(d)


def _artifact_cycles(ic, oc, ow, oh, b, kw, kh, iprec, wprec, im2col, N=16, M=32, pmax=8,
                     pmin=2):
    """Bit Fusion artifact, Accelerator.get_compute_cycles (overhead 0)."""
    pf = int(pmax / max(iprec, pmin)) * int(pmax / max(wprec, pmin))
    if im2col:
        return b * oh * ow * math.ceil(oc / M) * math.ceil(kw * kh * ic / (N * pf))
    return b * math.ceil(oc / M) * ow * oh * kw * kh * math.ceil(ic / (N * pf))


def bit_fusion_vs_artifact(r18) -> None:
    print("\nBit Fusion compute cycles vs the artifact's formula (ResNet-18, 21 layers, "
          "batch 1)")
    pairs = [(w, a) for w in range(2, 9) for a in range(2, 9)]
    for mapping in ("im2col", "per_tap"):
        acc = _with("bitfusion", conv_mapping=mapping)
        bw = np.array([p[0] for p in pairs])[None, :, None]
        ba = np.array([p[1] for p in pairs])[None, :, None]
        ours = compute_cycles(r18, acc, bw, ba)[:, :, 0]
        equal = 0
        tot_ref = {}
        for i, la in enumerate(r18):
            (oh, ow), (kh, kw) = la.out_size, la.kernel
            for j, (w, a) in enumerate(pairs):
                ref = _artifact_cycles(la.in_channels, la.out_channels, ow, oh, 1, kw, kh,
                                       a, w, mapping == "im2col")
                equal += int(ours[i, j] == ref)
                tot_ref[(w, a)] = tot_ref.get((w, a), 0) + ref
        print(f"  {mapping:<8}: {equal} of {len(r18) * len(pairs)} (layer, bw, ba) equal;"
              " network cycles ours / artifact:")
        line = []
        for w, a in ((8, 8), (4, 4), (2, 2), (5, 5), (6, 6), (3, 3), (2, 8)):
            j = pairs.index((w, a))
            line.append(f"W{w}A{a} {int(ours[:, j].sum()):,}/{tot_ref[(w, a)]:,}")
        print("    " + "; ".join(line))
    acc = load_accelerator("bitfusion")
    e = {b: estimate(r18, acc, (b, b))["totals"]["energy_compute_uj"] for b in (8, 6, 5, 4)}
    print(f"  compute energy (artifact dynamic power, 229.6 uW per Fusion Unit-cycle): "
          f"W8A8 {e[8]:.1f} uJ; W5A5 / W8A8 {e[5] / e[8]:.3f}, W6A6 / W8A8 "
          f"{e[6] / e[8]:.3f} (8-bit mode), W4A4 / W8A8 {e[4] / e[8]:.3f}")


def _class(la, i, n):
    if i == 0:
        return "first conv"
    if i == n - 1:
        return "classifier"
    if la.groups > 1:
        return "depthwise"
    return "expansion 1x1" if la.out_channels > la.in_channels else "projection 1x1"


def haq_comparison(mbv2) -> None:
    acc = load_accelerator("bitserial")
    print("\nMobileNetV2 on the bit-serial array (16x256x16, batch 16) vs HAQ's BISMO table")
    lat = {b: layer_costs(mbv2, acc, np.full(len(mbv2), b), np.full(len(mbv2), b),
                          batch=16)["latency_cycles"] for b in (8, 4, 2)}
    haq = np.array(HAQ_MBV2, dtype=float)
    r4, r2 = lat[4].sum() / lat[8].sum(), lat[2].sum() / lat[8].sum()
    h4, h2 = haq[:, 1].sum() / haq[:, 0].sum(), haq[:, 2].sum() / haq[:, 0].sum()
    print(f"  network latency W4A4/W8A8 ours {r4:.3f} HAQ {h4:.3f} ({(r4 / h4 - 1) * 100:+.0f}%)"
          f"; W2A2/W8A8 ours {r2:.3f} HAQ {h2:.3f} ({(r2 / h2 - 1) * 100:+.0f}%)")
    print(f"  {'layer class':<16}{'n':>3}{'share W8A8 ours':>17}{'HAQ':>6}"
          f"{'W4A4/W8A8 ours':>16}{'HAQ':>6}{'W2A2/W8A8 ours':>16}{'HAQ':>6}")
    n = len(mbv2)
    classes = [_class(la, i, n) for i, la in enumerate(mbv2)]
    for c in ("first conv", "depthwise", "expansion 1x1", "projection 1x1", "classifier"):
        idx = [i for i in range(n) if classes[i] == c]
        o8, o4, o2 = (lat[b][idx].sum() for b in (8, 4, 2))
        q8, q4, q2 = (haq[idx, k].sum() for k in range(3))
        print(f"  {c:<16}{len(idx):>3}{o8 / lat[8].sum():>17.3f}{q8 / haq[:, 0].sum():>6.3f}"
              f"{o4 / o8:>16.3f}{q4 / q8:>6.3f}{o2 / o8:>16.3f}{q2 / q8:>6.3f}")
    print("  (the DRAM bandwidth, 64 bits/cycle, is fitted to the two network ratios; the "
          "per-class columns are not fitted)")


def hawq(r50) -> None:
    print("\nHAWQ-V3 model size (MB = 2^20 bytes) and BOPs (G bit-ops), first conv and last "
          "FC at W8A8")
    print(f"  {'model':<10}{'bits':<6}{'size ours':>10}{'published':>10}{'GBOPs ours':>12}"
          f"{'published':>10}")
    pub = {("resnet18", 8): (11.1, 116), ("resnet18", 4): (5.8, 34),
           ("resnet50", 8): (24.5, 247), ("resnet50", 4): (13.1, 67)}
    for (name, b), (ps, pb) in pub.items():
        layers = _layers(name) if name == "resnet18" else r50
        bits = {"default": (b, b), layers[0].name: (8, 8), layers[-1].name: (8, 8)}
        tot = estimate(layers, load_accelerator("bitfusion"), bits)["totals"]
        print(f"  {name:<10}W{b}A{b:<4}{tot['model_size_mb']:>10.2f}{ps:>10}"
              f"{tot['bops'] / 1e9:>12.2f}{pb:>10}")


def ratios(r18, r50, mbv2) -> None:
    print("\nLatency and energy ratios vs W8A8 (uniform bits, all layers)")
    print(f"  {'model / accelerator':<30}{'batch':>6}{'metric':>9}{'W4A4':>8}{'W2A2':>8}")
    for label, layers, accn in (("MobileNetV2 / bitserial", mbv2, "bitserial"),
                                ("MobileNetV2 / bitfusion", mbv2, "bitfusion"),
                                ("ResNet-18 / bitfusion", r18, "bitfusion"),
                                ("ResNet-50 / bitfusion", r50, "bitfusion")):
        acc = load_accelerator(accn)
        for batch in (1, 16):
            for key in ("latency_cycles", "energy_uj"):
                r4 = _ratio(layers, acc, key, 4, batch=batch)
                r2 = _ratio(layers, acc, key, 2, batch=batch)
                metric = "latency" if key.startswith("latency") else "energy"
                print(f"  {label:<30}{batch:>6}{metric:>9}{r4:>8.3f}{r2:>8.3f}")
    print("  (compute-bound limits: 0.25 at W4A4 and 0.0625 at W2A2; memory-bound: 0.5, 0.25)")
    acc = load_accelerator("bitfusion")
    n = len(r18)
    bw = np.array([8] + [4] * (n - 2) + [8])
    own = layer_costs(r18, acc, bw, bw)
    nxt = layer_costs(r18, acc, bw, bw, out_bits=np.append(bw[1:], 8))
    print(f"  output charged at the producer's ba vs the next layer's (ResNet-18, W4A4 with "
          f"first/last W8A8, bitfusion): DRAM {own['dram_bytes'].sum() / 1e6:.3f} vs "
          f"{nxt['dram_bytes'].sum() / 1e6:.3f} MB, energy {own['energy_uj'].sum():.1f} vs "
          f"{nxt['energy_uj'].sum():.1f} uJ")


# ---------------------------------------------------------------------------- ZigZag


def _zz_memory(size_bits, bw_bits, e_read_bit, e_write_bit, operands, served, rw=False):
    ports = ([{"name": "rw_port_1", "type": "read_write", "bandwidth_min": bw_bits,
               "bandwidth_max": bw_bits,
               "allocation": [f"{o}, {d}" for o in operands for d in
                              (("tl", "fl", "fh", "th") if o == "O" else ("fh", "tl"))]}]
             if rw else
             [{"name": "r_port_1", "type": "read", "bandwidth_min": bw_bits,
               "bandwidth_max": bw_bits, "allocation": [f"{o}, tl" for o in operands]
               + [f"{o}, th" for o in operands if o == "O"]},
              {"name": "w_port_1", "type": "write", "bandwidth_min": bw_bits,
               "bandwidth_max": bw_bits, "allocation": [f"{o}, fh" for o in operands]
               + [f"{o}, fl" for o in operands if o == "O"]}])
    return {"size": int(size_bits), "r_cost": e_read_bit * bw_bits,
            "w_cost": e_write_bit * bw_bits, "area": 0, "latency": 1, "operands": operands,
            "ports": ports, "served_dimensions": served}


def _zz_hardware(acc, bw, ba):
    """Bit Fusion at one (bw, ba) as a ZigZag accelerator: the 16 x 32 Fusion Units become
    rows * (16 / bricks) x cols MAC units, same buffers, banks and energies."""
    pf = 16 // int(acc.bricks(bw, ba))
    d1, d2 = acc.rows * pf, acc.cols
    lv = {m.name: m for m in acc.memory}
    w, i, o, dram = lv["weight_buffer"], lv["input_buffer"], lv["output_buffer"], lv["dram"]
    units = d1 * d2
    return {
        "name": f"bitfusion_w{bw}a{ba}",
        "memories": {
            # the column accumulator: partial sums stay in the array (as in our model)
            "acc": _zz_memory(acc.accumulator_bits, 2 * acc.accumulator_bits, 0.0, 0.0,
                              ["O"], ["D1"]),
            # one weight bank per Fusion Unit, 32 bits/cycle -> per MAC unit
            "wbuf": _zz_memory(w.size_bytes * 8 / units, 32 // pf, w.energy_pj_per_bit,
                               w.write_energy_pj_per_bit, ["I2"], []),
            # one input bank per row, broadcast across the columns
            "ibuf": _zz_memory(i.size_bytes * 8 / d1, 32 // pf, i.energy_pj_per_bit,
                               i.write_energy_pj_per_bit, ["I1"], ["D2"]),
            # one output bank per column (read-write port), reduced over the rows
            "obuf": _zz_memory(o.size_bytes * 8 / d2, 32, o.energy_pj_per_bit,
                               o.write_energy_pj_per_bit, ["O"], ["D1"], rw=True),
            "dram": _zz_memory(10**10, int(dram.bandwidth_bits_per_cycle),
                               dram.energy_pj_per_bit, dram.energy_pj_per_bit,
                               ["I1", "I2", "O"], ["D1", "D2"], rw=True),
        },
        "operational_array": {"unit_energy": acc.unit_cycle_energy_pj() / pf,
                              "unit_area": 1, "dimensions": ["D1", "D2"],
                              "sizes": [d1, d2]},
    }


def _zz_workload(layers, bw, ba, sw, sa):
    out = []
    for i, la in enumerate(layers):
        prec = {"W": int(sw), "I": int(sa), "O": 32, "O_final": int(sa)}
        if la.kind == "linear":
            out.append({"id": i, "name": la.name, "operator_type": "Gemm",
                        "equation": "O[b][k]+=W[k][c]*I[b][c]", "loop_dims": ["B", "K", "C"],
                        "loop_sizes": [la.positions, la.out_channels, la.in_channels],
                        "operand_precision": prec, "operand_source": {"I": max(i - 1, 0)}})
            continue
        (oh, ow), (kh, kw), (sh, sw_) = la.out_size, la.kernel, la.stride
        out.append({
            "id": i, "name": la.name, "operator_type": "Conv",
            "equation": "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]",
            "dimension_relations": [f"ix={sw_}*ox+1*fx", f"iy={sh}*oy+1*fy"],
            "loop_dims": ["B", "K", "C", "OY", "OX", "FY", "FX"],
            "loop_sizes": [1, la.out_channels, la.in_channels, oh, ow, kh, kw],
            # No padding: ZigZag takes the input as (O-1)*s + k (229 vs 224 for conv1).
            "operand_precision": prec, "operand_source": {"I": max(i - 1, 0)}})
    return out


def zigzag_comparison(r18) -> None:
    try:
        from zigzag.api import get_hardware_performance_zigzag
    except ImportError as e:
        print(f"\nZigZag: not installed ({e}); pip install -e '.[bench]'")
        return
    logging.basicConfig(level=logging.WARNING)     # before ZigZag's own INFO set-up
    logging.getLogger().setLevel(logging.WARNING)
    # "spatial unrolling C:16 exceeded ... 3": conv1's 3 channels on 16 rows, as ours.
    logging.getLogger("zigzag").setLevel(logging.ERROR)
    acc = _with("bitfusion", conv_mapping="per_tap")
    print("\nZigZag 3.9 (LOMA, EDP-optimal mapping) vs ours, ResNet-18 on Bit Fusion "
          "(per-tap mapping, batch 1)")
    for bw, ba in ((8, 8), (4, 4)):
        sw, sa = (int(v) for v in acc.storage_bits(bw, ba))
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            t = Path(tmp)
            # Memory order is the hierarchy (innermost first): keep it.
            (t / "hw.yaml").write_text(yaml.safe_dump(_zz_hardware(acc, bw, ba),
                                                      sort_keys=False))
            (t / "wl.yaml").write_text(yaml.safe_dump(_zz_workload(r18, bw, ba, sw, sa)))
            pf = 16 // int(acc.bricks(bw, ba))
            (t / "map.yaml").write_text(yaml.safe_dump([{
                "name": "default",
                "spatial_mapping": {"D1": [f"C, {acc.rows * pf}"], "D2": [f"K, {acc.cols}"]},
                "memory_operand_links": {"O": "O", "W": "I2", "I": "I1"}}]))
            _, _, cmes = get_hardware_performance_zigzag(
                str(t / "wl.yaml"), str(t / "hw.yaml"), str(t / "map.yaml"), opt="EDP",
                dump_folder=str(t / "out"), loma_show_progress_bar=False, lpf_limit=4)
        dt = time.perf_counter() - t0
        per = cmes[0][1]
        ours = estimate(r18, acc, (bw, ba))["layers"]
        print(f"  W{bw}A{ba} ({dt:.0f} s in ZigZag):")
        print(f"  {'layer':<22}{'cycles ours':>13}{'ZigZag':>13}{'ratio':>7}"
              f"{'ideal ZZ':>11}{'E ours uJ':>11}{'ZigZag':>9}{'ratio':>7}")
        tot = np.zeros(4)
        for row, (cme, _) in zip(ours, per, strict=True):
            zl, ze = float(cme.latency_total2), float(cme.energy_total) * 1e-6
            tot += (row["latency_cycles"], zl, row["energy_uj"], ze)
            print(f"  {row['name']:<22}{row['latency_cycles']:>13,.0f}{zl:>13,.0f}"
                  f"{row['latency_cycles'] / zl:>7.2f}{float(cme.ideal_temporal_cycle):>11,.0f}"
                  f"{row['energy_uj']:>11.2f}{ze:>9.2f}{row['energy_uj'] / ze:>7.2f}")
        print(f"  {'total':<22}{tot[0]:>13,.0f}{tot[1]:>13,.0f}{tot[0] / tot[1]:>7.2f}"
              f"{'':>11}{tot[2]:>11.1f}{tot[3]:>9.1f}{tot[2] / tot[3]:>7.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-zigzag", action="store_true", help="skip the ZigZag comparison")
    args = ap.parse_args()
    t0 = time.perf_counter()
    r50 = _layers("resnet50")
    t_trace = time.perf_counter() - t0
    print(f"ResNet-50 traced on the meta device (FlopCounterMode-checked): {len(r50)} layers "
          f"in {t_trace:.3f} s")
    for name in ("bitfusion", "bitserial", "systolic_int8"):
        acc = load_accelerator(name)
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            table = cost_table(r50, acc)
            best = min(best, time.perf_counter() - t0)
        shape = table.metrics["energy_uj"].shape
        print(f"  cost table on {name:<13}: {shape[0]} layers x {shape[1] * shape[2]} "
              f"(bw, ba) choices x {len(table.metrics)} metrics in {best * 1e3:.2f} ms "
              f"(best of 5)")

    t = pe_table()
    print("\nBit Fusion PE synthesis (artifact), 45 nm, 500 MHz: published vs model")
    print(f"  {'PE':<14}{'area pub (um^2)':>16}{'model (um^2)':>14}"
          f"{'power pub (uW)':>16}{'model (uW)':>12}")
    for bits, area, power in t.fixed_points:
        b = int(bits)
        print(f"  {f'fixed {b}/{b}':<14}{area:>16.0f}{float(t.fixed_area_um2(b, b)):>14.0f}"
              f"{power:>16.1f}{float(t.fixed_power_uw(b, b)):>12.1f}")
    for mb in (8, 16):
        fa, fp = t.fusible(mb)
        print(f"  {f'fusible {mb}->2':<14}{fa:>16.0f}{fa:>14.0f}{fp:>16.1f}{fp:>12.1f}"
              "  (look-up)")
    bs = load_accelerator("bitserial")
    print(f"  energy per MAC (pJ): Bit Fusion 8/8 {t.fu_dynamic_uw / 500:.3f} (dynamic, as the"
          f" artifact charges), 4/4 {t.fu_dynamic_uw / 2000:.3f}; fixed 8/8 "
          f"{171.8 / 500:.3f}; bit-serial 8x8 {float(bs.mac_energy_pj(8, 8)):.3f}")

    r18 = _layers("resnet18")
    mbv2 = _layers("mobilenet_v2")
    bit_fusion_vs_artifact(r18)
    haq_comparison(mbv2)
    hawq(r50)
    ratios(r18, r50, mbv2)
    if not args.no_zigzag:
        zigzag_comparison(r18)


if __name__ == "__main__":
    main()
