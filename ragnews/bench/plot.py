"""Plot a benchmark's recall@k curves (k = 1..20), one line per retrieval mode, to a PNG.

Uses matplotlib's Agg canvas directly (no pyplot, no display, no global backend switch).

Example:
    >>> plot_recall(run_benchmark(qs), "recall.png")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ragnews.bench.report import BenchReport


def plot_recall(report: BenchReport, path: str | Path) -> Path:
    """Draw recall@1..20 of every mode of ``report`` and save it as an image at ``path``."""
    figure = Figure(figsize=(6, 4), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for mode, result in report.modes.items():
        ks = range(1, len(result.recall_curve) + 1)
        axes.plot(ks, result.recall_curve, marker="o", markersize=3, label=mode)
    axes.set(
        xlabel="k (documents)",
        ylabel="recall@k",
        ylim=(0, 1.02),
        xticks=[1, 5, 10, 15, 20],
        title=f"{report.name}: recall@k, {report.counts['judged']} questions",
    )
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, format="png")
    return Path(path)
