"""Published records: what lets a reader check a dashboard without the author's database.

:func:`publish` writes, beside a report's ``index.html``:

- ``records/records-NNNN.jsonl``: every record of the ledger in ``seq``
  order, one JSON object a line: ``table``, ``seq``, ``commit_id``, ``hash``
  and, for records in the report's selection, ``text``, the exact canonical
  text its hash covers (:mod:`ledger.chain`). Records outside the
  selection (another forecaster's, say) carry their hash only: the chain
  still recomputes, and nothing private is published.
- ``records/manifest.json``: the commits (every field a head covers), the
  chain head, the selection the page scored and its headline figures, the
  record files, and, on a forecaster's page, ``openings``: per scored question, the moment its
  time-averaged window opened (``"YYYY-MM-DD HH:MM:SS[.ffffff]"``, UTC). A
  forecaster's page needs it: a window opens at anyone's first forecast,
  which may be another forecaster's, whose text the page leaves out. It is
  not covered by a hash; a checker takes the earlier of it and what the
  published texts show (so it can only move an opening earlier, to a
  forecast whose text is not published).
- ``heads.json``: every head this folder has ever published, with the
  time; each publish appends one entry and never rewrites an earlier one.

:func:`verify_site` is the checker (``ledger verify SITE_DIR``): it
recomputes every published hash and commit head with the Python reference
of :mod:`ledger.chain`, checks the page's head and every earlier head, and
rescores the published records with :mod:`ledger.scoring` to compare the
page's headline figures. ``report/verify.js`` does the same in the reader's
browser.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from bisect import bisect_left
from datetime import UTC, datetime
from itertools import groupby
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

from ledger import chain
from ledger.errors import LedgerError, NotFound, Tampered

__all__ = ["HEADLINE", "RECORDS_PER_FILE", "head_in_chain", "publish", "verify_site"]

RECORDS_PER_FILE = 50_000  # files a static host serves quickly and a browser parses without strain
HEADLINE = ("n_scored", "brier", "log_loss", "n_backfilled")  # what the page claims and a reader recomputes
FORMAT = 1


def headline(score: dict[str, Any]) -> dict[str, Any]:
    """The figures a page claims, from a :class:`ledger.scoring.Scores` result."""
    return {name: getattr(score, name) for name in HEADLINE}


def publish(store, folder, selection, score) -> dict[str, Any]:
    """Write the published records, the manifest and one more ``heads.json`` entry into the
    report's :class:`ledger.report.folder.ReportFolder` (atomically, as files the report owns)."""
    heads = _read_heads(folder.path / "heads.json")
    records_dir = folder.path / "records"
    from ledger.report.folder import code_digest  # here: `ledger verify SITE` imports this module, not the report

    scope = {"tag": selection.tag, "forecaster": selection.forecaster}
    chunks = store.published_chunks(**scope, size=RECORDS_PER_FILE)
    files = [f"records/records-{n:04d}.jsonl" for n in range(1, len(chunks) + 1)]
    keys = [f"{code_digest()} {digest}" for digest, _, _ in chunks]
    # A file is made again only when its records changed (most of a republish's records are the same),
    # and the records of all that did are read in one pass, split into their files by seq.
    changed = [i for i, (name, key) in enumerate(zip(files, keys)) if not folder.unchanged(name, key)]
    if changed:
        lasts = [chunks[i][2] for i in changed]
        rows = store.published_records(**scope, size=RECORDS_PER_FILE, seqs=[chunks[i][1:] for i in changed])
        for at, part in groupby(rows, key=lambda row: bisect_left(lasts, row[1])):
            text = "".join(_record_line(*row) for row in part)
            folder.write_keyed(files[changed[at]], keys[changed[at]], lambda text=text: text)
    if not files:  # one file even for an empty ledger
        files.append("records/records-0001.jsonl")
        folder.write(files[-1], "")
    for stale in records_dir.glob("records-*.jsonl"):  # ours, from a larger earlier publish
        if f"records/{stale.name}" not in files and f"records/{stale.name}" in folder.owned:
            stale.unlink()
    commits = [{**c, "committed_at": c["committed_at"].strftime("%Y-%m-%dT%H:%M:%S.%f")} for c in store.commits()]
    n_records, head = store.head()
    manifest = {
        "format": FORMAT,
        "head": head,
        "records": n_records,
        "selection": {"policy": selection.policy, "forecaster": selection.forecaster, "tag": selection.tag,
                      "exclude_backfilled": selection.exclude_backfilled},
        "headline": headline(score),
        "commits": commits,
        "files": files,
        "openings": _openings(store, selection),
    }
    folder.write("records/manifest.json", json.dumps(manifest, indent=1))
    heads.append({"head": head, "records": n_records, "published_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")})
    folder.write("heads.json", json.dumps(heads, indent=1) + "\n", durable=True)  # history: the ledger cannot rewrite it
    return manifest


