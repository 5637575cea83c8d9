"""Creation-ordered indexes, so list pages and status filters never scan every resource.

Media v1 lists sort by ``date_created`` (``Order=asc|desc``) and filter by ``Status``. The
fake's clock never moves backwards, so creation order *is* ``date_created`` order: an
:class:`CreationIndex` keeps every resource in one list in creation order plus one list per
status (kept sorted by a creation sequence number), and :class:`OrderedView` exposes either
list ascending or descending as a :class:`~collections.abc.Sequence` whose slices cost only
the page size. Adding a resource is O(log n) (it always lands at the end); a status change
is a bisect plus a list deletion.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator, Sequence
from operator import attrgetter
from typing import Generic, Protocol, TypeVar, overload


class Indexed(Protocol):
    """What the index needs of a resource: a creation sequence number and a status."""

    seq: int
    status: str


R = TypeVar("R", bound=Indexed)

_seq_of = attrgetter("seq")


class OrderedView(Sequence[R], Generic[R]):
    """A read-only ascending or descending view of a list, sliced without copying it all."""

    def __init__(self, items: list[R], descending: bool) -> None:
        self._items = items
        self._descending = descending

    def __len__(self) -> int:
        return len(self._items)

    def _position(self, index: int) -> int:
        return len(self._items) - 1 - index if self._descending else index

    @overload
    def __getitem__(self, index: int) -> R: ...

    @overload
    def __getitem__(self, index: slice) -> list[R]: ...

    def __getitem__(self, index: int | slice) -> R | list[R]:
        if isinstance(index, slice):
            return [self._items[self._position(i)] for i in range(len(self._items))[index]]
        if index < 0:
            index += len(self._items)
        if not 0 <= index < len(self._items):
            raise IndexError(index)
        return self._items[self._position(index)]

    def __iter__(self) -> Iterator[R]:
        return reversed(self._items) if self._descending else iter(self._items)


class CreationIndex(Generic[R]):
    """Resources in creation order, overall and per status.

    Contract: resources are added in increasing ``seq`` order; whoever changes a resource's
    ``status`` calls :meth:`moved` right after, with the status it had before.
    """

    def __init__(self) -> None:
        self._all: list[R] = []
        self._by_status: dict[str, list[R]] = {}

    def add(self, item: R) -> None:
        self._all.append(item)
        insort(self._by_status.setdefault(item.status, []), item, key=_seq_of)

    def moved(self, item: R, old_status: str) -> None:
        """Re-file ``item`` (whose status just changed from ``old_status``)."""
        if old_status == item.status:
            return
        bucket = self._by_status.get(old_status, [])
        position = bisect_left(bucket, item.seq, key=_seq_of)
        if position < len(bucket) and bucket[position] is item:
            del bucket[position]
        insort(self._by_status.setdefault(item.status, []), item, key=_seq_of)

    def view(self, status: str | None = None, *, descending: bool = True) -> OrderedView[R]:
        """Every resource (or those with ``status``), oldest first or newest first."""
        items = self._all if status is None else self._by_status.get(status, [])
        return OrderedView(items, descending)

    def __len__(self) -> int:
        return len(self._all)

    def __iter__(self) -> Iterator[R]:
        return iter(self._all)
