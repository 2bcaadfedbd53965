"""Flow ``dnn_estimate``: area, energy and latency of a network on a DNN accelerator.

Config -> layers (zoo model traced on the meta device, or a YAML layer list) ->
accelerator (``configs/hw/*.yaml``, a built-in name or inline) -> per-layer estimate at
the bit configuration -> tables (CSV, Markdown), totals (JSON), plots (PNG) and, if asked,
the ``(bw, ba)`` x layer cost table (JSON, NPZ) for the allocator.

``bitsmith estimate CONFIG --bits w4a4`` or ``--bits alloc.json`` overrides ``bits``; the
JSON maps layer names to ``"w4a8"`` or ``[4, 8]`` (optionally under a top-level
``"bits"`` key; a ``"default"`` entry covers the layers not named). ``batch_size``
(default: the N of ``model.input_shape``, else 1) sets how many inferences share each
weight fetch; every figure is per inference.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, Field, ValidationInfo, model_validator

from ..config import (
    INT64_MAX,
    ConfigError,
    ConfigModel,
    check,
    load_yaml,
    resolve_path,
)
from ._base import Flow, RunContext, register_flow

__all__ = ["SCHEMA", "parse_bits", "run"]

def _bits_value(v: Any) -> Any:
    from ..hwmodels.dnn import bit_pair  # here, not at import: the package loads torch

    if isinstance(v, str):
        if bit_pair(v) is None:
            raise ValueError(f"must be a bit pair like 'w8a8' or a mapping of layer -> 'w4a8', "
                             f"not {v!r}")
        return v
    if isinstance(v, dict):
        for k, b in v.items():
            if bit_pair(b) is None:
                raise ValueError(f"@{k}@bits must be like 'w4a8' or [4, 8], not {b!r}")
        return v
    raise ValueError(f"must be a string like 'w8a8' or a mapping of layer -> 'w4a8', not {v!r}")


def _path_or_name(v: Any, info: ValidationInfo) -> Any:
    """A built-in accelerator name stays a name; anything that looks like a file is resolved
    against the config's folder."""
    if isinstance(v, dict):
        return v
    if not isinstance(v, str):
        raise ValueError(f"must be a built-in accelerator name, a YAML file or a mapping, "
                         f"not {v!r}")
    if "/" in v or v.endswith((".yaml", ".yml")):
        return resolve_path(v, info)
    return v


def _layers_value(v: Any, info: ValidationInfo) -> Any:
    if v is None or isinstance(v, list):
        return v
    if isinstance(v, str):
        return resolve_path(v, info)
    raise ValueError(f"must be a YAML layer-list file or a list of layers, not {v!r}")


class ModelConfig(ConfigModel):
    """The network: a zoo name or a layer list (exactly one)."""

    name: Literal["resnet18", "resnet50", "mobilenet_v2", "small_cnn", "mlp"] | None = Field(
        None, description="zoo model (hwmodels/dnn/models.py)")
    input_shape: Annotated[list[Annotated[int, Field(ge=1, le=2**31)]], Field(min_length=2)] \
        | None = Field(None, description="input shape (N, C, H, W) or (N, features); default "
                                         "the zoo model's")
    layers: Annotated[Any, AfterValidator(_layers_value)] = Field(
        None, description="a YAML layer-list file (relative to the config) or the list itself, "
                          "instead of a zoo model")

    @model_validator(mode="after")
    def _one(self):
        check((self.name is None) != (self.layers is None), "name",
              "give exactly one of model.name (a zoo model) and model.layers (a layer list)")
        return self


class CostTableConfig(ConfigModel):
    """The (bw, ba) x layer cost table for the allocator."""

    export: bool = Field(False, description="write cost_table.json and .npz")
    w_bits: Annotated[list[Annotated[int, Field(ge=1, le=32)]], Field(min_length=1)] = Field(
        [2, 3, 4, 5, 6, 7, 8], description="weight widths of the table (bits)")
    a_bits: Annotated[list[Annotated[int, Field(ge=1, le=32)]], Field(min_length=1)] = Field(
        [2, 3, 4, 5, 6, 7, 8], description="activation widths of the table (bits)")


