"""The package installs under one namespace, editable and not."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUBSYSTEMS = ("hwmodels", "rtl", "search", "sim")


@pytest.mark.parametrize("name", SUBSYSTEMS)
def test_subsystem_imports_from_its_root_folder(name):
    mod = importlib.import_module(f"bitsmith.{name}")
    assert Path(mod.__file__).resolve().parent == ROOT / name


def test_every_subpackage_is_declared():
    """A folder with __init__.py that pyproject does not list would vanish from a wheel."""
    import tomllib

    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    declared = set(cfg["packages"])
    dirs = {"bitsmith": ROOT / "bitsmith"} | {f"bitsmith.{s}": ROOT / s for s in SUBSYSTEMS}
    found = set()
    for pkg, base in dirs.items():
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base).parts
            found.add(".".join((pkg, *rel)))
    # data folders (no __init__.py) are declared too, so their files ship and setuptools
    # does not warn about importable folders left out
    data = {d for d in declared - found if d.endswith(".data")}
    assert found == declared - data
    for d in data:
        folder = dirs["bitsmith." + d.split(".")[1]].joinpath(*d.split(".")[2:])
        assert folder.is_dir() and any(folder.iterdir()), d


@pytest.mark.slow
def test_wheel_install_has_no_generic_top_level_names(tmp_path):
    """`pip install .` puts only `bitsmith` into site-packages, and it imports cleanly."""
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "--no-build-isolation", "--target", str(target), str(ROOT)],
                   check=True, capture_output=True, cwd=tmp_path)
    top = {p.name for p in target.iterdir() if not p.name.endswith((".dist-info", ".egg-info"))}
    top.discard("bin")
    assert top == {"bitsmith"}
    code = ("import bitsmith.search, bitsmith.sim, bitsmith.rtl, bitsmith.hwmodels, "
            "bitsmith.hwmodels.dnn, bitsmith.cli, bitsmith.flows; "
            "print(bitsmith.search.__file__)")
    out = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, "
                          f"{str(target)!r}); {code}"],
                         check=True, capture_output=True, text=True, cwd=tmp_path)
    assert out.stdout.strip().startswith(str(target))
    # the data the cost models read ships in the wheel
    assert (target / "bitsmith/hwmodels/fir/data/fir_calibration.json").is_file()
    assert (target / "bitsmith/hwmodels/dnn/data/bitfusion.yaml").is_file()
    for generic in ("search", "sim", "rtl", "hwmodels"):
        r = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, "
                            f"{str(target)!r}); import {generic}"],
                           capture_output=True, text=True, cwd=tmp_path)
        assert r.returncode != 0 and "ModuleNotFoundError" in r.stderr
