"""Read question-answering data in the SQuAD 2.0 JSON layout.

Example:
    >>> examples = load_squad("../shared/data/squad2/cs224n_dev-v2.0.json")  # doctest: +SKIP
    >>> examples[0].question  # doctest: +SKIP
    'In what country is Normandy located?'
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class QAExample:
    """One question about one context; ``answers`` is empty when it is unanswerable."""

    qid: str
    title: str
    context: str
    question: str
    answers: tuple[tuple[int, str], ...]

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def load_squad(path: str | Path) -> list[QAExample]:
    """Load every question of a SQuAD 1.1/2.0 JSON file, keeping only answers whose offsets hold."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    examples: list[QAExample] = []
    for article in data["data"]:
        title = article.get("title", "")
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                answers = tuple(
                    (a["answer_start"], a["text"])
                    for a in qa.get("answers", [])
                    if context[a["answer_start"] : a["answer_start"] + len(a["text"])] == a["text"]
                )
                if qa.get("is_impossible"):
                    answers = ()
                elif not answers:
                    continue  # an answerable question whose offsets are wrong teaches nothing
                examples.append(QAExample(str(qa["id"]), title, context, qa["question"], answers))
    return examples
