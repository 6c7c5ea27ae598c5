"""The page at ``/`` in a real browser (headless Chromium): type a question, see the
highlighted, attributed answer; see an abstention; use a filter; article text stays text."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from ragnews import Document, Embedder, Index
from ragnews.answering import default_reader
from ragnews.serve.app import create_app
from ragnews.serve.background import serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None or DRIVER is None,
        reason="no Chromium here: scripts/setup.sh installs Debian's chromium and chromium-driver "
        "when it runs as root or with sudo",
    ),
]
INDYK = "How did Martin Indyk describe Netanyahu's cancellation of the talks?"
HOSTILE = Document(
    "hostile",
    "Harbour notice",
    "The harbour notice read <script>window.pwned = 1</script> and <b>bold</b> in plain text.",
    source="Port Gazette",
    published="2024-05-02",
)


@pytest.fixture(scope="module")
def url(
    tmp_path_factory: pytest.TempPathFactory, demo_doc: Document, embedder: Embedder
) -> Iterator[str]:
    index = Index.build(
        [demo_doc, HOSTILE], tmp_path_factory.mktemp("page") / "i", embedder=embedder
    )
    with serving(create_app(index, default_reader())) as base:
        yield base + "/"


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(DRIVER)))
    driver.set_window_size(1000, 900)
    yield driver
    driver.quit()


def ask(browser: WebDriver, url: str, question: str, **filters: str) -> None:
    driver = browser
    driver.get(url)
    for name, value in filters.items():
        field = driver.find_element(By.ID, name)
        driver.execute_script("arguments[0].value = arguments[1]", field, value)
    driver.find_element(By.ID, "question").send_keys(question)
    driver.find_element(By.ID, "go").click()
    shown = (By.CSS_SELECTOR, "#answer, #no-answer, #error")
    WebDriverWait(driver, 60).until(ready.presence_of_element_located(shown))


def test_the_answer_is_highlighted_in_its_paragraph_with_its_citation(
    browser: WebDriver, url: str, tmp_path: Path
) -> None:
    ask(browser, url, INDYK)
    answer = browser.find_element(By.ID, "answer")
    assert answer.find_element(By.CLASS_NAME, "text").text == "totally staged"
    assert answer.find_element(By.CLASS_NAME, "speaker").text == "said Martin Indyk"
    assert "Biden Netanyahu" in answer.text and "paragraph 5" in answer.text
    assert answer.find_element(By.CSS_SELECTOR, ".context mark").text == "totally staged"
    passages = browser.find_elements(By.CSS_SELECTOR, ".passage")
    assert len(passages) == 5
    assert any(p.find_elements(By.TAG_NAME, "mark") for p in passages)
    browser.save_screenshot(str(tmp_path / "page.png"))


def test_an_abstention_shows_the_closest_paragraphs(browser: WebDriver, url: str) -> None:
    ask(browser, url, "Who won the 2022 World Cup final?")
    assert "No answer found" in browser.find_element(By.ID, "no-answer").text
    assert browser.find_elements(By.CSS_SELECTOR, ".passage")


def test_a_filter_narrows_the_articles(browser: WebDriver, url: str) -> None:
    ask(browser, url, INDYK, source="Port Gazette")
    metas = [m.text for m in browser.find_elements(By.CSS_SELECTOR, ".passage .meta")]
    assert metas and all("Port Gazette" in m for m in metas)


def test_article_text_is_shown_as_text_never_run(browser: WebDriver, url: str) -> None:
    ask(browser, url, "What did the harbour notice read?", source="Port Gazette")
    shown = browser.find_element(By.CSS_SELECTOR, ".passage").text
    assert "<script>window.pwned = 1</script>" in shown and "<b>bold</b>" in shown
    assert browser.execute_script("return window.pwned === undefined")


def test_the_page_fits_a_phone(browser: WebDriver, url: str) -> None:
    browser.set_window_size(390, 844)
    try:
        ask(browser, url, INDYK)
        width = browser.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert width[0] <= width[1]
    finally:
        browser.set_window_size(1000, 900)
