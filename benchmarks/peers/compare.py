"""Score ragnews and its peers on hf500 with ragnews's metrics; print one side-by-side table.

Runs in the project's venv, after ``run_peers.py`` filled ``DIR`` from the peers' venv:

    .venv/bin/python benchmarks/peers/compare.py DIR [--skip-ours]

It first runs ragnews the way a user would, in new processes: ``ragnews bench`` on the hf500
questions (dense, bm25 and hybrid; index built from scratch into ``DIR/ragnews-index``;
``--save-run DIR/ragnews.trec``; JSON in ``DIR/ragnews.json``), then the cold starts: ``ask
QUESTION --index ... --json`` (hybrid retrieval + the reader) and a bare ``Index.open(...).search``
per mode, 3 times each. ``--skip-ours`` reuses what an earlier run left in ``DIR``.

Every run file, ours and the peers', is then read back and scored by ``ragnews.bench.metrics``
on two question sets: the 242 answerable questions (what the peers' published figures count) and
all 500. Documents are the 411 contexts for everyone; ragnews retrieves 20 passages and ranks each
context at its best passage, the peers retrieve 20 contexts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # this working tree, installed or not
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the same quiet, offline settings as the CLI
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from ragnews.bench.datasets import BenchQuestion, answerable_only, load_question_set
from ragnews.bench.metrics import evaluate_run, read_trec_run
from ragnews.search.options import Mode, SearchOptions
from ragnews.text.normalize import normalize_answer

ROOT = Path(__file__).resolve().parents[2]
MODES = ("dense", "bm25", "hybrid")
METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")
OURS_FOR = {  # the ragnews mode each peer is compared with
    "st-faiss": "dense",
    "haystack-dense": "dense",
    "txtai-dense": "dense",
    "haystack-bm25": "bm25",
    "txtai-hybrid": "hybrid",
}
COLD_SEARCH = (
    "import sys; from ragnews import Index; "
    "print(Index.open(sys.argv[1]).search(sys.argv[2], k=20, mode=sys.argv[3])[0].passage.doc_id)"
)


def timed_runs(command: list[str], times: int = 3) -> list[float]:
    """Wall seconds of each of ``times`` fresh runs of ``command``."""
    runs = []
    for _ in range(times):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        runs.append(time.perf_counter() - start)
    return runs


def script(name: str, fallback: str) -> list[str]:
    """The venv's console script ``name``, or what it runs when ragnews is not pip-installed."""
    path = Path(sys.executable).parent / name
    return [str(path)] if path.exists() else [sys.executable, "-c", fallback]


