"""Show a ``Result``: as the JSON object scripts read, or as text for a person.

The JSON contract (keep these names)::

    {"question": str, "abstained": bool,
     "answers":  [{"text", "score", "doc_id", "title", "paragraph", "start", "end",
                   "context", "speaker", "quote"}],
     "passages": [{"doc_id", "title", "paragraph", "start", "end", "text", "score",
                   "aliases", "source", "published", "url"}]}

``aliases`` lists the ids of near-duplicate articles kept as aliases of the passage's article.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from ragnews.index.index import Index
from ragnews.records import Result

TITLE_CHARS = 36  # a panel's title fits 80 columns with its rank, paragraph and score


def to_json(result: Result) -> dict[str, Any]:
    """The output contract of ``ask --json``; offsets index the article text."""
    return {
        "question": result.question,
        "abstained": result.abstained,
        "answers": [
            {
                "text": a.text,
                "score": round(a.score, 4),
                "doc_id": a.citation.doc_id,
                "title": a.citation.title,
                "paragraph": a.citation.paragraph,
                "start": a.citation.start,
                "end": a.citation.end,
                "context": a.citation.context,
                "context_start": a.citation.context_start,
                "speaker": a.speaker,
                "quote": a.quote,
            }
            for a in result.answers
        ],
        "passages": [
            {
                "doc_id": h.passage.doc_id,
                "title": h.title,
                "paragraph": h.passage.paragraphs[0],
                "start": h.passage.start,
                "end": h.passage.end,
                "text": h.passage.text,
                "score": round(h.score, 4),
                "aliases": list(h.aliases),
                "source": h.source,
                "published": h.published,
                "url": h.url,
            }
            for h in result.hits
        ],
    }


def show(result: Result, index: Index, console: Console) -> None:
    """Print the answer (or that none was found) and the grounding paragraphs, marked."""
    console.print(Text(result.question, style="bold"))
    if result.answers:
        best = result.answers[0]
        line = Text.assemble(("Answer: ", "bold"), (best.text, "bold green"))
        if best.quote and best.speaker:
            line.append(f" — said {best.speaker}", style="italic")
        line.append(
            f"  (confidence {best.score:.2f}; {best.citation.title}, "
            f"paragraph {best.citation.paragraph})",
            style="dim",
        )
        console.print(line)
    elif result.abstained:
        console.print(Text("No answer found in the articles.", style="bold yellow"))
    for rank, hit in enumerate(result.hits, 1):
        doc = index.documents[hit.passage.doc_id]
        first, last = hit.passage.paragraphs[0], hit.passage.paragraphs[-1]
        start = doc.paragraph_spans[first - 1][0]
        end = doc.paragraph_spans[last - 1][1]
        body = Text(doc.text[start:end])
        body.stylize("underline", hit.passage.start - start, hit.passage.end - start)
        for answer in result.answers[:1]:
            if answer.citation.doc_id == doc.id and start <= answer.citation.start < end:
                body.stylize(
                    "bold green reverse", answer.citation.start - start, answer.citation.end - start
                )
        where = f"paragraph {first}" if first == last else f"paragraphs {first}-{last}"
        title = f"[{rank}] {_short(hit.title, TITLE_CHARS)} — {where} ({hit.score:.3f})"
        console.print(Panel(Group(body), title=title, title_align="left", expand=True))


def _short(text: str, most: int) -> str:
    """``text`` cut to ``most`` characters at a word, marked with an ellipsis when cut.

    Example:
        >>> _short("Biden says Netanyahu is hurting Israel more than helping it", 30)
        'Biden says Netanyahu is…'
    """
    if len(text) <= most:
        return text
    return text[: most - 1].rsplit(" ", 1)[0] + "…"
