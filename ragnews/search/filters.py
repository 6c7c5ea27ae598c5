"""Which articles a search or a deletion may touch: by source and by publication date.

``source`` matches ``Document.source`` ignoring case and surrounding spaces; ``since`` and
``until`` are ISO dates (``YYYY-MM-DD``), both inclusive, compared with the date part of
``Document.published``. An article without a date never passes a date filter.

Example:
    >>> from ragnews.records import Document
    >>> recent = Filters(source="valley times", since="2024-05-01")
    >>> recent.allows(Document("d1", "Storm", "...", source="Valley Times", published="2024-05-20"))
    True
    >>> recent.allows(Document("d2", "Undated", "...", source="Valley Times"))
    False
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from ragnews.errors import SearchError
from ragnews.records import Document

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Filters:
    """A conjunction of optional conditions on an article; with none set it allows everything."""

    source: str | None = None
    since: str | None = None
    until: str | None = None

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None:
                check_date(name, value)
        if self.since is not None and self.until is not None and self.since > self.until:
            raise SearchError(f"since {self.since} is after until {self.until}")

    @property
    def active(self) -> bool:
        """Whether any condition is set.

        Example:
            >>> Filters().active, Filters(until="2024-01-31").active
            (False, True)
        """
        return any(v is not None for v in (self.source, self.since, self.until))

    def allows(self, doc: Document) -> bool:
        """Whether ``doc`` meets every condition set."""
        return self.admits(doc.source, doc.published)

    def admits(self, source: str, published: str) -> bool:
        """Whether an article with this source and publication date meets every condition.

        Example:
            >>> Filters(until="2024-01-31").admits("Reuters", "2024-01-31T09:00:00")
            True
        """
        if self.source is not None and fold(source) != fold(self.source):
            return False
        if self.since is None and self.until is None:
            return True
        day = published[:10]
        if not day:
            return False
        return (self.since is None or day >= self.since) and (
            self.until is None or day <= self.until
        )


def fold(text: str) -> str:
    """A source name as filters compare it: case-folded, without surrounding spaces.

    Example:
        >>> fold("  Valley TIMES ")
        'valley times'
    """
    return text.strip().casefold()


def check_date(name: str, value: str) -> None:
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError(value)
        dt.date.fromisoformat(value)
    except ValueError:
        raise SearchError(f"{name} must be a date as YYYY-MM-DD, not {value!r}") from None
