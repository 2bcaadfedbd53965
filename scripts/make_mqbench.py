"""Generate the small MQ-Bench of a dnn_allocation config: sampled weight-bit
configurations (2-4 bits per layer, 8-bit activations) with their PTQ test accuracy,
evaluated in parallel on a process pool (or a dask scheduler) and cached as JSON under
``<bitsmith cache>/dnn/`` (where ``bitsmith run`` finds it).

With ``--ship`` the file is also written into the package
(``bitsmith/flows/dnn_alloc/data/mqbench-<arch>-s<seed>.json``, installed as package data),
but only when it is missing there or its recorded generator hash (``key``: architecture,
epochs, seed, number of configurations, quantization settings, format version) differs
from the config's; otherwise nothing is evaluated.

Run: .venv/bin/python scripts/make_mqbench.py configs/dnn/digits_cnn.yaml [--workers 2]
     [--scheduler tcp://HOST:PORT] [--out FILE] [--ship]
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bitsmith.flows import load_config
from bitsmith.flows.dnn_alloc._mq import load_shipped, mqbench_data, ship, shipped_path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scheduler", default=None, help="dask scheduler address")
    ap.add_argument("--seed", type=int, default=None, help="training seed (default: the "
                    "config's first)")
    ap.add_argument("--out", default=None, help="also write the JSON here")
    ap.add_argument("--ship", action="store_true", help="write the package's shipped file "
                    "(only when missing or its generator hash differs)")
    args = ap.parse_args()
    kind, cfg, _ = load_config(args.config)
    if kind != "dnn_allocation":
        raise SystemExit(f"{args.config}: kind must be dnn_allocation, not {kind!r}")
    seed = cfg["model"]["seeds"][0] if args.seed is None else args.seed
    target = shipped_path(cfg["model"]["arch"], seed)
    if args.ship and load_shipped(cfg, seed) is not None:
        print(f"{target}: up to date (generator hash matches); nothing to do")
        return
    if args.scheduler:
        from dask.distributed import Client

        with Client(args.scheduler) as client:
            ex = client.get_executor()
            doc = mqbench_data(cfg, seed, lambda f, *it: list(ex.map(f, *it)))
    else:
        with ProcessPoolExecutor(args.workers) as ex:
            doc = mqbench_data(cfg, seed, lambda f, *it: list(ex.map(f, *it)))
    acc = doc["accuracy"]
    print(f"{len(acc)} configurations, test accuracy {100 * min(acc):.1f}-{100 * max(acc):.1f} %")
    if args.ship:
        ship(cfg, seed, doc)
        print(f"wrote {target} (generator hash {doc['key']})")
    if args.out:
        Path(args.out).write_text(json.dumps(doc, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
