"""Manifold: markets and bets JSON (the public data dump, or the API's ``/v0/markets`` and ``/v0/bets``).

Layout (manifoldmarkets/manifold ``backend/scripts/get-json-data-dump.ts``,
``common/src/contract.ts``, ``answer.ts``, ``bet.ts``): two JSON arrays.
Markets (contracts) have ``id``, ``question``, ``outcomeType`` (BINARY,
MULTIPLE_CHOICE, PSEUDO_NUMERIC, …), ``mechanism``, ``createdTime``,
``closeTime``, ``resolution``, ``resolutionTime``, ``resolutionProbability``,
``initialProbability`` (binary, dump only) and ``answers[]`` (multiple
choice). Bets have ``contractId``, ``answerId`` (multiple choice),
``createdTime``, ``probBefore``, ``probAfter``, ``amount``, ``isRedemption``
and limit-order fields. Every time is milliseconds since the epoch. Either
file may be named; the other is found beside it.

Mapping:

- **The market is the forecaster** (``manifold-market``): its forecast is its
  probability after each bet, at that bet's time, and its opening probability
  at creation when the file has it. The final price is never a forecast of
  its own. Redemptions (automatic share netting) and unfilled limit orders
  move no price and are skipped (counted).
- **Multiple choice**: each answer has its own price, so each answer becomes
  its own yes/no question ``question — answer`` (``manifold:<id>:<answer id>``),
  resolved yes for the chosen answer and no for the others (or per answer for
  markets whose answers resolve independently). Answers have no opening price
  in the file, so their first forecast is their first bet.
- **Resolution** YES/NO → yes/no; **MKT** (resolved to a probability) and
  **CANCEL** → annulled, with the MKT probability in the resolution note.
- **resolve_by**: Manifold has only a close time, which is used (and said in a
  note); a market with neither close nor resolution time is skipped.
- **Not carried over**: users' bets as forecasts of their own (a bet is a
  trade, not a probability), mana amounts, comments, numeric, poll and
  bounty markets (skipped, counted).
"""

from __future__ import annotations

from pathlib import Path

from .rows import (
    Notes, PeerFormatError, PeerImport, annulled, companion, from_epoch_ms, json_head, key, load_json, table,
    utc_date,
)

__all__ = ["NAME", "detect", "read", "FORECASTER"]

NAME = "manifold"
FORECASTER = "manifold-market"
SCORED_TYPES = ("BINARY", "MULTIPLE_CHOICE")


def detect(path: Path) -> bool:
    return _kind(path) is not None


def _kind(path: Path) -> str | None:
    """``markets`` or ``bets`` from the first objects of a JSON array."""
    head = json_head(path).lstrip()
    if not head.startswith("["):
        return None
    if '"outcomeType"' in head and '"mechanism"' in head:
        return "markets"
    if '"contractId"' in head and '"probAfter"' in head:
        return "bets"
    return None


def read(path: Path, bets: Path | str | None = None, markets: Path | str | None = None, **_options) -> PeerImport:
    """Read the markets and bets files; ``bets``/``markets`` name the other one."""
    kind = _kind(path)
    if kind == "markets":
        markets_path, bets_path = path, companion(path, bets, lambda p: _kind(p) == "bets", "bets")
    elif kind == "bets":
        markets_path, bets_path = companion(path, markets, lambda p: _kind(p) == "markets", "markets"), path
    else:
        raise PeerFormatError(f"{path.name} is not a Manifold markets or bets JSON array")
    return _read(load_json(markets_path), load_json(bets_path))


