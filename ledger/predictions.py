"""Prediction files: one YAML file per analysis, reviewed by a person, then logged.

A prediction file has a ``source`` mapping and a ``predictions`` list (see
:class:`ledger.models.PredictionFile`). :func:`read_file` validates it and
remembers the line of each entry, so every message can say which entry, on
which line, and which field. :func:`log_file` logs the whole file in one
transaction: one bad entry and nothing is logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ledger.errors import LedgerError
from ledger.format import first_error
from ledger.models import Forecast, PredictionEntry, PredictionFile, Question, default_forecaster
from ledger.store import Store


@dataclass(frozen=True)
class LoadedFile:
    """A validated prediction file and the line on which each entry starts."""

    path: Path
    file: PredictionFile
    lines: list[int]

    def where(self, index: int) -> str:
        return f"{self.path}:{self.lines[index]}: entry {index + 1}"


def _entry_lines(text: str) -> list[int]:
    """1-based line of each item of the top-level ``predictions`` sequence."""
    import yaml

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "predictions" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def read_file(path: Path | str) -> LoadedFile:
    """Parse and validate a prediction file; errors name the file, line, entry and field."""
    import yaml
    from pydantic import ValidationError

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise LedgerError(f"cannot read {path}: {error.strerror}") from None
    try:
        data = yaml.safe_load(text)
        lines = _entry_lines(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise LedgerError(f"{where}: not valid YAML ({getattr(error, 'problem', error)})") from None
    if not isinstance(data, dict):
        raise LedgerError(f"{path}: a prediction file is a mapping with `source` and `predictions`")
    try:
        file = PredictionFile.model_validate(data)
    except ValidationError as error:
        loc, message = first_error(error)
        if len(loc) >= 2 and loc[0] == "predictions" and isinstance(loc[1], int) and loc[1] < len(lines):
            field = ".".join(str(part) for part in loc[2:]) or "entry"
            raise LedgerError(f"{path}:{lines[loc[1]]}: entry {loc[1] + 1}: {field}: {message}") from None
        raise LedgerError(f"{path}: {'.'.join(str(part) for part in loc)}: {message}") from None
    return LoadedFile(path=path, file=file, lines=lines)


def entry_records(file: PredictionFile, entry: PredictionEntry) -> tuple[Question, Forecast]:
    """The question and first forecast an entry logs; ``made_at`` defaults to the publication date."""
    made_at = entry.made_at
    if made_at is None and file.source is not None and file.source.published is not None:
        published = file.source.published
        made_at = datetime(published.year, published.month, published.day)
    question = Question(
        statement=entry.statement,
        criteria=entry.criteria,
        resolve_by=entry.resolve_by,
        options=entry.options,
        tags=entry.tags,
        source=file.source,
        quote=entry.quote,
    )
    forecast = Forecast(
        forecaster=entry.forecaster or file.forecaster or default_forecaster(),
        probability=entry.probability,
        probabilities=entry.probabilities,
        made_at=made_at,
    )
    return question, forecast


def log_file(store: Store, file: PredictionFile, *, lines: list[int] | None = None, name: str = "file") -> list[str]:
    """Log every entry of a prediction file atomically; return the new question ids.

    Entries still marked ``draft``, or lacking criteria or a resolve-by date,
    are refused all together, each named, before anything is written.
    """
    problems = []
    for index, entry in enumerate(file.predictions):
        if missing := entry.missing():
            line = f" (line {lines[index]})" if lines and index < len(lines) else ""
            problems.append(f"entry {index + 1}{line}: {', '.join(missing)}")
    if problems:
        raise LedgerError(f"{name}: nothing logged; " + "; ".join(problems))
    with store.write(f"add --file {name}") as writer:
        return [writer.add_question(*entry_records(file, entry)) for entry in file.predictions]
