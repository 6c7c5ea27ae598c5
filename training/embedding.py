"""Fine-tune the embedding model on question -> passage pairs, with sentence-transformers' trainer.

Pairs: one question per SQuAD v1.0 train paragraph (``../shared/data/qa-train``; no SQuAD 2.0
dev article), and every question of the news training files with the passage ``Index.build``
makes around its paragraph. Each passage is embedded as the index embeds it: its title, a new
line, the text. The loss is MultipleNegativesRankingLoss (the other passages of a batch are the
negatives), in batches that never hold the same passage twice.

    python -m training.embedding --out RUN --squad 2500 --mix 0.5 \
        --news benchmarks/news-train/questions.jsonl \
        --news training/data/news-reading/questions.jsonl

That command made the shipped ``ragnews/data/embedder/`` (the same weights, bit for bit, when
run again on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from ragnews.bench.datasets import load_question_set
from ragnews.ingest.chunking import ChunkSettings, chunk_document, embedded_text
from ragnews.records import Document
from ragnews.search.embedding import BASE_MODEL, resolve_model
from training.squad import load_squad

SQUAD_TRAIN = Path("../shared/data/qa-train/squad_v1.0_train_explorer.squad2.json")

Pair = tuple[str, str]
FP32 = {"dtype": "float32"}  # whatever dtype a model folder stores


def squad_pairs(path: Path, count: int, seed: int) -> list[Pair]:
    """``count`` (question, title + paragraph) pairs, one question per paragraph at most.

    Example:
        >>> len(squad_pairs(SQUAD_TRAIN, 3, seed=1))  # doctest: +SKIP
        3
    """
    by_context: dict[str, list[tuple[str, str]]] = {}
    for example in load_squad(path):
        title = example.title.replace("_", " ")
        by_context.setdefault(example.context, []).append((title, example.question))
    rng = random.Random(seed)
    contexts = sorted(by_context)
    rng.shuffle(contexts)
    pairs = []
    for context in contexts[:count]:
        title, question = rng.choice(by_context[context])
        pairs.append((question, f"{title}\n{context}"))
    return pairs


def news_pairs(questions: Path) -> list[Pair]:
    """Each answerable question of a news question file with the embedded text of its
    paragraph's passage."""
    question_set = load_question_set(questions)
    documents = {
        d.id: Document(id=d.id, title=d.title, text=d.text) for d in question_set.documents
    }
    settings = ChunkSettings()
    passages = {doc_id: chunk_document(doc, settings) for doc_id, doc in documents.items()}
    pairs = []
    for question in question_set.questions:
        if not question.answers or question.paragraph is None:
            continue
        (doc_id,) = question.relevant
        passage = next(p for p in passages[doc_id] if question.paragraph in p.paragraphs)
        pairs.append((question.text, embedded_text(passage, documents[doc_id], settings)))
    return pairs


def train(
    pairs: list[Pair], out: Path, base: str, epochs: float, lr: float, batch: int, mix: float = 1.0
) -> None:
    """Train ``base`` on ``pairs``; save the sentence-transformers model in ``out`` in fp16.

    ``mix`` below 1 keeps that share of the change from ``base`` and no more (weights
    ``base + mix * (trained - base)``): the tuned model's gains on questions, with less of its
    drift on the kinds of search it was not trained for.
    """
    import tempfile

    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from sentence_transformers.sentence_transformer.training_args import BatchSamplers

    model = SentenceTransformer(resolve_model(base), device="cpu", model_kwargs=FP32)
    before = {name: value.clone() for name, value in model.state_dict().items()}
    data = Dataset.from_dict({"anchor": [q for q, _ in pairs], "positive": [p for _, p in pairs]})
    arguments = SentenceTransformerTrainingArguments(
        output_dir=tempfile.mkdtemp(prefix="ragnews-embedding-"),
        num_train_epochs=epochs,
        per_device_train_batch_size=batch,
        learning_rate=lr,
        warmup_ratio=0.1,
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        logging_steps=10,
        save_strategy="no",
        report_to="none",
        dataloader_pin_memory=False,  # CPU only
        seed=1,
    )
    trainer = SentenceTransformerTrainer(
        model=model,
        args=arguments,
        train_dataset=data,
        loss=MultipleNegativesRankingLoss(model),
    )
    trainer.train()
    if mix != 1.0:
        model.load_state_dict(
            {
                name: before[name] + mix * (value - before[name])
                if value.is_floating_point()
                else value
                for name, value in model.state_dict().items()
            }
        )
    model.half()  # half the size to ship; ragnews loads it in fp32
    model.save(str(out), create_model_card=False)  # the folder's README.md is our own card


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--base", default=BASE_MODEL)
    parser.add_argument(
        "--squad", type=int, default=8000, help="SQuAD paragraphs (one question each)"
    )
    parser.add_argument("--news", type=Path, action="append", default=[])
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--mix", type=float, default=1.0, help="share of the change kept")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    pairs = squad_pairs(SQUAD_TRAIN, args.squad, args.seed)
    for path in args.news:
        pairs += news_pairs(path)
    random.Random(args.seed).shuffle(pairs)
    print(f"{len(pairs)} pairs", flush=True)
    start = time.perf_counter()
    train(pairs, args.out, args.base, args.epochs, args.lr, args.batch, args.mix)
    print(f"trained in {time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
