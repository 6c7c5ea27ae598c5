"""``ask --server URL``: the question goes to a running ``ragnews serve``, and what comes back
is printed exactly as the local ``ask`` prints it. Only the standard library is used, so this
path loads no model and no numerical library.

Example:
    >>> ask_server("http://127.0.0.1:8000", ["Who canceled the delegation?"], {"k": 5},
    ...            as_json=True, pretty=False)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import shutil
import sys
import urllib.error
import urllib.request
from typing import Any

from ragnews.cli.exits import INTERNAL, USAGE, fail

TIMEOUT = 120  # seconds a question may take on the server


def ask_server(
    url: str, questions: list[str], request: dict[str, Any], as_json: bool, pretty: bool
) -> None:
    """Ask each of ``questions`` at ``url`` and print the answers (JSON lines, or text)."""
    width = min(shutil.get_terminal_size((80, 24)).columns, 240)
    for question in questions:
        body = {**request, "question": question, "text": not as_json, "width": max(width, 40)}
        out = _post(url.rstrip("/") + "/ask", body)
        text = out.pop("text", None)
        if as_json:
            sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2 if pretty else None))
            sys.stdout.write("\n")
        else:
            sys.stdout.write(text or "")


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    data = json.dumps(body).encode("utf-8")
    headers = {"content-type": "application/json"}
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            answer: dict[str, Any] = json.loads(response.read())
            return answer
    except urllib.error.HTTPError as e:
        raise fail(f"{url}: {_detail(e.read())}", USAGE if e.code < 500 else INTERNAL) from e
    except (urllib.error.URLError, OSError) as e:
        raise fail(f"cannot reach the server at {url}: {getattr(e, 'reason', e)}", INTERNAL) from e


def _detail(body: bytes) -> str:
    """The server's error, in one line: each field and what is wrong with it."""
    try:
        detail = json.loads(body).get("detail")
    except (ValueError, AttributeError):
        return body.decode("utf-8", "replace")[:200]
    if isinstance(detail, list):
        return "; ".join(f"{'.'.join(map(str, d.get('loc', [])))}: {d.get('msg')}" for d in detail)
    return str(detail)