class DnnEstimateConfig(ConfigModel):
    """``kind: dnn_estimate``: area, energy and latency of a network on an accelerator."""

    kind: Literal["dnn_estimate"]
    name: str = Field("", description="run label")
    seed: int = Field(0, ge=0, le=INT64_MAX, description="unused (the estimate is "
                      "deterministic)")
    model: ModelConfig = Field(default_factory=lambda: ModelConfig(name="resnet18"))
    accelerator: Annotated[Any, AfterValidator(_path_or_name)] = Field(
        "bitfusion", description="built-in name (bitfusion, bitserial, systolic_int8), a YAML "
                                 "file (relative to the config) or an inline mapping")
    bits: Annotated[Any, AfterValidator(_bits_value)] = Field(
        "w8a8", description="uniform 'w8a8' or a mapping layer -> 'w4a8' or [4, 8] (key "
                            "'default' for the layers not named)")
    first_last_bits: int | None = Field(None, ge=1, le=32, description="if set, the first and "
                                        "last layers run at this width for weights and "
                                        "activations (HAWQ-V3 convention: 8), unless a "
                                        "per-layer mapping names them (bits)")
    batch_size: int | None = Field(None, ge=1, le=2**20, description="inferences per batch "
                                   "(weights fetched once per batch); figures are per "
                                   "inference. Default: the N of model.input_shape, else 1")
    cost_table: CostTableConfig = Field(default_factory=CostTableConfig)
    plots: bool = Field(True, description="write PNG plots")


SCHEMA = DnnEstimateConfig


def parse_bits(spec: Any, layer_names: list[str], file: Path | None = None,
               key: str = "bits", first_last: int | None = None
               ) -> dict[str, tuple[int, int]]:
    """:func:`bitsmith.hwmodels.dnn.parse_bits` with its errors as :class:`ConfigError`.

    ``file`` is the config file a spec given in the config came from (None for
    ``--bits``); an error inside a JSON bits file names that file instead.
    """
    from ..hwmodels.dnn import BitsError
    from ..hwmodels.dnn import parse_bits as _parse

    try:
        return _parse(spec, layer_names, key=key, first_last=first_last)
    except BitsError as e:
        raise ConfigError(e.message, file=e.file if e.file is not None else file,
                          key_path=e.key) from None


def _resolve(path: str, config_path: Path) -> Path:
    p = Path(path)  # the config model made it absolute (relative to the config's folder)
    return p if p.is_absolute() else config_path.parent / p


def _layers(cfg: dict, ctx: RunContext):
    import torch

    from ..hwmodels.dnn import UnsupportedLayerError, layers_from_list, trace_model
    from ..hwmodels.dnn.models import build

    m = cfg["model"]
    if m["layers"] is not None:
        entries, source = m["layers"], "model.layers"
        if isinstance(entries, str):
            p = _resolve(entries, ctx.config_path)
            doc = load_yaml(p, mapping=False)
            entries = doc.get("layers") if isinstance(doc, dict) else doc
            source = str(p)
        try:
            label = Path(m["layers"]).stem if isinstance(m["layers"], str) else "layer list"
            layers = layers_from_list(entries, source)
        except ValueError as e:
            raise ConfigError(str(e), file=ctx.config_path, key_path="model.layers") from None
        seen: dict[str, int] = {}
        for i, layer in enumerate(layers):
            if layer.name in seen:
                raise ConfigError(f"layer names must be unique: {layer.name!r} is also layer "
                                  f"[{seen[layer.name]}]", file=source,
                                  key_path=f"layers[{i}].name")
            seen[layer.name] = i
        return layers, label
    model, shape = build(m["name"])
    if m["input_shape"] is not None:
        shape = tuple(m["input_shape"])
    try:
        layers = trace_model(model, torch.zeros(shape, device="meta"))
    except UnsupportedLayerError as e:
        raise ConfigError(str(e), file=ctx.config_path, key_path="model.name") from None
    except RuntimeError as e:
        raise ConfigError(f"the input shape {list(shape)} does not fit model "
                          f"{m['name']!r}: {e}", file=ctx.config_path,
                          key_path="model.input_shape") from None
    return layers, m["name"]


def _batch(cfg: dict, ctx: RunContext) -> int:
    shape = cfg["model"]["input_shape"]
    n = cfg["batch_size"]
    if n is not None and shape is not None and shape[0] != n:
        raise ConfigError(f"must equal the N of model.input_shape ({shape[0]}) when both "
                          f"are given, not {n}", file=ctx.config_path, key_path="batch_size")
    if n is None:
        n = shape[0] if shape is not None else 1
    return int(n)


def _accelerator(cfg: dict, ctx: RunContext):
    from ..hwmodels.dnn import builtin_accelerators, load_accelerator

    src = cfg["accelerator"]
    if isinstance(src, str) and src not in builtin_accelerators():
        src = str(_resolve(src, ctx.config_path))
    try:
        return load_accelerator(src)
    except (ValueError, OSError, yaml.YAMLError) as e:
        raise ConfigError(str(e), file=ctx.config_path, key_path="accelerator") from None


