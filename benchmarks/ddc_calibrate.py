"""Calibrate the DDC cost model (hwmodels/ddc/data/ddc_calibration.json) against yosys.

    .venv/bin/python benchmarks/ddc_calibrate.py          # synthesize 9 variants (~6 min)
    .venv/bin/python benchmarks/ddc_calibrate.py --refit  # refit on the stored figures
"""

from __future__ import annotations

import json
import sys

from bitsmith.hwmodels.ddc import calibrate
from bitsmith.hwmodels.ddc._cost import _DATA
from bitsmith.sim.ddc import DdcDesign, DdcWidths, ddc_spec

DESIGN = DdcDesign(fs=61.44e6, f_if=10.7e6, adc_bits=14, cic_stages=4, cic_decimation=16,
                   cic_diff_delay=1, halfband_taps=0, cfir_taps=0, cfir_decimate=1,
                   passband=170e3, stopband=350e3)
#: (addr, amp, mixer, cic_out) of the corpus; every third dithered, every other pruned more
VARIANTS = [(6, 10, 12, 12), (8, 12, 14, 14), (10, 16, 18, 18), (7, 14, 16, 12),
            (9, 18, 20, 16), (5, 8, 10, 10), (11, 14, 13, 20), (8, 16, 22, 14), (10, 12, 15, 16)]


def specs():
    out = []
    for k, (a, amp, m, co) in enumerate(VARIANTS):
        extra = (0,) * 8 if k % 2 else (0, 1, 1, 2, 2, 2, 3, 3)
        w = DdcWidths(a, amp, m, extra, co, 16, 16, 16, 16, dither_bits=8 if k % 3 == 0 else 0)
        out.append(ddc_spec(DESIGN, w))
    return out


if __name__ == "__main__":
    synth = None
    if "--refit" in sys.argv:
        old = json.loads(_DATA.read_text())["fit"]
        synth = list(zip(old["nco"]["synth"], old["cic"]["synth"], strict=True))
    r = calibrate(specs(), synth=synth)
    for k, v in r["fit"].items():
        print(f"{k}: mean |error| {v['mean_abs_error_percent']:.1f} %  synth {v['synth']}  "
              f"fit {v['fit']}")
