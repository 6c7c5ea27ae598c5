"""What ``ragnews bench`` measured, as JSON, as tables, and as TREC run files.

Example:
    >>> report = run_benchmark(load_question_set("dev-v2.0.json"))  # doctest: +SKIP
    >>> report.to_json()["retrieval"]["dense"]["metrics"]["recall@20"]  # doctest: +SKIP
    0.97
    >>> save_runs(report, "runs/dev.trec")  # doctest: +SKIP
    [PosixPath('runs/dev.trec')]
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from ragnews.bench.metrics import write_trec_run

REPORTED = ("recall@1", "recall@3", "recall@5", "recall@10", "recall@20", "mrr@10", "ndcg@10")
RunRanking = list[tuple[str, float]]


@dataclass(frozen=True)
class Timing:
    """Index build time (``None`` when an existing index was reused) and answering time.

    ``query_batch_size`` says how query latency was taken: 1 means each question was timed
    alone (true per-question p50/p95); more means each batch was timed and every question of a
    batch got the batch's mean.
    """

    index_seconds: float | None
    passages_per_s: float | None
    query_batch_size: int
    answer_ms_per_question: float | None = None


@dataclass(frozen=True)
class ModeResult:
    """One retrieval mode: its metrics, recall@1..20, query latency and ranked documents."""

    metrics: dict[str, float]
    recall_curve: list[float]
    p50_ms: float
    p95_ms: float
    mean_ms: float
    run: dict[str, RunRanking] = field(repr=False)


@dataclass(frozen=True)
class BenchReport:
    """A benchmark's counts, timing, retrieval metrics per mode and answer metrics (if read).

    Retrieval metrics are fractions in [0, 1] over the questions with a relevant document;
    answer metrics are the SQuAD 2.0 percentages of ``metrics.answer_scores``, plus
    ``speaker_accuracy`` (percent) and ``speaker_total`` where questions name a speaker.
    """

    name: str
    model: str
    k: int
    counts: dict[str, int]
    timing: Timing
    modes: dict[str, ModeResult]
    answers: dict[str, float] | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; the ranked runs are left out (see :func:`save_runs`)."""
        return {
            "name": self.name,
            "model": self.model,
            "k": self.k,
            "counts": self.counts,
            "timing": asdict(self.timing),
            "retrieval": {
                mode: {
                    "metrics": result.metrics,
                    "recall_curve": result.recall_curve,
                    "latency_ms": {
                        "p50": result.p50_ms,
                        "p95": result.p95_ms,
                        "mean": result.mean_ms,
                    },
                }
                for mode, result in self.modes.items()
            },
            "answers": self.answers,
        }


def run_paths(path: str | Path, modes: list[str]) -> dict[str, Path]:
    """Where each mode's TREC run goes: ``path`` itself for one mode, else ``stem-MODE.suffix``.

    Example:
        >>> run_paths("runs/dev.trec", ["dense", "bm25"])["bm25"]
        PosixPath('runs/dev-bm25.trec')
    """
    path = Path(path)
    if len(modes) == 1:
        return {modes[0]: path}
    return {mode: path.with_name(f"{path.stem}-{mode}{path.suffix}") for mode in modes}


def save_runs(report: BenchReport, path: str | Path) -> list[Path]:
    """Write each mode's ranked documents in TREC run format (tag ``ragnews-MODE``)."""
    paths = run_paths(path, list(report.modes))
    for mode, target in paths.items():
        write_trec_run(report.modes[mode].run, target, f"ragnews-{mode}")
    return list(paths.values())


def show_report(report: BenchReport, console: Console) -> None:
    """Print the counts and timing lines, a retrieval table and, if read, an answer table."""
    counts, timing = report.counts, report.timing
    console.print(
        f"[bold]{report.name}[/bold]: {counts['documents']} documents, "
        f"{counts['passages']} passages, {counts['questions']} questions "
        f"({counts['judged']} with a relevant document); model {report.model}, k={report.k}"
    )
    if timing.index_seconds is None or timing.passages_per_s is None:
        built = "index reused"
    else:
        seconds, rate = timing.index_seconds, timing.passages_per_s
        built = f"index built in {seconds:.1f} s ({rate:.1f} passages/s)"
    how = "each question timed alone"
    if timing.query_batch_size > 1:
        how = f"batches of {timing.query_batch_size}, batch mean per question"
    console.print(f"{built}; query latency: {how}")
    table = Table(
        title="Retrieval (documents; latency in ms)",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("mode", no_wrap=True)
    for name in REPORTED:  # short headers: the table fits 80 columns unwrapped
        header = name.replace("recall", "R").replace("mrr@10", "MRR").replace("ndcg@10", "nDCG")
        table.add_column(header, justify="right", no_wrap=True)
    for name in ("p50", "p95"):
        table.add_column(name, justify="right", no_wrap=True)
    for mode, result in report.modes.items():
        cells = [f"{result.metrics[n]:.3f}" if result.metrics else "-" for n in REPORTED]
        table.add_row(mode, *cells, f"{result.p50_ms:.1f}", f"{result.p95_ms:.1f}")
    console.print(table)
    if report.answers is not None:
        console.print(_answer_table(report.answers, timing.answer_ms_per_question))


HEADERS = {
    "exact": "exact match",
    "f1": "F1",
    "HasAns_exact": "answerable: exact match",
    "HasAns_f1": "answerable: F1",
    "NoAns_exact": "unanswerable: abstained right",
    "abstained": "abstained (questions)",
    "abstain_precision": "abstentions right",
    "abstain_recall": "unanswerable abstained",
    "speaker_accuracy": "speaker right",
}


def _answer_table(answers: dict[str, float], ms_per_question: float | None) -> Table:
    """The answer metrics, one row each (a table as narrow as its longest name)."""
    columns = ["exact", "f1", "HasAns_exact", "HasAns_f1", "NoAns_exact"]
    columns += ["abstained", "abstain_precision", "abstain_recall"]
    columns += ["speaker_accuracy"] if "speaker_accuracy" in answers else []
    title = "Answers"
    if ms_per_question is not None:
        title += f", {ms_per_question:.1f} ms/question (batched mean)"
    table = Table(title=title)
    table.add_column("measure")
    table.add_column("percent", justify="right")
    for name in columns:
        table.add_row(HEADERS[name], _cell(answers, name))
    return table


def _cell(answers: dict[str, float], name: str) -> str:
    return f"{answers[name]:.0f}" if name == "abstained" else f"{answers[name]:.1f}"
