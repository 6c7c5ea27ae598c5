"""Fine-tune an encoder with a span head into an extractive reader, on 2 CPU cores.

Train (the exact commands behind the shipped weights are in benchmarks/RESULTS.md)::

    python -m training.train --data ../shared/data --out RUN --steps 1100
    python -m training.evaluate --checkpoint RUN/checkpoint --out ragnews/data/reader

On a machine without spaCy (a GPU machine), train from the questions written here first::

    python -m training.train --save-examples plan.json.xz --swaps 25000
    python -m training.train --examples-file plan.json.xz --device cuda \
        --base ragnews/data/reader --out RUN --epochs 4 --minutes 6

``--minutes`` lays the learning-rate schedule over a fixed time instead of ``--steps`` (a lent
machine's time is counted): training stops that long after encoding ends, or at the end of the
plan, whichever comes first. ``--threads`` also sets how many processes encode the windows.
``--companions N`` reads each question with N other paragraphs of its article and takes one
softmax over all their windows (``shared_span_loss``), so that span scores of different
passages are on one scale, as ``ask`` compares them; ``--shared-weight W`` mixes that loss
(W) with the per-window one (1 - W), which goes on training each window's "no answer" alone,
as a question read on one paragraph needs.

Training data: every file of ``qa-train/`` plus the SQuAD 2.0 CS224n articles outside
``CALIBRATION_ARTICLES``, and made-up unanswerable questions: a SQuAD question paired with
another paragraph of its article, with its paragraph minus the answer's sentences
(``--deletions``), with one of its named entities swapped for another of the article
(``--swaps``), with a contrast word turned around (``--antonyms``), or negated
(``--negations``). The SQuAD 2.0 articles outside the CS224n file are never read here: they
are the held-out test set.
Checkpoints (safetensors + JSON, no pickle) let a run resume.
"""

from __future__ import annotations

import argparse
import json
import lzma
import math
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModelForQuestionAnswering, PreTrainedTokenizerFast

from ragnews.bench.datasets import QuestionSetError, load_question_set
from ragnews.reading.windows import pad_batch
from ragnews.search.embedding import DEFAULT_MODEL, native_bf16, resolve_model
from ragnews.text.paragraphs import paragraph_spans
from training.features import Feature, build_features
from training.negatives import (
    antonym_negatives,
    entity_swap_negatives,
    holds_an_answer,
    negation_negatives,
    paragraph_negatives,
    sentence_deletion_negatives,
)
from training.squad import QAExample, load_squad

# CS224n SQuAD 2.0 articles kept out of training to calibrate the no-answer threshold.
CALIBRATION_ARTICLES = ("Packet_switching", "Warsaw", "Force")


def with_companions(
    examples: list[QAExample], companions: int, rng: random.Random
) -> list[list[QAExample]]:
    """Each question with up to ``companions`` other paragraphs of its article that hold none
    of its answers, read together in one softmax (``shared_span_loss``).

    >>> a = QAExample("1", "T", "Ann won.", "Who won?", ((0, "Ann"),))
    >>> b = QAExample("2", "T", "Bob lost.", "Who lost?", ((0, "Bob"),))
    >>> [[e.context for e in group] for group in with_companions([a, b], 2, random.Random(0))]
    [['Ann won.', 'Bob lost.'], ['Bob lost.', 'Ann won.']]
    """
    by_title: dict[str, list[str]] = defaultdict(list)
    for e in examples:
        if e.context not in by_title[e.title]:
            by_title[e.title].append(e.context)
    groups = []
    for e in examples:
        others = [c for c in by_title[e.title] if c != e.context and not holds_an_answer(c, e)]
        picked = rng.sample(others, min(companions, len(others)))
        groups.append([e, *(QAExample(e.qid, e.title, c, e.question, ()) for c in picked)])
    return groups


