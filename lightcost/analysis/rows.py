"""A sweep's configurations held as columns: one numpy array per key, 8 bytes a value.

A million configurations as dicts take more than a gigabyte; as columns (width,
resolution and one per figure) about 80 MB. :class:`Rows` still reads as a
sequence of ``{key: value}`` dicts (Python ints and floats, exact), built on
the fly; :meth:`Rows.chunks` gives the values a block at a time, for writers
that stream, and :meth:`Rows.front` the Pareto front without sorting dicts.
numpy is imported lazily, as in :mod:`lightcost.analysis.sweep`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

CHUNK = 8192  # rows converted to Python values at a time (iteration, writers)


class Rows(Sequence[dict[str, Any]]):
    """Equal-length columns read as a sequence of row dicts (keys in column order)."""

    def __init__(self, columns: Mapping[str, Any]) -> None:
        self.columns = dict(columns)
        self.names = tuple(self.columns)
        self.size = len(next(iter(self.columns.values()))) if self.columns else 0

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.size))]
        if not -self.size <= index < self.size:
            raise IndexError("row index out of range")
        return {name: column[index].item() for name, column in self.columns.items()}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for block in self.chunks():
            yield from (
                dict(zip(self.names, values, strict=True)) for values in zip(*block, strict=True)
            )

    def chunks(self, size: int = CHUNK) -> Iterator[list[list[Any]]]:
        """The columns ``size`` rows at a time, as lists of Python values (one list per key)."""
        for start in range(0, self.size, size):
            yield [column[start : start + size].tolist() for column in self.columns.values()]

    def front(self, x: str, y: str, x_max: bool, y_max: bool) -> list[dict[str, Any]]:
        """The rows :func:`lightcost.analysis.sweep.pareto` keeps, found on the columns.

        Sorted by (x, y) with each axis's sign, stable (numpy's lexsort), then every row
        whose y beats all rows before it; the same rows in the same order as ``pareto``.
        """
        import numpy as np

        if not self.size:
            return []
        xs = -self.columns[x] if x_max else self.columns[x]
        ys = -self.columns[y] if y_max else self.columns[y]
        order = np.lexsort((ys, xs))
        ranked = ys[order]
        best_before = np.minimum.accumulate(ranked)[:-1]
        keep = np.concatenate(([True], ranked[1:] < best_before))
        return [self[int(i)] for i in order[keep]]


class RowsBuilder:
    """Fills columns for at most ``capacity`` rows, block by block, then sorts them into Rows.

    Each column is allocated once, at its first block (with that block's dtype; a
    later float block turns an int column into floats), so no block outlives its
    copy. Rows are ordered by the position of their width (``position``), then by
    resolution; equal keys keep the order they were added in.
    """

    def __init__(self, names: Sequence[str], position: Mapping[float, int], capacity: int) -> None:
        import numpy as np

        self.names = tuple(names)
        self.position = position
        self.columns: dict[str, Any] = {}
        self.places = np.empty(capacity, dtype=np.int32)  # the position of each row's width
        self.filled = 0

    def add(self, block: Mapping[str, Any]) -> None:
        """A block: one array (or list) per name, all of one length."""
        import numpy as np

        start = self.filled
        for name in self.names:
            values = np.asarray(block[name]).reshape(-1)
            column = self.columns.get(name)
            dtype = values.dtype if column is None else np.result_type(column, values)
            if column is None or dtype != column.dtype:
                grown = np.empty(len(self.places), dtype)  # pages untouched take no memory
                if column is not None:
                    grown[:start] = column[:start]
                self.columns[name] = column = grown
            column[start : start + len(values)] = values
        widths, inverse = np.unique(np.asarray(block["width"]).reshape(-1), return_inverse=True)
        places = np.asarray([self.position[w] for w in widths.tolist()], dtype=np.int32)
        self.places[start : start + len(inverse)] = places[inverse]
        self.filled += len(inverse)

    def build(self) -> Rows:
        """Every row added, in order."""
        import numpy as np

        if not self.filled:
            return Rows({name: np.zeros(0) for name in self.names})
        size = self.filled
        columns = {name: self.columns[name][:size] for name in self.names}
        order = np.lexsort((columns["resolution"], self.places[:size]))
        self.columns, self.places = {}, self.places[:0]
        if np.any(order[1:] < order[:-1]):  # added out of order: permute, a column at a time
            for name in self.names:
                columns[name] = columns[name][order]
        return Rows(columns)