def run_ours(questions_file: Path, out: Path, first_question: str) -> None:
    """``ragnews bench`` (3 modes, fresh index) and the cold starts, into ``out``."""
    index = out / "ragnews-index"
    shutil.rmtree(index, ignore_errors=True)
    bench = [
        *script("ragnews", "from ragnews.cli.commands import main; main()"),
        *("bench", str(questions_file), "--index", str(index), "--json"),
        *(arg for mode in MODES for arg in ("--mode", mode)),
        *("--save-run", str(out / "ragnews.trec")),
    ]
    done = subprocess.run(bench, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
    report = json.loads(done.stdout)
    ask = [*script("ask", "from ragnews.cli.commands import ask_main; ask_main()"), first_question]
    cold = {"ask": timed_runs([*ask, "--index", str(index), "--json"])}
    for mode in MODES:
        command = [sys.executable, "-c", COLD_SEARCH, str(index), first_question, mode]
        cold[f"search {mode}"] = timed_runs(command)
    report["cold_s"] = {
        name: {"median": statistics.median(r), "runs": r} for name, r in cold.items()
    }
    report["command"] = " ".join(bench)
    report["load average after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    (out / "ragnews.json").write_text(json.dumps(report, indent=2) + "\n")


def scores(run_file: Path, questions: list[BenchQuestion]) -> dict[str, float]:
    qrels = {q.id: q.relevant for q in questions}
    result = evaluate_run(read_trec_run(run_file), qrels, (1, 5, 10))
    return {name: result[name] for name in METRICS}


def systems(out: Path) -> dict[str, dict[str, Any]]:
    """Per system: its run file, documents/s, query p50/p95 ms, cold seconds (and its label)."""
    ours = json.loads((out / "ragnews.json").read_text())
    docs_per_s = ours["counts"]["documents"] / ours["timing"]["index_seconds"]
    found: dict[str, dict[str, Any]] = {}
    for mode in MODES:
        latency = ours["retrieval"][mode]["latency_ms"]
        found[f"ragnews {mode}"] = {
            "run": out / f"ragnews-{mode}.trec",
            "docs_per_s": docs_per_s,
            "p50": latency["p50"],
            "p95": latency["p95"],
            "cold": ours["cold_s"][f"search {mode}"]["median"],
        }
    peers = json.loads((out / "peers.json").read_text())["systems"]
    for name, peer in peers.items():
        found[name] = {
            "run": out / f"{name}.trec",
            "docs_per_s": peer["documents_per_s"],
            "p50": peer["query_ms"]["p50"],
            "p95": peer["query_ms"]["p95"],
            "cold": peer["cold_s"]["median"],
        }
    return found


def table(
    found: dict[str, dict[str, Any]], questions: list[BenchQuestion], title: str
) -> list[str]:
    """Markdown lines: every system's metrics and timings, then ratios ragnews / peer."""
    header = ["system", "R@1", "R@5", "R@10", "MRR@10", "nDCG@10"]
    header += ["index docs/s", "query p50 ms", "p95 ms", "cold s"]
    lines = [f"**{title}**", "", "| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    scored = {name: scores(s["run"], questions) for name, s in found.items()}
    for name, s in found.items():
        cells = [f"{scored[name][m]:.3f}" for m in METRICS]
        cells += [f"{s['docs_per_s']:.1f}", f"{s['p50']:.1f}", f"{s['p95']:.1f}"]
        lines.append(f"| {name} | " + " | ".join(cells + [f"{s['cold']:.2f}"]) + " |")
    lines += [
        "",
        "ratios ragnews / peer (accuracy and index rate: > 1 is better for ragnews; "
        "query and cold time: < 1 is better for ragnews)",
        "",
    ]
    lines += ["| ragnews vs | " + " | ".join(header[1:]) + " |", "|---" * len(header) + "|"]
    for peer, mode in OURS_FOR.items():
        if peer not in found:
            continue
        ours, theirs = found[f"ragnews {mode}"], found[peer]
        cells = [_ratio(scored[f"ragnews {mode}"][m], scored[peer][m]) for m in METRICS]
        rate = _ratio(ours["docs_per_s"], theirs["docs_per_s"]) if mode != "bm25" else "n/a"
        cells += [rate, _ratio(ours["p50"], theirs["p50"]), _ratio(ours["p95"], theirs["p95"])]
        lines.append(
            f"| {mode} / {peer} | "
            + " | ".join([*cells, _ratio(ours["cold"], theirs["cold"])])
            + " |"
        )
    return lines


def answer_found(texts: dict[str, list[str]], questions: list[BenchQuestion], k: int) -> float:
    """Share of ``questions`` with a gold answer, as whole words, in one of their top ``k`` texts.

    Texts and answers are compared after SQuAD's ``normalize_answer``.
    """
    found = 0
    for question in questions:
        golds = [f" {g} " for g in map(normalize_answer, question.answers) if g]
        top = [f" {normalize_answer(text)} " for text in texts.get(question.id, [])[:k]]
        found += any(gold in text for gold in golds for text in top)
    return found / len(questions)


def answer_table(
    found: dict[str, dict[str, Any]],
    questions: list[BenchQuestion],
    corpus: dict[str, str],
    index_path: Path,
) -> list[str]:
    """Markdown lines: how often the top 1 / 5 retrieved units hold a gold answer.

    The peers' unit is the context; ragnews's is its passage (its index re-searched here, k=5).
    """
    from ragnews import Index

    index = Index.open(index_path)
    asked = [q.text for q in questions]
    lines = ["| system | unit | answer in top 1 | answer in top 5 |", "|---|---|---|---|"]
    for name, system in found.items():
        if name.startswith("ragnews "):
            mode = cast(Mode, name.removeprefix("ragnews "))  # SearchOptions checks it
            hits = index.search_many(asked, 5, SearchOptions(mode))
            texts = {
                q.id: [h.passage.text for h in h5] for q, h5 in zip(questions, hits, strict=True)
            }
            unit = "passage"
        else:
            run = read_trec_run(system["run"])
            texts = {qid: [corpus[d] for d, _ in ranking] for qid, ranking in run.items()}
            unit = "context"
        cells = [f"{answer_found(texts, questions, k):.3f}" for k in (1, 5)]
        lines.append(f"| {name} | {unit} | " + " | ".join(cells) + " |")
    return lines


def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}" if theirs else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dir", type=Path, help="the folder run_peers.py wrote")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--skip-ours", action="store_true", help="reuse DIR/ragnews.json")
    args = parser.parse_args()
    questions_file = args.data / "squad2" / "hf500_questions.jsonl"
    question_set = load_question_set(questions_file)
    if not args.skip_ours:
        run_ours(questions_file, args.dir, question_set.questions[0].text)
    found = systems(args.dir)
    answerable = answerable_only(question_set).questions
    lines = table(found, answerable, f"answerable questions only ({len(answerable)})")
    lines += [
        "",
        *table(found, question_set.questions, f"all {len(question_set.questions)} questions"),
    ]
    corpus = {doc.id: doc.text for doc in question_set.documents}
    title = f"**Does a retrieved unit hold a gold answer? ({len(answerable)} answerable)**"
    lines += ["", title, "", *answer_table(found, answerable, corpus, args.dir / "ragnews-index")]
    ours = json.loads((args.dir / "ragnews.json").read_text())
    ask = ours["cold_s"]["ask"]
    lines += [
        "",
        f"ragnews cold `ask --json` (hybrid + reader): {ask['median']:.2f} s median "
        f"(runs {', '.join(f'{r:.2f}' for r in ask['runs'])}); ragnews indexes "
        f"{ours['counts']['passages']} passages from {ours['counts']['documents']} contexts "
        f"({ours['timing']['passages_per_s']:.1f} passages/s)",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
