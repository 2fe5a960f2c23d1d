// The page checks itself: it loads the published records (records/manifest.json and the files it
// lists), recomputes every record hash and commit head with the browser's own SHA-256 (Web Crypto),
// and the headline Brier score from the published canonical texts, then shows the verdict in
// #verify[data-verified]. The rules are the README's "The canonical record form" and
// "Published records"; ledger/publish.py is the same check in Python (`ledger verify SITE_DIR`).
(function () {
  "use strict";
  var GENESIS = "0".repeat(64), CHUNK = 8192;
  var box = document.getElementById("verify");
  if (!box) return;

  function verdict(ok, sentence) {
    box.setAttribute("data-verified", ok ? "true" : "false");
    box.textContent = sentence;
  }

  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
  }

  function sha256(text) {
    return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)).then(hex);
  }

  function getText(path) {
    return fetch(path, { cache: "no-store" }).then(function (r) {
      if (!r.ok) throw new Error(path + ": HTTP " + r.status);
      return r.text();
    });
  }

  // "YYYY-MM-DD HH:MM:SS(.f)" (UTC) as microseconds since the epoch, exactly as DuckDB's epoch_us.
  function micros(t) {
    var m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?$/.exec(t);
    var ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
    return ms * 1000 + (m[7] ? +(m[7] + "000000").slice(0, 6) : 0);
  }

  function checkChain(manifest, records) {
    var byCommit = {};
    records.forEach(function (r) { (byCommit[r.commit_id] = byCommit[r.commit_id] || []).push(r); });
    var prev = GENESIS, step = Promise.resolve();
    manifest.commits.forEach(function (c, i) {
      step = step.then(function () {
        var mine = (byCommit[c.id] || []).slice().sort(function (a, b) { return a.seq - b.seq; });
        delete byCommit[c.id];
        if (c.id !== i + 1 || c.prev_head !== prev) throw new Error("commit " + c.id + " does not link to the commit before it");
        if (mine.length !== c.n_records) throw new Error("commit " + c.id + " wrote " + c.n_records + " records, " + mine.length + " are published");
        return Promise.all(mine.map(function (r) {
          if (r.text === undefined) return null;
          var f = JSON.parse(r.text);
          if (f.seq !== r.seq || f.commit_id !== r.commit_id) throw new Error("record " + r.seq + " is filed under the wrong place");
          return sha256(prev + r.text).then(function (h) {
            if (h !== r.hash) throw new Error(r.table.replace("_records", "") + " record " + r.seq + " does not match its hash");
          });
        })).then(function () {
          var chunks = {};
          mine.forEach(function (r) { var k = Math.floor(r.seq / CHUNK); (chunks[k] = chunks[k] || []).push(r.hash); });
          var keys = Object.keys(chunks).map(Number).sort(function (a, b) { return a - b; });
          return Promise.all(keys.map(function (k) { return sha256(chunks[k].join("")); }));
        }).then(function (digests) {
          return sha256(prev + c.id + "|" + c.command + "|" + c.committed_at + "|" + digests.join(""));
        }).then(function (head) {
          if (head !== c.head) throw new Error("commit " + c.id + ": its head does not match its records");
          prev = head;
        });
      });
    });
    return step.then(function () {
      if (Object.keys(byCommit).length) throw new Error("a published record belongs to no commit");
      return prev;
    });
  }

  // The headline Brier score of yes/no questions, by the policy the page states (the scoring
  // module's definition: time-averaged weights over [opened, resolved_at], 50% before a first forecast).
  // A window opens at the earliest of the question's logging, its first published counted forecast and
  // the manifest's opening (a forecaster's page leaves out the others' forecasts, which may open it).
  function brier(manifest, records) {
    var sel = manifest.selection, texts = { question_records: [], forecast_records: [], resolution_records: [], edit_records: [] };
    records.forEach(function (r) { if (r.text !== undefined) texts[r.table].push(JSON.parse(r.text)); });
    var questions = {}, outcomeCommit = {}, current = {}, resolveBy = {};
    texts.question_records.forEach(function (q) { questions[q.id] = q; resolveBy[q.id] = q.resolve_by; });
    texts.edit_records.sort(function (a, b) { return a.seq - b.seq; }).forEach(function (e) {
      if (e.field === "resolve_by") resolveBy[e.question_id] = JSON.parse(e.value);
    });
    texts.resolution_records.forEach(function (r) {
      if (!current[r.question_id] || current[r.question_id].seq < r.seq) current[r.question_id] = r;
      if (!r.annulled) outcomeCommit[r.question_id] = Math.min(outcomeCommit[r.question_id] || Infinity, r.commit_id);
    });
    var pairs = {}, opened = {};
    Object.keys(manifest.openings || {}).forEach(function (q) { opened[q] = micros(manifest.openings[q]); });
    texts.forecast_records.forEach(function (f) {
      var q = questions[f.question_id], r = current[f.question_id];
      if (!q || q.kind !== "binary" || !r || r.annulled || r.outcome === null) return;
      var backfilled = f.made_at < f.recorded_at || f.commit_id >= (outcomeCommit[f.question_id] || Infinity)
        || f.made_at.slice(0, 10) > resolveBy[f.question_id];
      if (micros(f.made_at) > micros(r.resolved_at) || (sel.exclude_backfilled && backfilled)) return;
      var key = f.question_id + "\u0000" + f.forecaster;
      (pairs[key] = pairs[key] || []).push(f);
      opened[f.question_id] = Math.min(opened[f.question_id] === undefined ? Infinity : opened[f.question_id], micros(f.made_at));
    });
    var sw = 0, swe = 0;
    Object.keys(pairs).forEach(function (key) {
      var fs = pairs[key].sort(function (a, b) { return micros(a.made_at) - micros(b.made_at) || a.seq - b.seq; });
      var qid = fs[0].question_id, r = current[qid], o = r.outcome === "yes" ? 1 : 0;
      var end = micros(r.resolved_at), start = Math.min(micros(questions[qid].created_at), opened[qid]);
      var span = end - start;
      function add(w, p) { if (w > 0) { sw += w; swe += w * (p - o) * (p - o); } }
      fs.forEach(function (f, i) {
        var made = micros(f.made_at), next = i + 1 < fs.length ? micros(fs[i + 1].made_at) : null;
        if (sel.policy === "first") { if (i === 0) add(1, f.probability); return; }
        if (sel.policy === "last") { if (next === null) add(1, f.probability); return; }
        if (i === 0 && made > start) add((made - start) / span, 0.5);
        add(span > 0 ? ((next === null ? end : Math.min(next, end)) - made) / span : (next === null ? 1 : 0), f.probability);
      });
    });
    return sw > 0 ? swe / sw : null;
  }

  function run() {
    if (location.protocol === "file:") {  // browsers refuse (Chromium) or limit a file page reading its siblings
      verdict(false, "Not checked: this page was opened from a file, and browsers do not let it read the records " +
        "beside it. Serve the folder (for example `python -m http.server` in it, then open http://localhost:8000/), " +
        "or run `ledger verify` on this folder.");
      return;
    }
    if (!window.crypto || !crypto.subtle) {
      verdict(false, "Not checked: this browser offers no Web Crypto here (it needs https or localhost). " +
        "Open the page over https, or run `ledger verify` on a downloaded copy of this folder.");
      return;
    }
    var manifest;
    getText("records/manifest.json").then(function (text) {
      manifest = JSON.parse(text);
      return Promise.all(manifest.files.map(getText));
    }).then(function (files) {
      var records = [];
      files.forEach(function (t) { t.split("\n").forEach(function (line) { if (line) records.push(JSON.parse(line)); }); });
      return checkChain(manifest, records).then(function (head) {
        if (head !== box.getAttribute("data-head")) throw new Error("the page's head is not the head of the published chain");
        var b = brier(manifest, records), claimed = box.getAttribute("data-brier");
        var same = b === null ? (claimed === "None" || claimed === "") : Math.abs(b - parseFloat(claimed)) <= 1e-9 * Math.max(1, Math.abs(b));
        if (!same) throw new Error("the page says Brier " + claimed + ", the published records give " + b);
        verdict(true, "Checked in your browser: " + records.length.toLocaleString("en") + " records, chain head " +
          head.slice(0, 4) + "…, Brier " + (b === null ? "(none yet)" : b.toFixed(3)) + " recomputed.");
      });
    }).catch(function (error) {
      verdict(false, "Check failed: " + error.message + ". Do not trust these figures.");
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run); else run();
})();