def _read(markets: list[dict], bets: list[dict]) -> PeerImport:
    notes = Notes()
    questions = {}  # (market id, answer id or None) → question columns
    for market in markets:
        for question_id, question in _questions(market, notes):
            questions[question_id] = question
    rows = []
    for market in markets:
        if (market["id"], None) in questions and market.get("initialProbability") is not None:
            rows.append({**questions[(market["id"], None)], "probability": float(market["initialProbability"]),
                         "made_at": from_epoch_ms(market["createdTime"]),
                         "note": "opening probability"})
    for bet in sorted(bets, key=lambda b: b["createdTime"]):
        question = questions.get((bet["contractId"], bet.get("answerId")))
        if bet.get("isRedemption"):
            notes.add("skipped {n} redemption{s} (they move no price)")
        elif bet.get("probAfter") == bet.get("probBefore") and not bet.get("amount"):
            notes.add("skipped {n} unfilled limit order{s}")
        elif question is None:
            notes.add("skipped {n} bet{s} on markets not imported or not in the markets file")
        else:
            rows.append({**question, "probability": float(bet["probAfter"]),
                         "made_at": from_epoch_ms(bet["createdTime"])})
    notes.add("Manifold has no resolve-by date: resolve_by is each market's close time")
    return table(rows, notes, NAME)


def _questions(market: dict, notes: Notes) -> list[tuple[tuple[str, str | None], dict]]:
    """The yes/no questions one market becomes, keyed by (market id, answer id)."""
    if market.get("outcomeType") not in SCORED_TYPES:
        notes.add("skipped {n} numeric, poll or bounty market{s}")
        return []
    closes = market.get("closeTime") or market.get("resolutionTime")
    if closes is None:
        notes.add("skipped {n} market{s} with neither close nor resolution time")
        return []
    base = {
        "statement": market["question"],
        "question_key": key(NAME, market["id"]),
        "resolve_by": utc_date(from_epoch_ms(closes)),
        "forecaster": FORECASTER,
        "source_outlet": "Manifold",
        "source_url": market.get("url") or (f"https://manifold.markets/{market['creatorUsername']}/{market['slug']}"
                                            if market.get("creatorUsername") and market.get("slug") else None),
    }
    if market["outcomeType"] == "BINARY":
        return [((market["id"], None), {**base, **_resolution(market, market.get("resolution"), notes)})]
    answers = market.get("answers") or []
    notes.add("each answer of {n} multiple-choice market{s} imported as its own yes/no question")
    return [((market["id"], answer["id"]), {
        **base,
        "statement": f"{market['question']} — {answer['text']}",
        "question_key": key(NAME, market["id"], answer["id"]),
        **_answer_resolution(market, answer, notes),
    }) for answer in answers]


def _resolution(holder: dict, resolution: str | None, notes: Notes) -> dict:
    """Outcome columns for a YES/NO/MKT/CANCEL resolution of a market or an answer."""
    resolved_at = from_epoch_ms(holder.get("resolutionTime"))
    if resolution in (None, ""):
        return {}
    if resolution in ("YES", "NO"):
        return {"outcome": resolution.lower(), "resolved_at": resolved_at}
    if resolution == "MKT":
        notes.add("{n} question{s} resolved MKT (to a probability): imported as annulled")
        p = holder.get("resolutionProbability")
        note = f"resolved MKT at {p:.0%} on Manifold" if p is not None else "resolved MKT on Manifold"
        return {**annulled(note), "resolved_at": resolved_at}
    if resolution == "CANCEL":
        notes.add("{n} question{s} cancelled on Manifold: imported as annulled")
        return {**annulled("cancelled (N/A) on Manifold"), "resolved_at": resolved_at}
    raise PeerFormatError(f"market {holder.get('contractId') or holder.get('id')}: resolution {resolution!r} "
                          "is not YES, NO, MKT, CANCEL or an answer")


def _answer_resolution(market: dict, answer: dict, notes: Notes) -> dict:
    """One answer's outcome: the chosen answer of a sums-to-one market, else the answer's own."""
    chosen = market.get("resolution")
    if market.get("shouldAnswersSumToOne") and chosen not in (None, "", "MKT", "CANCEL"):
        resolved = {"resolutionTime": market.get("resolutionTime")}
        return _resolution(resolved, "YES" if chosen == answer["id"] else "NO", notes)
    if market.get("shouldAnswersSumToOne") and chosen in ("MKT", "CANCEL"):
        weights = (market.get("resolutions") or {}).get(answer["id"])
        holder = {**market, "resolutionProbability": None if weights is None else weights / 100}
        return _resolution(holder, chosen, notes)
    return _resolution(answer, answer.get("resolution"), notes)

