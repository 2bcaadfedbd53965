"""The command line never loses a user's files: every defect of the house issue, through the
CLI as a user runs it (a subprocess), with the exit status, a one-line message, no traceback,
and the file system exactly as it was."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SYNTH = """\
kind: synthetic
seed: 3
problem: {n_variables: 12, min_bits: 2, max_bits: 8, budget_fraction: 0.35}
methods: [mckp_dp, mckp_greedy]
"""

# a small FIR whose verification runs long enough to be interrupted
FIR_LONG = """\
kind: fir
seed: 2
filter: {response: lowpass, edges: [0.25, 0.45], numtaps: 21, method: remez,
         passband_ripple_db: 0.5, stopband_atten_db: 40}
input: {int_bits: 1, frac_bits: 11}
output: {frac_bits: 13}
allocation: {min_bits: 2, max_bits: 14, n_particles: 8, n_iter: 6, bisection_steps: 2,
             compare: [uniform]}
verification: {simulators: [SIM], random_samples: 3000000, icarus_share: 1.0, lint: false}
synthesis: {enabled: false}
report: {noise_samples: 2000, pareto_points: 0}
"""


def listing(path: Path) -> list[tuple]:
    """Everything under ``path``: (relative name, kind, size, mtime_ns), sorted."""
    out = []
    for p in sorted(path.rglob("*")):
        st = p.lstat()
        kind = "d" if p.is_dir() else "f"
        out.append((str(p.relative_to(path)), kind, 0 if kind == "d" else st.st_size,
                    st.st_mtime_ns))
    return out


@pytest.fixture
def env(tmp_path_factory):
    """Environment of the subprocess: a private cache folder (scratch space lives there),
    outside the folders whose listings the tests compare."""
    e = dict(os.environ)
    e["BITSMITH_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    return e


def bitsmith(*args, cwd, env, timeout=300):
    return subprocess.run([sys.executable, "-m", "bitsmith.cli", *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=timeout)


def assert_one_line_error(r, code, pattern):
    import re

    assert r.returncode == code, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert re.search(pattern, lines[0]), lines[0]


def scratch_left(env) -> list[str]:
    tmp = Path(env["BITSMITH_CACHE_DIR"]) / "tmp"
    return sorted(p.name for p in tmp.iterdir()) if tmp.is_dir() else []


@pytest.fixture
def project(tmp_path):
    """A user's folder: a config and some precious files beside it."""
    d = tmp_path / "project"
    d.mkdir()
    (d / "c.yaml").write_text(SYNTH)
    (d / "notes.txt").write_text("precious\n")
    (d / "data").mkdir()
    (d / "data" / "x.csv").write_text("1,2\n")
    return d


@pytest.mark.parametrize("out, pattern", [
    (".", r"-o: '\.' is the current directory or holds it: refusing to replace it"),
    ("", r"-o: must name a directory, not an empty string"),
    ("data/..", r"is the current directory or holds it"),
    ("notes.txt", r"-o: 'notes\.txt' is an existing file, not a directory: refusing"),
    ("data", r"-o: 'data' exists and was not written by bitsmith \(no \.bitsmith-run\.json; "
             r"1 entries\): refusing to replace it"),
    ("notes.txt/out", r"-o: 'notes\.txt/out': '.*notes\.txt' is a file, not a directory"),
])
def test_output_that_would_destroy_files_is_refused(project, env, out, pattern):
    before = listing(project)
    r = bitsmith("run", "c.yaml", "-o", out, cwd=project, env=env)
    assert_one_line_error(r, 2, pattern)
    assert listing(project) == before


def test_unwritable_output_exits_2(project, env):
    before = listing(project)
    # /proc refuses new folders even to root (a chmod'ed folder would not stop root)
    r = bitsmith("run", "c.yaml", "-o", "/proc/bitsmith-out/x", cwd=project, env=env)
    assert_one_line_error(r, 2, r"-o: (cannot create '/proc/bitsmith-out/x'|"
                                r"'/proc/bitsmith-out/x': cannot write in '/proc')")
    assert listing(project) == before
    assert not Path("/proc/bitsmith-out").exists()


def test_config_machinery_does_not_import_the_flows():
    """config <- flows <- cli: the import circle is broken."""
    code = ("import sys, bitsmith.config, bitsmith._output; "
            "assert not any(m.startswith('bitsmith.flows') for m in sys.modules), "
            "[m for m in sys.modules if m.startswith('bitsmith.flows')]")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_remez_that_does_not_converge_is_bad_input(tmp_path, env):
    (tmp_path / "fir.yaml").write_text(
        "kind: fir\nfilter: {edges: [0.05, 0.3], numtaps: 501, method: remez}\n")
    before = listing(tmp_path)
    r = bitsmith("run", "fir.yaml", "-o", "out", cwd=tmp_path, env=env)
    assert_one_line_error(r, 2, r"fir\.yaml: filter: the remez design failed: Failure to "
                                r"converge at iteration \d+, try reducing transition band "
                                r"width\. \(change numtaps, the edges or the method\)")
    assert listing(tmp_path) == before