def _record_line(table: str, seq: int, commit_id: int, digest: str, text: str | None) -> str:
    """One line of a records file, as ``json.dumps`` of the record would write it (the text escaped by
    its own string encoder: one ``json.dumps`` a record was most of a publish's time)."""
    shown = "" if text is None else f',"text":{encode_basestring(text)}'
    return f'{{"table":"{table}","seq":{seq},"commit_id":{commit_id},"hash":"{digest}"{shown}}}\n'


def _openings(store, selection) -> dict[str, str]:
    """Only a forecaster's page needs them: any other selection publishes every forecast on its questions,
    from which the openings follow (so no second scoring pass is spent on them)."""
    from ledger.scoring import Scored

    if selection.forecaster is None:
        return {}
    with Scored(store, selection) as scored:
        return {question: str(at) for question, at in scored.opening_times().items()}


def _read_heads(path: Path) -> list[dict[str, Any]]:
    """The heads published so far; a file that is not ours is refused, never overwritten."""
    if not path.exists():
        return []
    try:
        heads = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(heads, list) or not all(isinstance(h, dict) and "head" in h for h in heads):
            raise ValueError
    except (ValueError, UnicodeDecodeError):
        raise LedgerError(f"{path} is not a list of published heads; move it away before publishing here") from None
    return heads


# -- the checker ---------------------------------------------------------------