def shared_span_loss(
    start_logits: torch.Tensor, end_logits: torch.Tensor, batch: list[list[Feature]]
) -> torch.Tensor:
    """Cross-entropy of the gold start and end over all windows of a question at once.

    ``batch`` is the windows of each question (its rows, in order, each padded at its end). A
    question's gold is every position that starts (ends) its answer in any of its windows; one
    without an answer in any of them has the "no answer" position of each window as gold. One
    softmax over all of a question's windows makes span scores comparable across passages
    (shared normalisation, Clark and Gardner 2018), where a softmax per window leaves each
    window's scale free. Window lengths come from the features, not the logits' device, so a
    GPU never waits on the loss.
    """
    losses = []
    row = 0
    for windows in batch:
        lengths = [len(w.input_ids) for w in windows]
        offsets = [sum(lengths[:i]) for i in range(len(windows))]  # of each window, flattened
        answered = [i for i, w in enumerate(windows) if (w.start, w.end) != (0, 0)]
        starts = [offsets[i] + windows[i].start for i in answered] or offsets  # or "no answer"
        ends = [offsets[i] + windows[i].end for i in answered] or offsets
        for logits, golds in ((start_logits, starts), (end_logits, ends)):
            pieces = [logits[row + i, :n] for i, n in enumerate(lengths)]
            flat = torch.cat(pieces).float()
            losses.append(-torch.log_softmax(flat, dim=0)[golds].logsumexp(dim=0))
        row += len(windows)
    return torch.stack(losses).sum() / (2 * len(batch))


def training_examples(
    data: Path,
    negatives: int,
    seed: int,
    deletions: int = 0,
    swaps: int = 0,
    antonyms: int = 0,
    negations: int = 0,
) -> list[QAExample]:
    """All training questions: qa-train, CS224n training articles, and made-up negatives."""
    rng = random.Random(seed)
    examples: list[QAExample] = []
    for path in sorted((data / "qa-train").glob("*.json")):
        examples += load_squad(path)
    cs224n = [
        e
        for e in load_squad(data / "squad2" / "cs224n_dev-v2.0.json")
        if e.title not in CALIBRATION_ARTICLES
    ]
    squad_v1 = [e for e in examples if e.qid.startswith("sqexp1.0-")]
    examples += cs224n * 2  # the only human-written unanswerable questions: seen twice
    examples += paragraph_negatives(squad_v1 + cs224n, negatives, rng)
    if deletions:  # after the paragraph negatives, so that deletions=0 keeps the old plan
        examples += sentence_deletion_negatives(squad_v1, deletions, rng)
    if swaps:
        examples += entity_swap_negatives(squad_v1, swaps, rng)
    if antonyms:
        examples += antonym_negatives(squad_v1, antonyms, rng)
    if negations:
        examples += negation_negatives(squad_v1, negations, rng)
    rng.shuffle(examples)
    return examples


def written_training(
    paths: Sequence[Path], limit: int | None, examples: Sequence[QAExample], rng: random.Random
) -> list[QAExample]:
    """Written unanswerable questions (SQuAD 2.0 files, ``training/data/unanswerable/``), at
    most ``limit`` of them chosen at random, each with the answerable questions of
    ``examples`` on its paragraph: as in SQuAD 2.0, the reader learns to tell the questions a
    paragraph answers from the tempting ones it does not.

    >>> a = QAExample("a", "T", "Ann won.", "Who won?", ((0, "Ann"),))
    >>> u = QAExample("u", "T", "Ann won.", "Who lost?", ())
    >>> [e.qid for e in pair_with_answerable([u], [a])]
    ['u', 'a']
    """
    written = [e for path in paths for e in load_squad(path) if not e.answerable]
    if limit is not None and limit < len(written):
        written = rng.sample(written, limit)
    return pair_with_answerable(written, examples)


def pair_with_answerable(
    written: Sequence[QAExample], examples: Sequence[QAExample]
) -> list[QAExample]:
    """``written`` followed by the answerable ``examples`` that share a context with them."""
    contexts = {e.context for e in written}
    seen: set[str] = set()
    answerable = []
    for e in examples:
        if e.answerable and e.context in contexts and e.qid not in seen:
            seen.add(e.qid)
            answerable.append(e)
    return [*written, *answerable]


def news_training(
    paths: Sequence[Path], negatives: int | None, rng: random.Random
) -> list[QAExample]:
    """The questions of ragnews question files, plus ``negatives`` of their answerable ones
    asked of another paragraph of their article (None: one per answerable question)."""
    news = [e for path in paths for e in news_examples(path)]
    count = sum(1 for e in news if e.answers) if negatives is None else negatives
    return news + paragraph_negatives(news, count, rng)


def news_examples(path: Path) -> list[QAExample]:
    """A ragnews question file's questions, each on the paragraph its ``paragraph`` names (the
    one an unanswerable question is closest to), as training questions."""
    question_set = load_question_set(path)
    texts = {doc.id: doc.text for doc in question_set.documents}
    examples = []
    for q in question_set.questions:
        if q.paragraph is None or len(q.relevant) != 1:
            raise QuestionSetError(path, f"{q.id}: a training question needs doc_id and paragraph")
        (doc_id,) = q.relevant
        start, end = paragraph_spans(texts[doc_id])[q.paragraph - 1]  # the loader checked it
        context = texts[doc_id][start:end]
        answers: tuple[tuple[int, str], ...] = ()
        if q.answers:
            at = context.find(q.answers[0])
            if at < 0:
                raise QuestionSetError(path, f"{q.id}: {q.answers[0]!r} is not in its paragraph")
            answers = ((at, q.answers[0]),)
        examples.append(QAExample(q.id, doc_id, context, q.text, answers))
    return examples


