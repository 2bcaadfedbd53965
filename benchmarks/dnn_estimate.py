"""Benchmark and published-figure comparison of the DNN accelerator cost models.

1. Builds the full (bw, ba) x layer cost table of ResNet-50 (49 choices per layer, every
   metric) on each accelerator and prints the time (aim: under 1 s).
2. Prints our figures side by side with the published ones of
   shared/docs/HARDWARE_FACTS.md: Bit Fusion PE synthesis (area, power), HAQ's BISMO
   latency ratios on MobileNetV2, HAWQ-V3 sizes and BOPs.

Run: .venv/bin/python benchmarks/dnn_estimate.py
"""

from __future__ import annotations

import time

import torch

from bitsmith.hwmodels.dnn import cost_table, estimate, load_accelerator, pe_table, trace_model
from bitsmith.hwmodels.dnn.models import build


def _layers(name):
    m, s = build(name)
    return trace_model(m, torch.zeros(s, device="meta"))


def _ratio(layers, acc, key, b, ref=8):
    lo = estimate(layers, acc, (b, b))["totals"][key]
    hi = estimate(layers, acc, (ref, ref))["totals"][key]
    return lo / hi


def main() -> None:
    t0 = time.perf_counter()
    r50 = _layers("resnet50")
    t_trace = time.perf_counter() - t0
    print(f"ResNet-50 traced on the meta device: {len(r50)} layers in {t_trace:.3f} s")
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
    print("\nBit Fusion PE synthesis, 45 nm, 500 MHz: published vs model (fixed-PE fit)")
    print(f"  {'PE':<14}{'area pub (um^2)':>16}{'model (um^2)':>14}"
          f"{'power pub (uW)':>16}{'model (uW)':>12}")
    for bits, area, power in t.fixed_points:
        b = int(bits)
        pw = "-" if power != power else f"{power:.1f}"
        print(f"  {f'fixed {b}/{b}':<14}{area:>16.0f}{float(t.fixed_area_um2(b, b)):>14.0f}"
              f"{pw:>16}{float(t.fixed_power_uw(b, b)):>12.1f}")
    fa, fp = t.fusible(8)
    print(f"  fusible 8->2  {fa:>16.0f}{fa:>14.0f}{fp:>16.1f}{fp:>12.1f}  (table look-up)")
    print(f"  energy per MAC (pJ): fusible 8/8 {fp / 500:.3f}, 4/4 {fp / 500 / 4:.3f}, "
          f"2/2 {fp / 500 / 16:.4f}; fixed 8/8 {171.8 / 500:.3f} (published power / 500 MHz)")

    mbv2 = _layers("mobilenet_v2")
    print("\nLatency and energy ratios vs W8A8 (uniform bits, all layers)")
    print(f"  {'model / accelerator':<32}{'metric':<10}{'W4A4 ours':>10}{'published':>10}"
          f"{'W2A2 ours':>10}{'published':>10}")
    rows = [
        ("MobileNetV2 / bitserial", mbv2, "bitserial", "latency_cycles", "0.40", "0.18",
         "HAQ BISMO table"),
        ("MobileNetV2 / bitserial", mbv2, "bitserial", "energy_uj", "-", "-", ""),
        ("MobileNetV2 / bitfusion", mbv2, "bitfusion", "latency_cycles", "-", "-", ""),
        ("ResNet-18 / bitfusion", _layers("resnet18"), "bitfusion", "latency_cycles", "-",
         "-", ""),
        ("ResNet-18 / bitfusion", None, "bitfusion", "energy_uj", "-", "-", ""),
        ("ResNet-50 / bitfusion", r50, "bitfusion", "latency_cycles", "-", "-", ""),
        ("ResNet-50 / bitfusion", r50, "bitfusion", "energy_uj", "-", "-", ""),
    ]
    prev = None
    for label, layers, accn, key, p4, p2, src in rows:
        layers = layers if layers is not None else prev
        prev = layers
        acc = load_accelerator(accn)
        r4 = _ratio(layers, acc, key, 4)
        r2 = _ratio(layers, acc, key, 2)
        metric = "latency" if key.startswith("latency") else "energy"
        print(f"  {label:<32}{metric:<10}{r4:>10.3f}{p4:>10}{r2:>10.3f}{p2:>10}  {src}")
    print("  (compute-bound limits: 0.25 at W4A4 and 0.0625 at W2A2; memory-bound: 0.5, 0.25)")

    print("\nHAWQ-V3 model size (MB = 2^20 bytes) and BOPs (G bit-ops), first conv and last "
          "FC at W8A8")
    print(f"  {'model':<10}{'bits':<6}{'size ours':>10}{'published':>10}{'GBOPs ours':>12}"
          f"{'published':>10}")
    pub = {("resnet18", 8): (11.1, 116), ("resnet18", 4): (5.8, 34),
           ("resnet50", 8): (24.5, 247), ("resnet50", 4): (13.1, 67)}
    for (name, b), (ps, pb) in pub.items():
        layers = _layers(name) if name == "resnet18" else r50
        bits = {la.name: (b, b) for la in layers}
        bits[layers[0].name] = bits[layers[-1].name] = (8, 8)
        tot = estimate(layers, load_accelerator("bitfusion"), bits)["totals"]
        print(f"  {name:<10}W{b}A{b:<4}{tot['model_size_mb']:>10.2f}{ps:>10}"
              f"{tot['bops'] / 1e9:>12.2f}{pb:>10}")


if __name__ == "__main__":
    main()
