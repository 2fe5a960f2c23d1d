"""The draft prediction file ``ledger extract`` writes, for a person to review.

Every entry is ``draft: true`` with a *proposed* ``resolve_by`` (read from the
text's time expressions, or the default horizon, flagged in
``extraction.resolve_by_basis``) and *drafted* ``criteria``: extraction can
propose when and how a claim resolves but cannot know, so ``ledger add
--file`` refuses an entry until a person has reviewed it and removed the
mark. Entries come most confident first; one whose statement still points
at something it does not name says so in ``extraction.needs_context``. The YAML is written the
same way every time (fixed key order, no timestamps, one value per line) so
re-running extraction gives the same file and a review shows as a clean diff.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache

from ledger.extract import Candidate

HEADER = """\
# DRAFT predictions found by `ledger extract`{origin}.
# Review every entry before logging it:
#   - keep only real forecasts; delete the rest;
#   - rewrite `statement` so that someone else could resolve it;
#   - check `probability` (it is for the statement as written; see `extraction`);
#   - check the proposed `resolve_by` (see `extraction.resolve_by_basis`) and edit the drafted `criteria`;
#   - entries with `extraction.needs_context` refer to something the statement does not name: name it;
#   - then remove `draft: true`.
# Log the file with: ledger add --file {path}
"""


def entry(candidate: Candidate, *, draft: bool = True, resolve_by=None, criteria: str | None = None) -> dict:
    """One prediction entry in file order: statement, numbers, proposals, quote, provenance.
    ``resolve_by`` and ``criteria`` given by a reviewer replace the proposals."""
    when = resolve_by or candidate.resolve_by
    return {
        "statement": candidate.statement,
        "probability": candidate.probability,
        "resolve_by": when.isoformat() if when else None,
        "criteria": criteria or candidate.criteria,
        "quote": candidate.quote,
        "draft": draft,
        "extraction": {
            "cue": candidate.cue,
            "lexicon_source": candidate.lexicon_source,
            "probability_range": list(candidate.probability_range),
            "polarity": candidate.polarity,
            "conditional": candidate.conditional,
            "condition": candidate.condition,
            "confidence": candidate.confidence,
            "resolve_by_basis": candidate.resolve_by_basis if resolve_by is None else "set by the reviewer",
            "needs_context": candidate.needs_context,
        },
    }


def prediction_file(entries: Iterable[dict], source: Mapping[str, str | None]):
    """Validate the entries as a :class:`~ledger.models.PredictionFile`; return the data to write."""
    from ledger.models import PredictionFile

    data = {"source": {key: value for key, value in source.items() if value}, "predictions": list(entries)}
    if not data["source"]:
        del data["source"]
    PredictionFile.model_validate(data)  # what we write must load back
    return data


@lru_cache(maxsize=1)
def _dumper():
    """A SafeDumper that indents lists under their key and writes number lists inline: ``[0.55, 0.8]``."""
    import yaml

    class Dumper(yaml.SafeDumper):
        def increase_indent(self, flow=False, indentless=False):
            return super().increase_indent(flow, False)  # "  - item" under its key, as people write it

    def represent_list(dumper, items):
        inline = all(isinstance(item, int | float) for item in items)
        return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=inline)

    Dumper.add_representer(list, represent_list)
    return Dumper


def to_yaml(data: dict, *, origin: str | None = None, path: str = "predictions/NAME.yaml") -> str:
    """The file's text: the review header, then the data in a stable, diff-friendly layout."""
    import yaml

    body = yaml.dump(data, Dumper=_dumper(), sort_keys=False, allow_unicode=True,
                     width=10_000, default_flow_style=False, indent=2)
    return HEADER.format(origin=f" in {origin}" if origin else "", path=path) + body
