"""Per-epoch training history, written as CSV: one row per epoch, one column per metric."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence

from studio.core.atomic import atomic_write_text

_ORDER = ("loss", "accuracy")


def metric_columns(rows: Sequence[Mapping[str, float]]) -> list[str]:
    """Training metrics first (loss, accuracy, others), then their validation twins."""
    names: set[str] = set()
    for row in rows:
        names.update(row)
    train = sorted((n for n in names if not n.startswith("val_")), key=_rank)
    val = sorted((n for n in names if n.startswith("val_")), key=lambda n: _rank(n[4:]))
    return train + val


def _rank(name: str) -> tuple[int, str]:
    return (_ORDER.index(name) if name in _ORDER else len(_ORDER), name)


def history_csv(rows: Sequence[Mapping[str, float]]) -> str:
    columns = metric_columns(rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["epoch", *columns])
    for epoch, row in enumerate(rows, start=1):
        writer.writerow([epoch, *(_cell(row.get(c)) for c in columns)])
    return out.getvalue()


def _cell(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def write_history_csv(path: str | os.PathLike[str], rows: Sequence[Mapping[str, float]]) -> None:
    atomic_write_text(path, history_csv(rows))