def _g(v: float) -> str:
    return f"{v:.6g}"


_COLS = [("name", "layer", None), ("kind", "kind", None), ("bw", "bw (bits)", None),
         ("ba", "ba (bits)", None), ("macs", "MACs", None), ("params", "weights", None),
         ("bops", "BOPs (bit-ops)", None), ("weight_bytes", "weights (bytes)", _g),
         ("compute_cycles", "compute (cycles)", None),
         ("memory_cycles", "memory (cycles)", None),
         ("latency_cycles", "latency (cycles)", None), ("latency_ms", "latency (ms)", _g),
         ("memory_bound", "memory-bound", None),
         ("energy_compute_uj", "E compute (uJ)", _g), ("energy_onchip_uj", "E on-chip (uJ)", _g),
         ("energy_dram_uj", "E DRAM (uJ)", _g), ("energy_uj", "E total (uJ)", _g),
         ("dram_bytes", "DRAM traffic (bytes)", _g)]


def _cell(row: dict, key: str, fmt) -> str:
    v = row[key]
    return fmt(v) if fmt else str(v)


def _write_tables(out: Path, rows: list[dict], totals: dict) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([c[1] for c in _COLS])
    for r in rows:
        w.writerow([_cell(r, k, f) for k, _, f in _COLS])
    (out / "layers.csv").write_text(buf.getvalue(), encoding="utf-8")
    lines = ["| " + " | ".join(c[1] for c in _COLS) + " |",
             "|" + "---|" * len(_COLS)]
    for r in rows:
        lines.append("| " + " | ".join(_cell(r, k, f) for k, _, f in _COLS) + " |")
    tot = {**totals, "name": "**total**", "kind": "", "bw": "", "ba": "",
           "memory_bound": f"{totals['memory_bound_layers']} layers"}
    lines.append("| " + " | ".join(_cell(tot, k, f) if k in tot else "" for k, _, f in _COLS)
                 + " |")
    (out / "layers.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _plots(out: Path, rows: list[dict], title: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    names = [r["name"] for r in rows]
    x = np.arange(len(rows))
    width = max(6.0, 0.22 * len(rows))
    files = []
    meta = {"Software": None}

    fig, ax = plt.subplots(figsize=(width, 4.0))
    comp = np.array([r["compute_cycles"] for r in rows], dtype=float)
    mem = np.array([r["memory_cycles"] for r in rows], dtype=float)
    ax.bar(x - 0.2, comp, 0.4, label="compute (cycles)")
    ax.bar(x + 0.2, mem, 0.4, label="memory traffic / bandwidth (cycles)")
    ax.set_xticks(x, names, rotation=90, fontsize=6)
    ax.set_ylabel("cycles per inference")
    ax.set_title(f"{title}\nper-layer roofline terms (latency = max)", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "latency_per_layer.png", dpi=110, metadata=meta)
    plt.close(fig)
    files.append("latency_per_layer.png")

    fig, ax = plt.subplots(figsize=(width, 4.0))
    bottom = np.zeros(len(rows))
    for key, label in (("energy_compute_uj", "compute"), ("energy_onchip_uj", "on-chip SRAM"),
                       ("energy_dram_uj", "DRAM")):
        v = np.array([r[key] for r in rows])
        ax.bar(x, v, 0.8, bottom=bottom, label=f"{label} (uJ)")
        bottom += v
    ax.set_xticks(x, names, rotation=90, fontsize=6)
    ax.set_ylabel("energy per inference (uJ)")
    ax.set_title(f"{title}\nper-layer energy by component", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "energy_per_layer.png", dpi=110, metadata=meta)
    plt.close(fig)
    files.append("energy_per_layer.png")

    fig, ax = plt.subplots(figsize=(5.0, 4.0))
    parts = [sum(r[k] for r in rows) for k in
             ("energy_compute_uj", "energy_onchip_uj", "energy_dram_uj")]
    labels = [f"{n}\n{v:.4g} uJ" for n, v in zip(("compute", "on-chip SRAM", "DRAM"), parts,
                                                   strict=True)]
    ax.pie(parts, labels=labels, autopct="%1.1f%%", startangle=90, counterclock=False)
    ax.set_title(f"{title}\nenergy per inference {sum(parts):.4g} uJ", fontsize=9)
    fig.tight_layout()
    fig.savefig(out / "energy_breakdown.png", dpi=110, metadata=meta)
    plt.close(fig)
    files.append("energy_breakdown.png")
    return files


def run(cfg: dict, ctx: RunContext) -> dict[str, Any]:
    """Run a ``dnn_estimate`` config; see the module docstring for what is written."""
    from ..hwmodels.dnn import cost_table, estimate

    layers, model_name = _layers(cfg, ctx)
    accel = _accelerator(cfg, ctx)
    names = [la.name for la in layers]
    override = cfg.get("bits_override")
    fl = cfg["first_last_bits"]
    if override is not None:
        bits = parse_bits(override, names, None, key="--bits", first_last=fl)
    else:
        bits = parse_bits(cfg["bits"], names, ctx.config_path, first_last=fl)
    plain = parse_bits(override if override is not None else cfg["bits"], names,
                       None if override is not None else ctx.config_path,
                       key="--bits" if override is not None else "bits")
    body = {plain[n] for n in names}
    label = f"w{min(body)[0]}a{min(body)[1]}" if len(body) == 1 else "mixed"
    if fl is not None and len(body) == 1 and min(body) != (fl, fl):
        label += f" (first/last w{fl}a{fl})"
    batch = _batch(cfg, ctx)
    try:
        res = estimate(layers, accel, bits, batch=batch)
    except ValueError as e:
        # Widths outside the accelerator's range: blame where the bits came from.
        raise ConfigError(str(e), file=None if override is not None else ctx.config_path,
                          key_path="--bits" if override is not None else "bits") from None
    rows, tot = res["layers"], res["totals"]
    out = ctx.out_dir
    _write_tables(out, rows, tot)
    tech = accel.technology
    totals = {**tot, "bits": label, "model": model_name, "accelerator": accel.name,
              "batch_size": batch,
              "node_nm": tech.node_nm, "clock_mhz": tech.clock_mhz,
              "units": {"energy*": "uJ per inference", "latency_cycles": "cycles",
                        "latency_ms": "ms", "area_mm2": "mm^2", "bops": "bit-ops",
                        "weight_bytes": "bytes", "dram_bytes": "bytes",
                        "model_size_mb": "MB = 2^20 bytes"}}
    (out / "totals.json").write_text(json.dumps(totals, indent=2, sort_keys=True) + "\n",
                                     encoding="utf-8")
    (out / "bits.json").write_text(
        json.dumps({"bits": {n: f"w{bits[n][0]}a{bits[n][1]}" for n in names}}, indent=2)
        + "\n", encoding="utf-8")
    files = ["layers.csv", "layers.md", "totals.json", "bits.json"]
    title = f"{model_name} on {accel.name} at {label}"
    if cfg["plots"]:
        files += _plots(out, rows, title)
    ct = cfg["cost_table"]
    if ct["export"]:
        try:
            table = cost_table(layers, accel, ct["w_bits"], ct["a_bits"], batch=batch)
        except ValueError as e:
            raise ConfigError(str(e), file=ctx.config_path, key_path="cost_table") from None
        table.to_json(out / "cost_table.json")
        table.to_npz(out / "cost_table.npz")
        files += ["cost_table.json", "cost_table.npz"]
    area = tot["area_mm2"]
    headline = [
        f"{title} ({tech.node_nm:g} nm, {tech.clock_mhz:g} MHz): {len(layers)} layers, "
        f"{tot['macs'] / 1e9:.4g} GMACs, {tot['bops'] / 1e9:.4g} GBOPs, "
        f"model {tot['model_size_mb']:.4g} MB (2^20 bytes)",
        f"latency {tot['latency_cycles']:.10g} cycles = {tot['latency_ms']:.4g} ms "
        f"per inference at batch {batch} "
        f"({tot['memory_bound_layers']} of {len(layers)} layers memory-bound)",
        f"energy {tot['energy_uj']:.5g} uJ/inference: compute {tot['energy_compute_uj']:.5g} "
        f"uJ, on-chip {tot['energy_onchip_uj']:.5g} uJ, DRAM {tot['energy_dram_uj']:.5g} uJ",
        f"area {area['total']:.4g} mm^2 (array {area['array']:.4g} mm^2, "
        f"SRAM {area['sram']:.4g} mm^2)",
    ]
    return {"ok": True, "headline": headline, "files": sorted(files),
            "totals": {k: totals[k] for k in ("energy_uj", "latency_cycles", "latency_ms",
                                              "bops", "model_size_mb", "area_mm2", "bits")}}


register_flow(Flow(kind="dnn_estimate", model=DnnEstimateConfig, run=run,
                   description="Area, energy and latency of a DNN on an accelerator."))
