"""Prediction files: one YAML file per analysis, reviewed by a person, then logged.

A prediction file has a ``source`` mapping and a ``predictions`` list (see
:class:`ledger.models.PredictionFile`). :func:`read_file` validates it and
remembers the line of each entry, so every message can say which entry, on
which line, and which field. :func:`log_file` logs the whole file in one
transaction: one bad entry and nothing is logged.

The YAML is read strictly, because a person reviews the file and the ledger
must log what they saw: a key given twice is refused (YAML would keep the
last silently), aliases are refused (``*a`` repeated 5,000 times would log
5,000 entries from a few kilobytes), dates are read by :mod:`ledger.parse`
(so ``2027-02-30`` is a clear error), and the file is bounded in size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ledger.errors import LedgerError
from ledger.format import first_error
from ledger.models import Forecast, PredictionEntry, PredictionFile, Question, default_forecaster
from ledger.store import Store

__all__ = ["MAX_FILE_BYTES", "LoadedFile", "entry_records", "log_file", "read_file"]

MAX_FILE_BYTES = 2_000_000  # a prediction file is one analysis, reviewed by a person

@dataclass(frozen=True)
class LoadedFile:
    """A validated prediction file and the line on which each entry starts."""

    path: Path
    file: PredictionFile
    lines: list[int]

    def where(self, index: int) -> str:
        return f"{self.path}:{self.lines[index]}: entry {index + 1}"


def _strict_loader():
    """A SafeLoader that refuses duplicate keys and aliases, and leaves dates as text."""
    import yaml

    class StrictLoader(yaml.SafeLoader):
        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                raise yaml.composer.ComposerError(
                    None, None, "aliases (*name) are not allowed in a prediction file: write each entry out",
                    self.peek_event().start_mark)
            return super().compose_node(parent, index)

        def construct_mapping(self, node, deep=False):
            seen: dict = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                if isinstance(key, str | int | float | bool) and key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key {key!r} is given twice (first on line {seen[key]})", key_node.start_mark)
                seen[key] = key_node.start_mark.line + 1
            return super().construct_mapping(node, deep=deep)

    # Dates stay text for ledger.parse, which says what is wrong with 2027-02-30.
    StrictLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return StrictLoader


def _entry_lines(root) -> list[int]:
    """1-based line of each item of the top-level ``predictions`` sequence."""
    import yaml

    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "predictions" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _read_text(path: Path, max_bytes: int) -> str:
    """The file as UTF-8 text, refused beyond ``max_bytes`` (read no further than that)."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as error:
        raise LedgerError(f"cannot read {path}: {error.strerror}") from None
    if len(raw) > max_bytes:
        raise LedgerError(f"{path} is larger than {max_bytes:,} bytes; if it really is one analysis, "
                          "raise the limit with --max-size")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise LedgerError(f"{path}:{line}: not UTF-8 text (byte 0x{raw[error.start]:02x}); "
                          "save the file as UTF-8") from None


def read_file(path: Path | str, *, max_bytes: int = MAX_FILE_BYTES) -> LoadedFile:
    """Parse and validate a prediction file; errors name the file, line, entry and field."""
    import yaml
    from pydantic import ValidationError

    path = Path(path)
    text = _read_text(path, max_bytes)
    loader = _strict_loader()(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
        lines = _entry_lines(root)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise LedgerError(f"{where}: not valid YAML ({getattr(error, 'problem', error)})") from None
    finally:
        loader.dispose()
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