def _load(site: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    manifest_path = site / "records" / "manifest.json"
    if not manifest_path.exists():
        raise NotFound(f"{site} has no records/manifest.json: not a published ledger site")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        records = [json.loads(line) for name in manifest["files"]
                   for line in (site / name).read_text(encoding="utf-8").splitlines() if line]
    except (OSError, ValueError, KeyError) as error:
        raise Tampered(f"{site}: the published records cannot be read ({error})") from None
    return manifest, records


def _check_chain(manifest: dict[str, Any], records: list[dict[str, Any]]) -> list[str]:
    """Recompute every published record hash and commit head; return the heads in chain order."""
    by_commit: dict[int, list[dict[str, Any]]] = {}
    for record in records:
        by_commit.setdefault(record["commit_id"], []).append(record)
    prev, heads = chain.GENESIS, []
    for position, commit in enumerate(manifest["commits"], start=1):
        if commit["id"] != position or commit["prev_head"] != prev:
            raise Tampered(f"commit {commit['id']}: it does not link to the head of the commit before it")
        mine = by_commit.pop(commit["id"], [])
        if len(mine) != commit["n_records"]:
            raise Tampered(f"commit {commit['id']}: it wrote {commit['n_records']} records, {len(mine)} are published")
        for record in mine:
            text = record.get("text")
            if text is None:
                continue
            fields = json.loads(text)
            if (fields.get("seq"), fields.get("commit_id")) != (record["seq"], record["commit_id"]) \
                    or hashlib.sha256((prev + text).encode()).hexdigest() != record["hash"]:
                raise Tampered(f"{record['table'].removesuffix('_records')} record {record['seq']} (commit "
                               f"{record['commit_id']}) does not match its hash: the published text was changed")
        at = datetime.strptime(commit["committed_at"], "%Y-%m-%dT%H:%M:%S.%f")
        head = chain.commit_head(prev, commit["id"], commit["command"], at, [(r["seq"], r["hash"]) for r in mine])
        if head != commit["head"]:
            raise Tampered(f"commit {commit['id']} ({commit['command']}): its head does not match its records")
        heads.append(head)
        prev = head
    if by_commit:
        raise Tampered(f"record {min(r['seq'] for rs in by_commit.values() for r in rs)} belongs to no published commit")
    return heads


def _page_claims(site: Path) -> dict[str, str]:
    """The head and headline figures the page shows, from its verification element."""
    page = site / "index.html"
    if not page.exists():
        raise NotFound(f"{site} has no index.html")
    match = re.search(r"<[^>]*\bid=\"verify\"[^>]*>", page.read_text(encoding="utf-8"))
    if not match:
        raise Tampered(f"{page} has no verification element (id=\"verify\")")
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', match.group(0)))


def _rescore(manifest: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, Any]:
    """Score the published records with the ledger's own scoring, in a throwaway in-memory ledger."""
    import duckdb

    from ledger import migrations
    from ledger.scoring import Options, Selection, score
    from ledger.store import refresh_state

    con = duckdb.connect()
    migrations.migrate(con, migrations.MIGRATIONS)
    for table, fields in chain.RECORD_FIELDS.items():
        rows = [json.loads(r["text"]) for r in records if r["table"] == table and "text" in r]
        if rows:
            casts = ", ".join(f"CAST(? AS {kind})" for _, kind in fields)
            con.executemany(f"INSERT INTO {table} SELECT {casts}, ''",
                            [[row[name] for name, _ in fields] for row in rows])
    refresh_state(con, "TRUE")  # the questions' state, which scoring reads, as these records say it
    sel = manifest["selection"]
    openings = list(manifest.get("openings", {}).items())
    if sel["forecaster"] is not None and openings:
        # A stand-in forecast by no one in the selection at each published opening: scoring opens the window
        # at the earlier of it and the published forecasts, as the ledger did with the unpublished ones.
        con.executemany("INSERT INTO forecast_records VALUES (?, 0, ?, '', NULL, NULL, ?::TIMESTAMP, ?::TIMESTAMP, NULL, '')",
                        [(-n, question, at, at) for n, (question, at) in enumerate(openings, 1)])
    result = score(con, Selection(policy=sel["policy"], forecaster=sel["forecaster"], tag=sel["tag"],
                                  exclude_backfilled=sel["exclude_backfilled"]), Options(n_resamples=0))
    con.close()
    return headline(result)


def _same(claimed: str, value: Any) -> bool:
    if value is None:
        return claimed in ("", "None", "null")
    try:
        return math.isclose(float(claimed), float(value), rel_tol=1e-9, abs_tol=1e-12)
    except ValueError:
        return False


def verify_site(site: Path | str, head: str | None = None) -> dict[str, Any]:
    """Check a published site; raise :class:`Tampered` naming the first mismatch."""
    site = Path(site)
    manifest, records = _load(site)
    heads = _check_chain(manifest, records)
    chain_head = heads[-1] if heads else chain.GENESIS
    if manifest["head"] != chain_head:
        raise Tampered(f"the manifest's head {manifest['head'][:12]}… is not the chain's head {chain_head[:12]}…")
    claims = _page_claims(site)
    if claims.get("head") != chain_head:
        raise Tampered(f"the page shows head {claims.get('head', '')[:12]}…, the published chain ends at {chain_head[:12]}…")
    known = set(heads)
    for entry in _read_heads(site / "heads.json"):
        if entry["head"] not in known and entry["head"] != chain.GENESIS:
            raise Tampered(f"heads.json: head {entry['head'][:12]}… published {entry.get('published_at')} is not a "
                           "head of this chain (the record did not only grow)")
    recomputed = _rescore(manifest, records)
    for name in HEADLINE:
        attribute = name.replace("_", "-")
        if not _same(claims.get(attribute, ""), recomputed[name]):
            raise Tampered(f"the page says {name} = {claims.get(attribute)}, the published records give {recomputed[name]}")
    if head is not None and not head_in_chain(head, heads):
        raise Tampered(f"head {head} is not a head of this chain")
    return {"ok": True, "records": len(records), "commits": len(heads), "head": chain_head, **recomputed}


def head_in_chain(head: str, heads: list[str]) -> bool:
    """Whether a saved head (a unique prefix of at least 12 hex digits will do) is one of ``heads``."""
    head = head.strip().lower()
    return len(head) >= 12 and any(h.startswith(head) for h in heads)
