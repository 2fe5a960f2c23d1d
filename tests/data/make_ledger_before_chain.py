"""How the ledger-before-chain-duckdb-*.duckdb.gz fixtures were made (kept as a record, not run by tests).

They were written by commit 8748f3b, the last code that hashed DuckDB's own
``to_json`` text of each row, once under DuckDB 1.5.5 and once under 2.0.1:

    git archive 8748f3b | tar -x -C /tmp/old
    PYTHONPATH=/tmp/old python tests/data/make_ledger_before_chain.py ledger.duckdb
    gzip -9 ledger.duckdb

Every record type, awkward text (quotes, backslash, control characters,
emoji, U+2028), floats (1e-05, 0.1, 1.0, 1e-07), microsecond timestamps,
nulls, empty lists, edits, a correction, an annulment and a CSV import.
"""
import sys, os
from datetime import datetime
from pathlib import Path
from ledger.store import Store
from ledger.models import Question, Forecast, Resolution, Source
from ledger.io import import_file

path = Path(sys.argv[1])
awkward = 'quote " backslash \\ slash / tab\t nl\n cr\r ctl\x01\x1f del\x7f c1\x85 é ü 😀 \u2028 end'
with Store.open(path) as store:
    with store.write("add awkward | pipes") as w:
        q1 = w.add_question(
            Question(statement="Awkward " + awkward, criteria=awkward, resolve_by="2027-06-30", tags=["a\"b", "ü", "😀"],
                     source=Source(title="T\"itle", author="Ä", outlet="O\\", url="https://x.org/a?b=c&d", published="2025-02-25"),
                     quote="“quoted” \u0000nul"),
            Forecast(forecaster="ann", probability=1e-05, made_at=datetime(2025, 2, 25, 1, 2, 3, 123400), note=awkward))
        q2 = w.add_question(Question(statement="Empty tags", resolve_by="2026-01-01"),
                            Forecast(forecaster="bob", probability=0.1))
        q3 = w.add_question(Question(statement="MC", resolve_by="2028-01-01", options=["A", "B", "C"]),
                            Forecast(forecaster="ann", probabilities=[0.1, 0.2, 0.7]))
    with store.write("forecast") as w:
        w.add_forecast(q1, Forecast(forecaster="bob", probability=1.0, made_at=datetime(2025, 3, 1, 0, 0, 0, 1)))
        w.add_forecast(q2, Forecast(forecaster="ann", probability=0.30000000000000004))
        w.add_forecast(q3, Forecast(forecaster="bob", probabilities=[1e-07, 0.5, 0.4999999]))
    with store.write("edit") as w:
        w.edit(q1, "criteria", "new " + awkward, reason=awkward, editor="ed")
        w.edit(q1, "tags", ["x", "y"], reason=None, editor=None)
        w.edit(q2, "resolve_by", "2026-06-30", reason="later", editor="ed")
    with store.write("resolve") as w:
        w.resolve(q2, Resolution(outcome="no", note=awkward, evidence="https://e.org", resolver="r"))
        w.resolve(q3, Resolution(outcome="B", resolved_at=datetime(2025, 5, 5, 5, 5, 5, 500000)))
    with store.write("annul") as w:
        w.resolve(q2, Resolution(annulled=True, note="changed"))
csv = path.with_suffix(".csv")
csv.write_text('statement,probability,resolve_by,outcome,note,made_at,tags\n'
               '"Imp ""one""",70%,2024-12-31,yes,"\ttab note",2024-01-01T10:11:12.5,a;b\n'
               'Imp two,0.25,2024-12-31,,"=formula",,\n'
               'Imp 3 é,0.999,2024-12-31,no,,2024-02-02,"[""j""]"\n')
with Store.open(path) as store:
    import_file(store, csv, forecaster="imp")
    print(store.verify())
