"""Config loading: every error names the file, the key path, the value and what must hold;
all errors of a file at once; the JSON Schema validates the shipped configs."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Literal

import jsonschema
import pytest
import yaml
from pydantic import Field, model_validator

from bitsmith.config import ConfigError, ConfigModel, ConfigPath, check, load_yaml, validate
from bitsmith.flows import FLOWS, load_config

ROOT = Path(__file__).resolve().parents[1]


class Inner(ConfigModel):
    x: float = Field(1.0, allow_inf_nan=False)


class Item(ConfigModel):
    w: int = Field(ge=1)


class Toy(ConfigModel):
    name: str
    bits: int = Field(8, ge=2, le=32)
    mode: Literal["wrap", "saturate"] = "wrap"
    inner: Inner = Field(default_factory=Inner)
    items: list[Item] = []
    widths: Annotated[list[int], Field(min_length=1, max_length=3)] = [4]
    path: ConfigPath | None = None
    lo: int = 1
    hi: int = 2

    @model_validator(mode="after")
    def _ordered(self):
        check(self.lo <= self.hi, "lo", f"lo ({self.lo}) must not exceed hi ({self.hi})")
        return self


def test_defaults_filled_and_frozen():
    out = validate(Toy, {"name": "a"})
    assert out.model_dump() == {"name": "a", "bits": 8, "mode": "wrap", "inner": {"x": 1.0},
                                "items": [], "widths": [4], "path": None, "lo": 1, "hi": 2}
    with pytest.raises(ValueError, match="frozen"):
        out.bits = 9


def test_width_out_of_range_names_key_value_and_range():
    with pytest.raises(ConfigError, match=r"^f\.yaml: bits: must be an integer between 2 and "
                                          r"32, not 40$"):
        validate(Toy, {"name": "a", "bits": 40}, "f.yaml")


def test_unknown_key_lists_allowed():
    with pytest.raises(ConfigError, match=r"inner\.y: unknown key 'y'; allowed keys here: x$"):
        validate(Toy, {"name": "a", "inner": {"y": 2}})


def test_list_item_path():
    with pytest.raises(ConfigError, match=r"items\[1\]\.w: must be an integer >= 1, not 0"):
        validate(Toy, {"name": "a", "items": [{"w": 3}, {"w": 0}]})


def test_missing_required_bad_choice_bool_is_not_int_string_is_not_int():
    with pytest.raises(ConfigError, match="required key 'name' is missing"):
        validate(Toy, {})
    with pytest.raises(ConfigError, match="mode: must be one of 'wrap', 'saturate', not 'clip'"):
        validate(Toy, {"name": "a", "mode": "clip"})
    with pytest.raises(ConfigError, match="bits: must be an integer between 2 and 32, not true"):
        validate(Toy, {"name": "a", "bits": True})
    with pytest.raises(ConfigError, match="bits: must be an integer between 2 and 32, not '8'"):
        validate(Toy, {"name": "a", "bits": "8"})


def test_nan_and_list_length_and_cross_field():
    with pytest.raises(ConfigError, match="inner.x: must be a finite number, not nan"):
        validate(Toy, {"name": "a", "inner": {"x": float("nan")}})
    with pytest.raises(ConfigError, match=r"widths: must have at least 1 and at most 3 items, "
                                          r"not 4"):
        validate(Toy, {"name": "a", "widths": [1, 2, 3, 4]})
    with pytest.raises(ConfigError, match=r"^lo: lo \(5\) must not exceed hi \(2\)$"):
        validate(Toy, {"name": "a", "lo": 5})


def test_all_errors_of_a_file_at_once_one_line_each():
    with pytest.raises(ConfigError) as e:
        validate(Toy, {"bits": 1, "mode": "x", "items": [{"w": 0}], "bogus": 1}, "t.yaml")
    lines = e.value.lines
    assert len(lines) == 5, lines
    assert all(line.startswith("t.yaml: ") and "\n" not in line for line in lines)
    keys = {line.split(": ")[1] for line in lines}
    assert keys == {"name", "bits", "mode", "items[0].w", "bogus"}


def test_relative_paths_resolve_against_the_config_folder(tmp_path):
    cfg = tmp_path / "sub" / "c.yaml"
    out = validate(Toy, {"name": "a", "path": "../hw/x.yaml"}, cfg)
    assert out.path == str(tmp_path / "hw" / "x.yaml")
    out = validate(Toy, {"name": "a", "path": "/abs/x.yaml"}, cfg)
    assert out.path == "/abs/x.yaml"


def test_malformed_yaml_gives_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("kind: synthetic\nproblem: {n_variables: 3\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: malformed YAML: line \d+, column \d+"):
        load_yaml(p)


@pytest.mark.parametrize("text, line", [
    ("kind: fir\nseed: 1\nkind: fir\n", 3),
    ("kind: fir\nfilter:\n  edges: [0.2, 0.3]\n  edges: [0.1, 0.2]\n", 4),
])
def test_duplicate_keys_rejected_with_line(tmp_path, text, line):
    p = tmp_path / "dup.yaml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=rf"malformed YAML: line {line}, column \d+: "
                                          rf"duplicate key '(kind|edges)'"):
        load_yaml(p)


@pytest.mark.parametrize("data, message", [
    ("kind: fir\n".encode("utf-16"), "not UTF-16"),
    (b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)), "not a binary file"),
    (b"kind: fir\nname: \xff\xfe\n", "not valid UTF-8"),
])
def test_binary_and_utf16_files_rejected(tmp_path, data, message):
    p = tmp_path / "c.yaml"
    p.write_bytes(data)
    with pytest.raises(ConfigError, match=message):
        load_yaml(p)


def test_integers_beyond_int64_rejected_anywhere(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("kind: dnn_estimate\nmodel:\n  layers:\n    - {in_features: 99999999999999999999}\n")
    with pytest.raises(ConfigError, match=r"model\.layers\[0\]\.in_features: integers must fit "
                                          r"in 64 bits"):
        load_yaml(p)


def test_top_level_must_be_mapping(tmp_path):
    p = tmp_path / "list.yaml"
    p.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_yaml(p)


def test_unknown_kind(tmp_path):
    p = tmp_path / "k.yaml"
    p.write_text("kind: nonsense\n")
    with pytest.raises(ConfigError, match=r"kind: must be one of .*synthetic.*, not 'nonsense'"):
        load_config(p)
    p.write_text("kind: [fir]\n")
    with pytest.raises(ConfigError, match=r"kind: must be one of .*, not \['fir'\] \(a list\)"):
        load_config(p)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_yaml(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="is a directory"):
        load_yaml(tmp_path)


@pytest.mark.parametrize("patch, message", [
    ({"filter": {"edges": [0.2, 0.3], "numtaps": 1}}, r"filter\.numtaps: must be an integer "
                                                      r"between 3 and 1023 or null, not 1"),
    ({"filter": {"edges": [0.2, 0.3], "numtaps": 62, "method": "firls"}},
     r"filter\.numtaps: method firls needs an odd number of taps, not 62"),
    ({"filter": {"edges": [0.2, 0.3], "numtaps": 62, "response": "highpass"}},
     r"filter\.numtaps: a highpass needs an odd number of taps"),
    ({"filter": {"edges": [0.3, 0.2]}}, r"filter\.edges: edges must increase"),
    ({"filter": {"edges": [0.2, 0.3], "response": "bandpass"}},
     r"filter\.edges: a bandpass needs 4 band edges, not 2"),
    ({"allocation": {"min_bits": 9, "max_bits": 4}},
     r"allocation\.min_bits: min_bits \(9\) must not exceed max_bits \(4\)"),
    ({"allocation": {"objective": "max"}}, r"allocation\.budget_luts: objective 'max' needs "
                                           r"a LUT budget"),
    ({"allocation": {"budget_luts": 2**64}}, r"allocation\.budget_luts: integers must fit in "
                                             r"64 bits \(at most 2\*\*63 - 1\)"),
    ({"allocation": {"budget_luts": 0}}, r"allocation\.budget_luts: must be an integer "
                                         r"between 1 and 2\*\*63 - 1 or null, not 0"),
    ({"seed": -1}, r"seed: must be an integer between 0 and 2\*\*63 - 1, not -1"),
    ({"input": {"int_bits": 30, "frac_bits": 30}},
     r"input\.frac_bits: the word \(int_bits \+ frac_bits\) must be 2 to 48 bits, not 60"),
])
def test_fir_config_rejects_before_any_work(tmp_path, patch, message):
    p = tmp_path / "c.yaml"
    data = {"kind": "fir", "filter": {"edges": [0.2, 0.3]}, **patch}
    p.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=message):
        load_config(p)


def _schema(kind):
    out = subprocess.run([sys.executable, "-m", "bitsmith.cli", "schema", kind],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.parametrize("kind", sorted(FLOWS))
def test_schema_validates_every_shipped_config(kind):
    schema = _schema(kind)
    jsonschema.Draft202012Validator.check_schema(schema)
    configs = [p for p in sorted((ROOT / "configs").rglob("*.yaml"))
               if (yaml.safe_load(p.read_text()) or {}).get("kind") == kind]
    assert configs, kind
    for p in configs:
        jsonschema.validate(yaml.safe_load(p.read_text()), schema)


def test_schema_rejects_invalid_fir_config():
    schema = _schema("fir")
    good = yaml.safe_load((ROOT / "configs/fir/lowpass.yaml").read_text())
    jsonschema.validate(good, schema)
    for bad in ({**good, "bogus": 1},
                {**good, "allocation": {**good["allocation"], "max_bits": 40}},
                {**good, "filter": {**good["filter"], "method": "magic"}},
                {k: v for k, v in good.items() if k != "filter"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
