"""Data errors and the skip report: bad input is either a clear error or a counted skip, never silent."""

from __future__ import annotations

import threading
from collections import OrderedDict

__all__ = ["DataError", "SkipReport"]


class DataError(ValueError):
    """A problem with a data file: the message names the file and says what is wrong."""

    def __init__(self, path, problem: str):
        self.path = str(path) if path is not None else None
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


class SkipReport:
    """Thread-safe record of skipped samples and altered annotations, grouped by reason.

    Each ``(reason, key)`` is counted once however often it is met (a bad image is seen every
    epoch), so counts are numbers of distinct samples / joints. ``summary()`` is what runs print
    at the end; ``counts`` is the programmatic view.
    """

    def __init__(self, name: str = "data"):
        self.name = name
        self._items: OrderedDict[str, OrderedDict[str, str]] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, reason: str, key, detail: str = "") -> None:
        with self._lock:
            self._items.setdefault(reason, OrderedDict()).setdefault(str(key), detail)

    def merge(self, other: SkipReport, prefix: str = "") -> None:
        for reason, items in other.items().items():
            for key, detail in items.items():
                self.add(prefix + reason, key, detail)

    def items(self) -> dict[str, dict[str, str]]:
        with self._lock:
            return {r: dict(v) for r, v in self._items.items()}

    @property
    def counts(self) -> dict[str, int]:
        with self._lock:
            return {r: len(v) for r, v in self._items.items()}

    def count(self, reason: str | None = None) -> int:
        c = self.counts
        return sum(c.values()) if reason is None else c.get(reason, 0)

    def __len__(self) -> int:
        return self.count()

    def __bool__(self) -> bool:
        return self.count() > 0

    def summary(self, examples: int = 3) -> str:
        items = self.items()
        if not items:
            return f"{self.name}: no samples skipped, no annotations changed"
        lines = [f"{self.name}: {sum(len(v) for v in items.values())} data problems"]
        for reason, entries in items.items():
            ex = [f"{k} ({d})" if d else k for k, d in list(entries.items())[:examples]]
            more = " ..." if len(entries) > examples else ""
            lines.append(f"  {reason}: {len(entries)}  e.g. {', '.join(ex)}{more}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"SkipReport({self.name!r}, {self.counts})"
