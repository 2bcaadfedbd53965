"""Config loading: every error names the file, the key path, the value and what is allowed."""

import pytest

from bitsmith.config import ConfigError, Field, ListOf, Section, load_config, load_yaml, validate

SCHEMA = Section({
    "name": Field(str),
    "bits": Field(int, default=8, min=2, max=32),
    "mode": Field(str, default="wrap", choices=("wrap", "saturate")),
    "inner": Section({"x": Field(float, default=1.0)}, default={}),
    "items": ListOf(Section({"w": Field(int, min=1)}), default=[]),
})


def test_defaults_filled():
    out = validate({"name": "a"}, SCHEMA)
    assert out == {"name": "a", "bits": 8, "mode": "wrap", "inner": {"x": 1.0}, "items": []}


def test_width_out_of_range_names_key_value_and_range():
    with pytest.raises(ConfigError, match=r"f\.yaml: bits: must be an integer between 2 and "
                                          r"32, not 40"):
        validate({"name": "a", "bits": 40}, SCHEMA, "f.yaml")


def test_unknown_key_lists_allowed():
    with pytest.raises(ConfigError, match=r"inner\.y: unknown key 'y'; allowed keys here: x"):
        validate({"name": "a", "inner": {"y": 2}}, SCHEMA)


def test_list_item_path():
    with pytest.raises(ConfigError, match=r"items\[1\]\.w: must be an integer >= 1, not 0"):
        validate({"name": "a", "items": [{"w": 3}, {"w": 0}]}, SCHEMA)


def test_missing_required_and_bad_choice_and_bool_is_not_int():
    with pytest.raises(ConfigError, match="required key 'name' is missing"):
        validate({}, SCHEMA)
    with pytest.raises(ConfigError, match="mode: must be one of 'wrap', 'saturate', not 'clip'"):
        validate({"name": "a", "mode": "clip"}, SCHEMA)
    with pytest.raises(ConfigError, match="bits: must be an integer between 2 and 32, not True"):
        validate({"name": "a", "bits": True}, SCHEMA)


def test_nan_rejected():
    with pytest.raises(ConfigError, match="inner.x: must be a finite number, not nan"):
        validate({"name": "a", "inner": {"x": float("nan")}}, SCHEMA)


def test_malformed_yaml_gives_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("kind: synthetic\nproblem: {n_variables: 3\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: malformed YAML: line \d+, column \d+"):
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


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_yaml(tmp_path / "nope.yaml")