def test_output_cannot_be_the_config_folder(project, env, tmp_path):
    before = listing(tmp_path / "project")
    r = bitsmith("run", "project/c.yaml", "-o", "project", "--force", cwd=tmp_path, env=env)
    assert_one_line_error(r, 2, r"-o: 'project' holds the config file 'project/c.yaml': "
                                r"refusing to replace it")
    assert listing(tmp_path / "project") == before


def test_bitsmith_output_is_replaced_and_force_replaces_a_foreign_one(project, env):
    r = bitsmith("run", "c.yaml", "-o", "out", "-q", cwd=project, env=env)
    assert r.returncode == 0, r.stderr
    marker = json.loads((project / "out" / ".bitsmith-run.json").read_text())
    assert marker["kind"] == "synthetic" and marker["seed"] == 3
    (project / "out" / "results.json").write_text("old")
    r = bitsmith("run", "c.yaml", "-o", "out", "-q", cwd=project, env=env)
    assert r.returncode == 0, r.stderr
    assert (project / "out" / "results.json").read_text() != "old"
    # a foreign, non-empty directory only with --force
    r = bitsmith("run", "c.yaml", "-o", "data", "-q", "--force", cwd=project, env=env)
    assert r.returncode == 0, r.stderr
    assert not (project / "data" / "x.csv").exists()
    assert (project / "data" / "results.json").is_file()
    # only the outputs and nothing else (no staging folders) sit beside the config
    assert sorted(p.name for p in project.iterdir()) == ["c.yaml", "data", "notes.txt", "out"]
    assert scratch_left(env) == []


def test_output_permissions_follow_the_umask(project, env):
    r = subprocess.run(["sh", "-c", f"umask 027 && exec {sys.executable} -m bitsmith.cli run "
                        f"c.yaml -o deep/er/out -q"], cwd=project, env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for d in ("deep", "deep/er", "deep/er/out"):
        assert (project / d).stat().st_mode & 0o777 == 0o750, d


@pytest.mark.parametrize("name, data, pattern", [
    ("bin.yaml", b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)),
     r"must be a UTF-8 text config file, not a binary file"),
    ("u16.yaml", "kind: synthetic\n".encode("utf-16"), r"must be a UTF-8 text file, not UTF-16"),
    ("dup.yaml", b"kind: synthetic\nseed: 1\nseed: 2\n",
     r"malformed YAML: line 3, column 1: duplicate key 'seed' \(first given on line 2\)"),
    ("kind.yaml", b"kind: [synthetic]\n", r"kind: must be one of .*, not \['synthetic'\]"),
    ("huge.yaml", b"kind: synthetic\nproblem: {budget: 99999999999999999999}\n",
     r"problem\.budget: integers must fit in 64 bits"),
])
def test_bad_config_files_exit_2_and_create_nothing(tmp_path, env, name, data, pattern):
    (tmp_path / name).write_bytes(data)
    before = listing(tmp_path)
    r = bitsmith("run", name, "-o", "new/deeper/out", cwd=tmp_path, env=env)
    assert_one_line_error(r, 2, rf"{name}: {pattern}")
    assert listing(tmp_path) == before  # not even -o's parents


@pytest.mark.parametrize("args, pattern", [
    (["run", "c.yaml", "--seed", "-1"], r"--seed: must be between 0 and 2\*\*63 - 1, not -1"),
    (["run", "c.yaml", "--seed", "abc"], r"argument --seed: invalid int value: 'abc'"),
    (["run", "nope.yaml"], r"nope\.yaml: config file not found"),
    (["run", "data"], r"data: is a directory, not a config file"),
])
def test_bad_arguments_exit_2(project, env, args, pattern):
    before = listing(project)
    r = bitsmith(*args, cwd=project, env=env)
    assert_one_line_error(r, 2, pattern)
    assert listing(project) == before


DNN = ROOT / "configs" / "dnn"


@pytest.mark.parametrize("bits, pattern", [
    ("w99999999999999999999a8", r"--bits: weight bits must be 1 to 32, not 99999999999999999999"),
    ("data", r"--bits: must be like 'w8a8' or a JSON file of per-layer bits, not the "
             r"directory 'data'"),
])
def test_estimate_bad_bits_argument(project, env, bits, pattern):
    before = listing(project)
    r = bitsmith("estimate", DNN / "small_cnn_bitserial.yaml", "--bits", bits, "-o", "out",
                 cwd=project, env=env)
    assert_one_line_error(r, 2, pattern)
    assert listing(project) == before


