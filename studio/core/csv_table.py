"""Reading a user's own CSV file into numbers a model can train on.

CSV files come from spreadsheets in many dialects (commas or semicolons, a BOM, CRLF, with or
without a header, "NA" for a blank), so this module guesses the dialect, and when the file
cannot be used it says which row or column to fix. Pure Python, so it runs without numpy.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, get_args

from studio.core.dataset_catalog import Task
from studio.core.errors import DatasetError

ColumnKind = Literal["numeric", "categorical"]
MissingPolicy = Literal["drop", "fill"]
TaskChoice = Literal["auto", "classification", "regression"]

DELIMITERS = ",;\t|"
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "'|'"}
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "?"})
MAX_CATEGORIES = 100  # more distinct texts than this is an ID or free text, not a category
MAX_GUESSED_CLASSES = 20
SAMPLE_CHARS = 32_000
_HEADER_PROBE_ROWS = 1000


@dataclass(frozen=True)
class ColumnInfo:
    """What the import dialog shows about a column so the user can pick target and features."""

    name: str
    kind: ColumnKind
    missing: int
    distinct: int
    examples: tuple[str, ...]


@dataclass(frozen=True)
class CsvTable:
    """A CSV file as text cells; ``None`` marks a missing value."""

    path: Path
    delimiter: str
    has_header: bool
    columns: tuple[str, ...]
    rows: tuple[tuple[str | None, ...], ...]

    @cached_property
    def columns_info(self) -> tuple[ColumnInfo, ...]:
        return tuple(_describe(name, [row[i] for row in self.rows])
                     for i, name in enumerate(self.columns))

    def column_info(self, column: int | str) -> ColumnInfo:
        index = column if isinstance(column, int) else self.column_index(column)
        return self.columns_info[index]

    def column_index(self, name: str) -> int:
        try:
            return self.columns.index(name)
        except ValueError:
            raise DatasetError(
                f"{self.path.name} has no column {name!r}; its columns are: "
                f"{', '.join(self.columns)}."
            ) from None


@dataclass(frozen=True)
class CsvImportSettings:
    """The choices saved with a project that turn a CSV file into training data.

    ``features=None`` means every column but the target; ``None`` delimiter or header means
    detect it. ``missing="fill"`` fills feature gaps with the column mean (numbers) or most
    frequent value (text); a row without a target is always left out.
    """

    target: str
    features: tuple[str, ...] | None = None
    missing: MissingPolicy = "drop"
    task: TaskChoice = "auto"
    delimiter: str | None = None
    header: bool | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.target, str) or not self.target:
            raise DatasetError(f"CSV import: 'target' must be a column name; got {self.target!r}.")
        features = self.features
        if features is not None and (not isinstance(features, tuple) or not features
                                     or not all(isinstance(f, str) and f for f in features)):
            raise DatasetError("CSV import: 'features' must be a non-empty list of column names, "
                               f"or null for every column but the target; got {features!r}.")
        twice = [name for name, count in Counter(features or ()).items() if count > 1]
        if twice:
            raise DatasetError(f"CSV import: feature {twice[0]!r} is listed twice.")
        if self.target in (features or ()):
            raise DatasetError(f"CSV import: {self.target!r} is the target, so it cannot also "
                               "be a feature; remove it from the features.")
        _check_choice("missing", self.missing, get_args(MissingPolicy))
        _check_choice("task", self.task, get_args(TaskChoice))
        delimiter = self.delimiter
        if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1
                                      or delimiter in "\"\r\n"):
            raise DatasetError("CSV import: 'delimiter' must be one character such as ',' or ';', "
                               f"or null to detect it; got {delimiter!r}.")
        if self.header is not None and not isinstance(self.header, bool):
            raise DatasetError(f"CSV import: 'header' must be true, false or null; "
                               f"got {self.header!r}.")

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target,
                "features": None if self.features is None else list(self.features),
                "missing": self.missing, "task": self.task,
                "delimiter": self.delimiter, "header": self.header}

    @classmethod
    def from_dict(cls, data: object) -> CsvImportSettings:
        if not isinstance(data, Mapping):
            raise DatasetError("CSV import settings must be an object such as "
                               "{\"target\": \"species\"}.")
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise DatasetError(f"CSV import: unknown setting {unknown[0]!r}.")
        if "target" not in data:
            raise DatasetError("CSV import: 'target' is missing; name the column to predict.")
        values = dict(data)
        if isinstance(values.get("features"), list):
            values["features"] = tuple(values["features"])
        return cls(**values)


@dataclass(frozen=True)
class EncodedTable:
    """Rows as plain float lists, one-hot encoded and without gaps, ready for numpy."""

    x: list[list[float]]
    y: list[int] | list[float]
    feature_names: tuple[str, ...]
    target: str
    task: Task
    class_names: tuple[str, ...]
    dropped_rows: int

    @property
    def summary(self) -> str:
        what = (f"{len(self.class_names)} classes" if self.task == "classification"
                else "a number")
        text = (f"{len(self.x)} rows, {len(self.feature_names)} input values, predicting "
                f"{self.target!r} ({what})")
        if self.dropped_rows:
            text += f"; {self.dropped_rows} rows with missing values left out"
        return text + "."


def read_csv_table(path: Path, *, delimiter: str | None = None, header: bool | None = None,
                   max_rows: int | None = None) -> CsvTable:
    """Read ``path``; ``None`` delimiter or header is detected, ``max_rows`` caps data rows."""
    limit = None if max_rows is None else max_rows + 1
    delimiter, records = _read_records(path, delimiter, limit)
    if header is None:
        header = _looks_like_header(records[0], records[1:_HEADER_PROBE_ROWS])
    data = records[1:] if header else records
    return CsvTable(
        path=path, delimiter=delimiter, has_header=header,
        columns=_column_names(records[0] if header else None, len(records[0])),
        rows=tuple(tuple(_cell(text, delimiter) for text in row) for row in data[:max_rows]),
    )


def import_csv(path: Path, settings: CsvImportSettings) -> EncodedTable:
    """Read and encode ``path`` as ``settings`` say: the whole job of a saved CSV dataset."""
    table = read_csv_table(path, delimiter=settings.delimiter, header=settings.header)
    return encode_table(table, settings)


def infer_task(table: CsvTable, target: str) -> Task:
    """Text, or a few whole numbers repeated often, are classes; other numbers are quantities."""
    info = table.column_info(target)
    if info.kind == "categorical":
        return "classification"
    index = table.column_index(target)
    present = [value for row in table.rows if (value := row[index]) is not None]
    whole = all(float(value).is_integer() for value in set(present))
    if whole and info.distinct <= MAX_GUESSED_CLASSES and info.distinct * 2 < len(present):
        return "classification"
    return "regression"


def encode_table(table: CsvTable, settings: CsvImportSettings) -> EncodedTable:
    """Turn text cells into feature vectors and labels; no normalisation (that needs the split)."""
    name = table.path.name
    target = table.column_index(settings.target)
    names = settings.features or tuple(c for c in table.columns if c != settings.target)
    if not names:
        raise DatasetError(f"{name} has only the target column {settings.target!r}; "
                           "a model needs at least one other column to learn from.")
    features = [table.column_index(feature) for feature in names]
    task = infer_task(table, settings.target) if settings.task == "auto" else settings.task
    info = table.column_info(target)
    if task == "regression" and info.kind != "numeric":
        text = next(v for row in table.rows if (v := row[target]) and _number(v) is None)
        raise DatasetError(
            f"Target column {info.name!r} in {name} holds text such as {text!r}, so it cannot "
            "be predicted as a number; choose the task 'classification'."
        )
    for index in features:
        feature = table.column_info(index)
        if feature.kind == "categorical" and feature.distinct > MAX_CATEGORIES:
            raise DatasetError(
                f"Column {feature.name!r} in {name} has {feature.distinct} different texts; it "
                "is probably an ID or free text, so leave it out of the features."
            )
    rows = [row for row in table.rows if row[target] is not None
            and (settings.missing == "fill" or all(row[i] is not None for i in features))]
    dropped = len(table.rows) - len(rows)
    if not rows:
        raise DatasetError(
            f"No rows left in {name}: all {dropped} rows miss a value in the target or a "
            "feature; choose missing values 'fill', or leave out mostly empty columns."
        )
    parts = [_encode_feature(table.column_info(i), [row[i] for row in rows], name)
             for i in features]
    feature_names = tuple(column for names_, _ in parts for column in names_)
    columns = [column for _, part in parts for column in part]
    x = [list(values) for values in zip(*columns, strict=True)]
    labels = [row[target] or "" for row in rows]
    if task == "regression":
        return EncodedTable(x, [float(label) for label in labels], feature_names, info.name,
                            task, (), dropped)
    classes = tuple(sorted(set(labels), key=_order))
    if len(classes) < 2:
        raise DatasetError(f"Target column {info.name!r} in {name} has only the value "
                           f"{classes[0]!r}; a classifier needs at least two classes.")
    slot = {label: i for i, label in enumerate(classes)}
    return EncodedTable(x, [slot[label] for label in labels], feature_names, info.name, task,
                        classes, dropped)


def _encode_feature(info: ColumnInfo, values: list[str | None],
                    file: str) -> tuple[list[str], list[list[float]]]:
    """One feature as ``(names, columns)``; gaps get the mean or the most frequent value."""
    present = [value for value in values if value is not None]
    if not present:
        raise DatasetError(f"Column {info.name!r} in {file} has no values in the rows used; "
                           "leave it out of the features.")
    if info.kind == "numeric":
        mean = math.fsum(float(value) for value in present) / len(present)
        return [info.name], [[mean if value is None else float(value) for value in values]]
    counts = Counter(present)
    mode = min(counts, key=lambda value: (-counts[value], _order(value)))  # ties: first sorted
    categories = sorted(counts, key=_order)
    filled = [mode if value is None else value for value in values]
    return ([f"{info.name}={category}" for category in categories],
            [[1.0 if value == category else 0.0 for value in filled] for category in categories])


def _read_records(path: Path, delimiter: str | None,
                  limit: int | None) -> tuple[str, list[list[str]]]:
    """Non-blank records with stripped cells, all as wide as the first one."""
    records: list[list[str]] = []
    number = 0
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            sample = file.read(SAMPLE_CHARS)
            delimiter = delimiter or _detect_delimiter(sample)
            file.seek(0)
            for number, raw in enumerate(csv.reader(file, delimiter=delimiter), start=1):
                cells = [cell.strip() for cell in raw]
                if not any(cells):
                    continue
                if records and len(cells) != len(records[0]):
                    found, plural = len(cells), "s" * (len(cells) != 1)
                    raise DatasetError(
                        f"{path.name} row {number} has {found} value{plural} but the first row "
                        f"has {len(records[0])}; check that row for a missing or extra "
                        f"{_DELIMITER_NAMES.get(delimiter, repr(delimiter))}."
                    )
                records.append(cells)
                if limit is not None and len(records) >= limit:
                    break
    except UnicodeDecodeError:
        raise DatasetError(
            f"{path.name} is not UTF-8 text; save it from your spreadsheet as 'CSV UTF-8' "
            "and import it again."
        ) from None
    except csv.Error as error:
        raise DatasetError(f"{path.name} row {number + 1} cannot be read ({error}); check it "
                           "for a quote (\") that is never closed.") from None
    except OSError as error:
        raise DatasetError(f"Cannot read {path}: {error.strerror or error}.") from None
    if not records:
        raise DatasetError(f"{path.name} is empty; choose a CSV file that contains a table.")
    return delimiter, records


def _detect_delimiter(sample: str) -> str:
    """Trust ``csv.Sniffer`` only when its answer splits lines as evenly as the best candidate."""
    if len(sample) == SAMPLE_CHARS and "\n" in sample:
        sample = sample[:sample.rindex("\n")]  # drop the cut-off last line
    scores = {candidate: _split_score(sample, candidate) for candidate in DELIMITERS}
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = ""
    if sniffed in scores and scores[sniffed] == max(scores.values()):
        return sniffed
    return max(DELIMITERS, key=lambda candidate: scores[candidate])


def _split_score(sample: str, delimiter: str) -> tuple[float, int]:
    """``(share of lines with the usual field count, that count)``; 0 when nothing splits."""
    try:
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
        widths = [len(row) for row in reader if any(cell.strip() for cell in row)][:50]
    except csv.Error:
        return 0.0, 0
    if not widths:
        return 0.0, 0
    usual, count = Counter(widths).most_common(1)[0]
    return (count / len(widths), usual) if usual > 1 else (0.0, usual)


def _looks_like_header(first: list[str], data: list[list[str]]) -> bool:
    """Names sit above numbers, or are distinct texts that never recur as values below."""
    cells = [_cell(text) for text in first]
    for i, cell in enumerate(cells):
        below = [value for row in data if (value := _cell(row[i])) is not None]
        if cell is not None and _number(cell) is None and below and all(
                _number(value) is not None for value in below):
            return True
    if any(cell is None or _number(cell) is not None for cell in cells):
        return False
    return len(set(cells)) == len(cells) and not any(
        row[i] == cell for row in data for i, cell in enumerate(cells))


def _column_names(first: Sequence[str] | None, width: int) -> tuple[str, ...]:
    names: list[str] = []
    for i in range(width):
        base = (first[i] if first else "") or f"column_{i + 1}"
        name, count = base, 2
        while name in names:
            name, count = f"{base}_{count}", count + 1
        names.append(name)
    return tuple(names)


def _describe(name: str, values: list[str | None]) -> ColumnInfo:
    present = [value for value in values if value is not None]
    distinct = list(dict.fromkeys(present))
    kind: ColumnKind = ("numeric" if all(_number(value) is not None for value in distinct)
                        else "categorical")
    return ColumnInfo(name, kind, len(values) - len(present), len(distinct), tuple(distinct[:5]))


_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")


def _cell(text: str, delimiter: str = ",") -> str | None:
    """The cell's text, or None when missing. In files not separated by commas, a number
    written with a decimal comma (4,5 from a European spreadsheet) becomes 4.5."""
    text = text.strip()
    if text.lower() in MISSING_TOKENS:
        return None
    if delimiter != "," and _DECIMAL_COMMA.fullmatch(text):
        return text.replace(",", ".")
    return text


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _order(value: str) -> tuple[int, float, str]:
    """Numbers first and by value ("2" before "10"), then texts alphabetically."""
    number = _number(value)
    return (0, number, value) if number is not None else (1, 0.0, value)


def _check_choice(key: str, value: object, choices: tuple[object, ...]) -> None:
    if value not in choices:
        shown = ", ".join(repr(choice) for choice in choices)
        raise DatasetError(f"CSV import: {key!r} must be one of {shown}; got {value!r}.")