def save_examples(examples: list[QAExample], path: Path) -> None:
    """Write a training plan's questions as xz-compressed JSON (each context once), atomically.

    Made-up negatives need spaCy; a machine without it (a bare GPU machine) trains from
    this file (``--examples-file``).

    Example:
        >>> import tempfile
        >>> q = QAExample("1", "T", "Ann won.", "Who won?", ((0, "Ann"),))
        >>> path = Path(tempfile.mkdtemp()) / "plan.json.xz"
        >>> save_examples([q, q], path)
        >>> load_examples(path) == [q, q]
        True
    """
    contexts: dict[str, int] = {}
    rows = [
        [e.qid, e.title, contexts.setdefault(e.context, len(contexts)), e.question, e.answers]
        for e in examples
    ]
    tmp = path.with_name(path.name + ".tmp")
    with lzma.open(tmp, "wt", encoding="utf-8") as f:
        json.dump({"contexts": list(contexts), "examples": rows}, f)
    tmp.replace(path)


def load_examples(path: Path) -> list[QAExample]:
    """The questions ``save_examples`` wrote, in their order."""
    with lzma.open(path, "rt", encoding="utf-8") as f:
        data = json.load(f)
    contexts = data["contexts"]
    return [
        QAExample(qid, title, contexts[c], question, tuple((s, t) for s, t in answers))
        for qid, title, c, question, answers in data["examples"]
    ]


def group_batches(
    groups: list[list[Feature]], batch_size: int, seed: int
) -> list[list[list[Feature]]]:
    """Batches of whole questions (their windows together), about ``batch_size`` windows each:
    length-grouped (dynamic padding wastes less), in a shuffled order. A question of one
    window each gives batches of exactly ``batch_size`` windows."""
    rng = random.Random(seed)
    order = groups[:]
    rng.shuffle(order)
    out: list[list[list[Feature]]] = []
    chunk = batch_size * 50
    for i in range(0, len(order), chunk):
        part = sorted(order[i : i + chunk], key=lambda g: max(len(f.input_ids) for f in g))
        batch: list[list[Feature]] = []
        part_batches = []
        for group in part:
            batch.append(group)
            if sum(len(g) for g in batch) >= batch_size:
                part_batches.append(batch)
                batch = []
        part_batches += [batch] if batch else []
        rng.shuffle(part_batches)
        out += part_batches
    return out


def lr_factor(done: float, warmup: float) -> float:
    """Multiplier of the peak learning rate once a fraction ``done`` of the run is over.

    Linear warm-up over the first ``warmup`` of the run, then linear decay to 0 at its end.

    >>> lr_factor(0.025, 0.05), lr_factor(0.05, 0.05), lr_factor(0.525, 0.05), lr_factor(1.2, 0.05)
    (0.5, 1.0, 0.5, 0.0)
    """
    rise = done / warmup if warmup > 0 else 1.0
    return max(0.0, min(rise, (1.0 - done) / (1.0 - warmup)))


def collate(batch: list[Feature], pad_id: int) -> dict[str, torch.Tensor]:
    """Pad a batch to a multiple of 32 tokens (few distinct shapes keep memory flat)."""
    inputs = pad_batch([(f.input_ids, f.token_type_ids) for f in batch], pad_id, multiple=32)
    inputs["start_positions"] = torch.tensor([f.start for f in batch])
    inputs["end_positions"] = torch.tensor([f.end for f in batch])
    return inputs


def _loss(
    model: torch.nn.Module, batch: list[list[Feature]], pad_id: int, device: str, shared: float
) -> torch.Tensor:
    """A batch's loss (``batch``: each question's windows): ``shared`` times the loss of each
    question's windows in one softmax (``shared_span_loss``) plus ``1 - shared`` times the
    loss per window, where each window's "no answer" stands alone."""
    inputs = collate([f for group in batch for f in group], pad_id)
    if shared == 1.0:
        del inputs["start_positions"], inputs["end_positions"]
    out = model(**{k: v.to(device) for k, v in inputs.items()})
    if shared == 0.0:
        loss: torch.Tensor = out.loss
        return loss
    joint = shared_span_loss(out.start_logits, out.end_logits, batch)
    return joint if shared == 1.0 else shared * joint + (1.0 - shared) * out.loss


