"""The package's layout holds: folders are layers whose imports only go down, and importing
ragnews costs nothing until a part of it is used."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import tomllib

from importlinter.cli import lint_imports

import ragnews
from tests.conftest import ROOT

CONFIG = ROOT / "pyproject.toml"


def test_no_import_goes_up_a_layer_or_into_training() -> None:
    assert lint_imports(config_filename=str(CONFIG), no_cache=True, no_logo=True) == 0


def test_every_part_of_the_package_sits_in_a_layer() -> None:
    contracts = tomllib.loads(CONFIG.read_text())["tool"]["importlinter"]["contracts"]
    layers = next(c["layers"] for c in contracts if c["type"] == "layers")
    named = {name.strip() for layer in layers for name in layer.split("|")}
    parts = {f"ragnews.{m.name}" for m in pkgutil.iter_modules(ragnews.__path__)}
    assert parts == named


def test_importing_ragnews_loads_no_model_library_and_no_training_code() -> None:
    probe = (
        "import sys, ragnews; from ragnews import __version__; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'faiss', 'training', "
        "'transformers', 'spacy', 'numpy'}))"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"
