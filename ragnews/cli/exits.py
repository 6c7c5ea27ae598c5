"""How a command ends: one line on stderr for every failure, and an exit status per kind.

| status | meaning |
|---|---|
| 0 | done |
| 1 | done, but some input was skipped (each file or line reported) |
| 2 | usage: a bad option, question, filter, date or file of questions |
| 3 | the index: missing, damaged, built otherwise, or already there |
| 4 | internal: anything unexpected (``RAGNEWS_DEBUG=1`` shows the traceback) |
| 130 | interrupted (Ctrl-C) |

Example:
    >>> @guarded
    ... def fails() -> None:
    ...     raise SearchError("the question is empty")
    >>> fails()  # doctest: +SKIP
    error: the question is empty          (exit status 2)
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from typer.exceptions import TyperException

from ragnews.errors import IndexStoreError, RagnewsError

OK, SKIPPED, USAGE, INDEX, INTERNAL, INTERRUPTED = 0, 1, 2, 3, 4, 130

err = Console(stderr=True, soft_wrap=True, highlight=False)

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, status: int) -> typer.Exit:
    """Print ``error: message`` on stderr; the ``typer.Exit`` to raise with ``status``."""
    err.print(f"[red]error:[/red] {escape(message)}")
    return typer.Exit(status)


def guarded(command: Callable[P, R]) -> Callable[P, R]:
    """``command``, its failures turned into one line and the exit status of their kind."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, TyperException):  # typer's own usage errors
            raise
        except IndexStoreError as e:
            raise fail(str(e), INDEX) from e
        except RagnewsError as e:
            raise fail(str(e), USAGE) from e
        except KeyboardInterrupt as e:
            err.print("interrupted")
            raise typer.Exit(INTERRUPTED) from e
        except Exception as e:
            if os.environ.get("RAGNEWS_DEBUG"):
                raise
            message = f"internal error: {type(e).__name__}: {e} (RAGNEWS_DEBUG=1 shows where)"
            raise fail(message, INTERNAL) from e

    return run