def save_checkpoint(
    out: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, step: int
) -> None:
    """Write model and optimizer state as safetensors + JSON, then swap it in atomically."""
    tmp = out / "checkpoint.tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(tmp)  # type: ignore[operator]
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    steps: dict[str, float] = {}
    for key, slot in state["state"].items():
        tensors[f"{key}.exp_avg"] = slot["exp_avg"].cpu().contiguous()
        tensors[f"{key}.exp_avg_sq"] = slot["exp_avg_sq"].cpu().contiguous()
        steps[str(key)] = float(slot["step"])
    save_file(tensors, str(tmp / "optimizer.safetensors"))
    (tmp / "trainer.json").write_text(json.dumps({"step": step, "adam_steps": steps}))
    final = out / "checkpoint"
    if final.exists():
        final.rename(out / "checkpoint.old")
    tmp.rename(final)
    old = out / "checkpoint.old"
    if old.exists():
        for f in old.iterdir():
            f.unlink()
        old.rmdir()


def load_optimizer(path: Path, optimizer: torch.optim.Optimizer) -> int:
    tensors = load_file(str(path / "optimizer.safetensors"))
    meta = json.loads((path / "trainer.json").read_text())
    state = optimizer.state_dict()
    for key, step in meta["adam_steps"].items():
        state["state"][int(key)] = {
            "step": torch.tensor(step),
            "exp_avg": tensors[f"{key}.exp_avg"],
            "exp_avg_sq": tensors[f"{key}.exp_avg_sq"],
        }
    optimizer.load_state_dict(state)
    return int(meta["step"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument(
        "--base", default=None, help="encoder to start from (default: all-MiniLM-L6-v2)"
    )
    ap.add_argument("--out", type=Path, help="run folder: checkpoints, resumed from when present")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--epochs", type=int, default=1, help="passes over the questions in the plan")
    ap.add_argument(
        "--minutes",
        type=float,
        help="train this long at most, after encoding; the schedule follows the clock",
    )
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1.5e-4)
    ap.add_argument("--warmup", type=float, default=0.05)
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--stride", type=int, default=128)
    ap.add_argument("--negatives", type=int, default=20000)
    ap.add_argument(
        "--deletions", type=int, default=0, help="negatives made by deleting answer sentences"
    )
    ap.add_argument(
        "--swaps", type=int, default=0, help="negatives made by swapping an entity of the question"
    )
    ap.add_argument(
        "--antonyms", type=int, default=0, help="negatives made by turning a contrast word around"
    )
    ap.add_argument(
        "--negations", type=int, default=0, help="negatives made by negating the question's verb"
    )
    ap.add_argument(
        "--examples", type=int, default=66880, help="questions encoded into the batch plan"
    )
    ap.add_argument("--skip", type=int, default=0, help="start the plan after N questions")
    ap.add_argument(
        "--news",
        type=Path,
        action="append",
        default=[],
        help="ragnews question file to train on too, with one other paragraph per answerable "
        "question as a negative (repeatable)",
    )
    ap.add_argument("--news-repeat", type=int, default=1, help="times each news question is read")
    ap.add_argument(
        "--written",
        type=Path,
        action="append",
        default=[],
        help="SQuAD 2.0 file of written unanswerable questions to train on, with the answerable "
        "questions of their paragraphs (repeatable)",
    )
    ap.add_argument(
        "--written-limit", type=int, help="at most this many written questions, chosen at random"
    )
    ap.add_argument(
        "--news-negatives",
        type=int,
        help="other-paragraph negatives made from the --news questions (default: one per "
        "answerable question)",
    )
    ap.add_argument(
        "--companions",
        type=int,
        default=0,
        help="read each question with N other paragraphs of its article, in one softmax",
    )
    ap.add_argument(
        "--shared-weight",
        type=float,
        default=1.0,
        help="with --companions: weight of the one-softmax loss against the per-window one",
    )
    ap.add_argument(
        "--save-examples", type=Path, help="write every question (FILE.json.xz) and stop"
    )
    ap.add_argument(
        "--examples-file", type=Path, help="read the questions --save-examples wrote (no spaCy)"
    )
    ap.add_argument("--device", default="cpu", help="cpu, or cuda on a GPU machine")
    ap.add_argument("--checkpoint-every", type=int, default=200)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    if args.out is None and args.save_examples is None:
        ap.error("--out is required (or --save-examples)")

    t0 = time.time()
    if args.examples_file:
        examples = load_examples(args.examples_file)
    else:
        examples = training_examples(
            args.data,
            args.negatives,
            args.seed,
            args.deletions,
            args.swaps,
            args.antonyms,
            args.negations,
        )
    if args.save_examples:
        save_examples(examples, args.save_examples)
        print(f"{len(examples)} examples written to {args.save_examples}", flush=True)
        return

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    args.base = args.base or resolve_model(DEFAULT_MODEL)
    # the word pieces every reader of ours uses: the base's own copy when it has one
    has_vocabulary = (Path(args.base) / "tokenizer.json").exists()
    vocabulary = args.base if has_vocabulary else resolve_model(DEFAULT_MODEL)
    args.out.mkdir(parents=True, exist_ok=True)
    resume = args.out / "checkpoint"
    tokenizer = PreTrainedTokenizerFast.from_pretrained(vocabulary)
    model = AutoModelForQuestionAnswering.from_pretrained(
        str(resume) if resume.exists() else args.base, dtype=torch.float32
    ).to(args.device)

    # The batch plan depends on --skip, --examples, the --news options, --epochs and --seed only,
    # so a run resumed with another --steps (a shorter or longer schedule) sees the same batches.
    chosen = examples[args.skip : args.skip + args.examples]
    if args.news:
        news = news_training(args.news, args.news_negatives, random.Random(args.seed))
        chosen = chosen + news * args.news_repeat
    if args.written:
        rng = random.Random(args.seed)
        chosen = chosen + written_training(args.written, args.written_limit, examples, rng)
    if args.companions:  # each question's windows and its companions' together
        groups = with_companions(chosen, args.companions, random.Random(args.seed))
        flat = [e for group in groups for e in group]
        owner = [g for g, group in enumerate(groups) for _ in group]
        features = build_features(tokenizer, flat, args.max_length, args.stride, args.threads)
        grouped: list[list[Feature]] = [[] for _ in groups]
        for f in features:
            grouped[owner[f.example]].append(f)
    else:  # the loss is per window: each window stands alone
        features = build_features(tokenizer, chosen, args.max_length, args.stride, args.threads)
        grouped = [[f] for f in features]
    passes = [group_batches(grouped, args.batch_size, args.seed + e) for e in range(args.epochs)]
    plan = [batch for one_pass in passes for batch in one_pass][: args.steps]
    print(
        f"{len(examples)} examples available, {len(features)} windows encoded "
        f"({time.time() - t0:.0f}s), {len(plan)} steps planned",
        flush=True,
    )

    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    step = load_optimizer(resume, optimizer) if resume.exists() else 0
    (args.out / "args.json").write_text(json.dumps({k: str(v) for k, v in vars(args).items()}))

    model.train()
    device_type = torch.device(args.device).type
    bf16 = device_type != "cpu" or native_bf16()  # emulated bf16 is slower than fp32 on a CPU
    pad_id = tokenizer.pad_token_id or 0
    shared = args.shared_weight if args.companions else 0.0
    t_start, seen, loss_avg = time.time(), 0, math.nan
    budget = args.minutes * 60 if args.minutes else math.inf
    while step < len(plan):
        # the middle of this step, as a fraction of the run: by steps, or by the clock
        done = max((step + 0.5) / len(plan), (time.time() - t_start) / budget)
        if done >= 1.0:
            break
        for group in optimizer.param_groups:
            group["lr"] = args.lr * lr_factor(done, args.warmup)
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=bf16):
            loss: Any = _loss(model, plan[step], pad_id, args.device, shared)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        seen += sum(len(group) for group in plan[step - 1])
        loss_avg = loss.item() if math.isnan(loss_avg) else 0.98 * loss_avg + 0.02 * loss.item()
        if step % 20 == 0:
            rate = seen / (time.time() - t_start)
            print(
                f"step {step}/{len(plan)} loss {loss_avg:.3f} "
                f"lr {optimizer.param_groups[0]['lr']:.2e} {rate:.1f} windows/s",
                flush=True,
            )
        if step % args.checkpoint_every == 0:
            save_checkpoint(args.out, model, optimizer, step)
    if step % args.checkpoint_every:
        save_checkpoint(args.out, model, optimizer, step)
    print(f"done: {step} steps, {seen} windows in {time.time() - t_start:.0f}s", flush=True)


if __name__ == "__main__":
    main()