def test_duplicate_keys_in_bits_json(project, env):
    (project / "b.json").write_text('{"conv1": "w4a4", "conv1": "w8a8", "conv2": "w4a4", '
                                    '"fc": "w4a4"}')
    r = bitsmith("estimate", DNN / "small_cnn_bitserial.yaml", "--bits", "b.json", "-o", "out",
                 cwd=project, env=env)
    assert_one_line_error(r, 2, r"b\.json: --bits: duplicate key 'conv1'")


def test_duplicate_layer_names_in_a_layer_list(tmp_path, env):
    (tmp_path / "layers.yaml").write_text(
        "layers:\n"
        "  - {name: a, kind: linear, in_features: 4, out_features: 4}\n"
        "  - {name: a, kind: linear, in_features: 4, out_features: 2}\n")
    (tmp_path / "c.yaml").write_text("kind: dnn_estimate\nmodel: {layers: layers.yaml}\n"
                                     "accelerator: bitfusion\nplots: false\n")
    r = bitsmith("run", "c.yaml", "-o", "out", cwd=tmp_path, env=env)
    assert_one_line_error(r, 2, r"layers\.yaml: layers\[1\]\.name: layer names must be unique: "
                                r"'a' is also layer \[0\]")


def test_relative_accelerator_path_works_from_another_folder(tmp_path, env):
    """configs/dnn/*.yaml name their accelerator relative to themselves."""
    r = bitsmith("estimate", DNN / "small_cnn_bitserial.yaml", "-o", "out", "-q",
                 cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    totals = json.loads((tmp_path / "out" / "totals.json").read_text())
    assert totals["accelerator"] == "bitserial"


def test_internal_error_is_one_line_naming_the_log(tmp_path, env, monkeypatch, capsys):
    """Any unexpected exception: exit 4, one line naming the log that holds the traceback."""
    import dataclasses

    from bitsmith import cli
    from bitsmith.flows import FLOWS

    monkeypatch.setenv("BITSMITH_CACHE_DIR", env["BITSMITH_CACHE_DIR"])

    def boom(cfg, ctx):
        (ctx.out_dir / "half-written").write_text("x")
        raise ZeroDivisionError("deliberately broken flow")

    monkeypatch.setitem(FLOWS, "synthetic", dataclasses.replace(FLOWS["synthetic"], run=boom))
    (tmp_path / "c.yaml").write_text(SYNTH)
    monkeypatch.chdir(tmp_path)
    before = listing(tmp_path)
    assert cli.main(["run", "c.yaml", "-o", "a/b/out"]) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("bitsmith: internal error: ZeroDivisionError: "
                                               "deliberately broken flow (traceback in ")
    log = Path(err[0].split("traceback in ")[1].split(";")[0])
    assert "ZeroDivisionError" in log.read_text() and "Traceback" in log.read_text()
    assert listing(tmp_path) == before
    assert scratch_left(env) == []


def _descendants(pid: int) -> list[int]:
    from bitsmith.cli import _children_of

    return _children_of(pid)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return ") Z " not in stat


def _interrupt_during_verification(tmp_path, env, simulator, sig, wait_for):
    (tmp_path / "fir.yaml").write_text(FIR_LONG.replace("SIM", simulator))
    before = listing(tmp_path)
    p = subprocess.Popen([sys.executable, "-m", "bitsmith.cli", "run", "fir.yaml", "-o",
                          "out/fir"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    lines = []
    try:
        deadline = time.monotonic() + 240
        for line in p.stderr:
            lines.append(line)
            if "verifying the RTL" in line:
                break
            assert time.monotonic() < deadline, "".join(lines)
        else:
            pytest.fail("the run ended before verification:\n" + "".join(lines))
        # let the simulator (and, for Verilator, the compiler) start
        t0 = time.monotonic()
        kids = []
        while time.monotonic() - t0 < 60:
            kids = _descendants(p.pid)
            names = [Path(f"/proc/{k}/comm").read_text().strip() for k in kids if _alive(k)]
            if any(n.startswith(wait_for) for n in names):
                break
            time.sleep(0.2)
        assert kids, "no child process seen"
        time.sleep(1.0)
        kids = _descendants(p.pid)
        # staging and scratch folders exist now...
        assert any(".bitsmith-tmp-" in n for n, *_ in listing(tmp_path))
        assert scratch_left(env)
        p.send_signal(sig)
        _, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    time.sleep(0.5)
    assert p.returncode == 128 + sig, err
    assert "Traceback" not in err, err
    assert err.strip().splitlines()[-1] == (f"bitsmith: stopped by {signal.Signals(sig).name}; "
                                            f"temporaries and child processes removed")
    # ...and are gone, with every child process, and the file system is as it was
    assert [k for k in kids if _alive(k)] == []
    assert listing(tmp_path) == before
    assert scratch_left(env) == []


@pytest.mark.hdl
@pytest.mark.slow
def test_sigterm_during_icarus_verification_cleans_up(tmp_path, env, require_simulator):
    require_simulator("icarus")
    _interrupt_during_verification(tmp_path, env, "icarus", signal.SIGTERM, "vvp")


@pytest.mark.hdl
@pytest.mark.slow
def test_sigint_during_verilator_build_cleans_up(tmp_path, env, require_simulator):
    require_simulator("verilator")
    _interrupt_during_verification(tmp_path, env, "verilator", signal.SIGINT, ("make", "cc1plus",
                                                                               "c++", "g++"))


@pytest.mark.hdl
def test_missing_simulator_exits_3_before_any_search(tmp_path, env):
    (tmp_path / "fir.yaml").write_text(FIR_LONG.replace("SIM", "icarus"))
    env = {**env, "PATH": str(Path(sys.executable).parent)}  # no iverilog, no vvp
    before = listing(tmp_path)
    r = bitsmith("run", "fir.yaml", "-o", "out", "-q", cwd=tmp_path, env=env)
    assert_one_line_error(r, 3, r"^bitsmith: tool error: icarus: iverilog not found on PATH; "
                                r"apt-get install iverilog$")
    assert listing(tmp_path) == before


@pytest.mark.hdl
def test_failing_simulator_exits_3_with_its_last_lines_and_leaves_nothing(tmp_path, env):
    """A simulator that fails at run time (here a broken iverilog): exit 3, its own output
    shown, no staging or build folder left."""
    fake = tmp_path / "fakebin"
    fake.mkdir()
    for exe in ("iverilog", "vvp"):
        (fake / exe).write_text("#!/bin/sh\necho 'fake.v:3: syntax error in the fake tool' >&2"
                                "\nexit 1\n")
        (fake / exe).chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    (work / "fir.yaml").write_text(FIR_LONG.replace("SIM", "icarus").replace("3000000", "100"))
    env = {**env, "PATH": f"{fake}:{Path(sys.executable).parent}:/usr/bin:/bin"}
    before = listing(work)
    r = bitsmith("run", "fir.yaml", "-o", "out", "-q", cwd=work, env=env)
    assert r.returncode == 3, r.stderr
    assert "Traceback" not in r.stderr
    first, *rest = r.stderr.strip().splitlines()
    assert first.startswith("bitsmith: tool error: icarus: iverilog compilation failed"), r.stderr
    assert any("syntax error in the fake tool" in line for line in rest), r.stderr
    assert listing(work) == before
    assert scratch_left(env) == []


@pytest.mark.hdl
@pytest.mark.slow
def test_output_path_with_a_space_works(tmp_path, env, require_simulator):
    """GNU make cannot build in a path with spaces: builds happen in the space-free scratch."""
    require_simulator("verilator")
    require_simulator("icarus")
    d = tmp_path / "my project"
    d.mkdir()
    (d / "fir.yaml").write_text(FIR_LONG.replace("SIM", "verilator, icarus")
                                .replace("3000000", "2000"))
    r = bitsmith("run", "fir.yaml", "-o", "out dir/fir run", "-q", cwd=d, env=env, timeout=600)
    assert r.returncode == 0, r.stderr
    s = json.loads((d / "out dir" / "fir run" / "summary.json").read_text())
    for sim in ("verilator", "icarus"):
        assert s["verification"][sim]["mismatches"] == 0
        assert s["verification"][sim]["samples_checked"] >= 2000
    assert sorted(p.name for p in d.iterdir()) == ["fir.yaml", "out dir"]
    assert scratch_left(env) == []


def test_stale_staging_of_a_killed_run_is_swept(project, env):
    """After SIGKILL (the one case no handler sees) the next run removes what it left."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = project / f".out.bitsmith-tmp-{dead.pid}-abc123"
    stale.mkdir()
    (stale / "x").write_text("half")
    scratch = Path(env["BITSMITH_CACHE_DIR"]) / "tmp" / f"run-{dead.pid}-zz9"
    scratch.mkdir(parents=True)
    r = bitsmith("run", "c.yaml", "-o", "out", "-q", cwd=project, env=env)
    assert r.returncode == 0, r.stderr
    assert not stale.exists() and not scratch.exists()
    assert shutil.which("true")


def test_schema_into_a_closed_pipe_is_not_an_internal_error(tmp_path, env):
    """`bitsmith schema fir | head`: the reader is gone before bitsmith writes (`true` exits
    at once, bitsmith needs a moment to start), so the write meets a closed pipe."""
    r = subprocess.run(["bash", "-c", f"set -o pipefail; {sys.executable} -m bitsmith.cli "
                        f"schema fir | true"], cwd=tmp_path, env=env, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr, r.stderr
