// Forecast Ledger site: draws the charts from their JSON blocks, and runs the question tables
// (search, filter, sort, paginate) over the rows of data/questions.js.
// No data is ever read as HTML: chart JSON is parsed with JSON.parse, table cells are set with textContent.
(function () {
  "use strict";

  var PAGE_SIZE = 25;

  function drawCharts() {
    var figures = document.querySelectorAll("figure.chart");
    if (!figures.length) { return; }
    if (typeof window.Plotly === "undefined") {
      figures.forEach(function (fig) {
        fig.setAttribute("data-error", "plotly.js did not load");
        fig.appendChild(document.createTextNode("The chart library did not load; the tables have the same numbers."));
      });
      return;
    }
    // No mode bar: it covered the chart titles, and the page has the numbers in tables.
    var config = { responsive: true, displaylogo: false, displayModeBar: false };
    var narrow = window.matchMedia && window.matchMedia("(max-width: 760px)").matches;
    figures.forEach(function (fig) {
      var block = fig.querySelector('script[type="application/json"]');
      if (!block) { return; }
      var spec = JSON.parse(block.textContent);
      var target = document.createElement("div");
      target.className = "plot";
      // The title goes above the chart as HTML, so it wraps on a phone instead of being cut off.
      var title = (spec.layout.title && spec.layout.title.text) || "chart";
      fig.insertBefore(el("figcaption", title), fig.firstChild);
      spec.layout.title = { text: "" };
      spec.layout.margin = Object.assign({}, spec.layout.margin || {}, { t: 16 });
      // A figure that sets its height (room for a legend below the axis) gets it: else the box stays at
      // its CSS minimum and the legend spills over the heading below.
      if (spec.layout.height) { target.style.height = spec.layout.height + "px"; }
      target.setAttribute("role", "img");
      target.setAttribute("aria-label", title);
      fig.appendChild(target);
      if (narrow) {
        spec.layout.margin = Object.assign({}, spec.layout.margin || {}, { r: spec.layout.yaxis2 ? 44 : 8 });
      }
      window.Plotly.newPlot(target, spec.data, spec.layout, config).then(function () {
        fig.setAttribute("data-rendered", "true");
      });
    });
  }

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (cls) { node.className = cls; }
    return node;
  }

  function bdi(text) { return el("bdi", text); }

  // The rows one table shows: resolved (or annulled) or open, and on a forecaster's page theirs only.
  function rowsFor(kind, forecaster) {
    return (window.LEDGER_ROWS || []).filter(function (row) {
      var closed = row.st === "resolved" || row.st === "annulled";
      if ((kind === "resolved") !== closed) { return false; }
      return !forecaster || row.f.some(function (line) { return line[0] === forecaster; });
    }).map(function (row) {
      if (!forecaster) { return row; }
      return Object.assign({}, row, { f: row.f.filter(function (line) { return line[0] === forecaster; }) });
    });
  }

  function fillSelect(select, values) {
    if (!select) { return; }
    values.forEach(function (value) {
      var option = el("option", value);
      option.value = value;
      select.appendChild(option);
    });
  }

  function distinct(rows, pick) {
    var seen = {};
    rows.forEach(function (row) { pick(row).forEach(function (v) { if (v) { seen[v] = true; } }); });
    return Object.keys(seen).sort(function (a, b) { return a.localeCompare(b); });
  }

  function bestScore(row) {
    var scores = row.f.map(function (line) { return line[4]; }).filter(function (v) { return v !== null; });
    return scores.length ? Math.min.apply(null, scores) : null;
  }

  var questionPrefix = 0;  // how many id characters name a question page: set from the page's data-prefix

  function statementCell(row, root) {
    var td = el("td", null, "statement");
    td.setAttribute("data-label", "Question");
    var p = el("p", null, "stmt");
    var link = el("a");
    link.href = root + "q/" + row.id.slice(0, questionPrefix) + ".html#" + row.id;  // a page holds a prefix's questions
    link.appendChild(bdi(row.s));
    p.appendChild(link);
    td.appendChild(p);
    if (row.src) { var src = el("p", null, "source"); src.appendChild(bdi(row.src)); td.appendChild(src); }
    if (row.tags.length) {
      var tags = el("p", null, "tags");
      row.tags.forEach(function (t) { var span = el("span", null, "tag"); span.appendChild(bdi(t)); tags.appendChild(span); });
      td.appendChild(tags);
    }
    return td;
  }

  function forecastsCell(row, root, label) {
    var td = el("td", null, "forecasts");
    td.setAttribute("data-label", label);
    row.f.forEach(function (line) {
      var div = el("div");
      var who = el("a", null, "who");
      who.href = root + "f/" + line[1] + ".html";
      who.appendChild(bdi(line[0]));
      div.appendChild(who);
      div.appendChild(document.createTextNode(" "));
      div.appendChild(bdi(line[2]));
      if (line[3] > 1) { div.appendChild(el("span", " (" + line[3] + " forecasts)", "muted")); }
      if (line[5]) { div.appendChild(document.createTextNode(" ")); div.appendChild(el("span", "backfilled", "badge")); }
      td.appendChild(div);
    });
    return td;
  }

  function cell(text, label, cls) {
    var td = el("td", null, cls);
    td.setAttribute("data-label", label);
    td.appendChild(bdi(text));
    return td;
  }

  function renderRow(kind, row, root) {
    var tr = el("tr", null, row.st === "annulled" ? "annulled" : row.o === "yes" ? "yes" : row.o === "no" ? "no" : row.st);
    tr.appendChild(statementCell(row, root));
    tr.appendChild(forecastsCell(row, root, kind === "resolved" ? "Forecasts" : "Latest forecasts"));
    if (kind === "resolved") {
      var outcome = cell(row.o, "Outcome", "outcome");
      if (row.was) {  // a correction or retraction says what it replaced, as the question page does
        var note = el("div", null, "corrected");
        note.appendChild(document.createTextNode((row.st === "annulled" ? "retracted" : "corrected") + " (was: "));
        note.appendChild(bdi(row.was));
        note.appendChild(document.createTextNode(")"));
        outcome.appendChild(note);
      }
      tr.appendChild(outcome);
      tr.appendChild(cell(row.at, "Resolved", "date"));
      var score = el("td", null, "score");
      score.setAttribute("data-label", "Score (Brier)");
      if (row.st === "annulled") { score.appendChild(el("span", "not scored", "muted")); }
      row.f.forEach(function (line) {
        if (line[4] !== null) { score.appendChild(el("div", (row.f.length > 1 ? line[0] + " " : "") + line[4].toFixed(3))); }
      });
      if (row.st !== "annulled" && !score.childNodes.length) { score.appendChild(el("span", "–", "muted")); }
      tr.appendChild(score);
    } else {
      tr.appendChild(cell(row.by + (row.st === "due" ? " (past due)" : ""), "Resolve by", "date"));
    }
    return tr;
  }

  function compare(key, a, b) {
    var x = key === "score" ? bestScore(a) : a[key], y = key === "score" ? bestScore(b) : b[key];
    if (x === null || x === "") { return y === null || y === "" ? 0 : 1; }
    if (y === null || y === "") { return -1; }
    if (typeof x === "number") { return x - y; }
    return String(x).localeCompare(String(y));
  }

  function startFinder(finder) {
    var kind = finder.getAttribute("data-set");
    var forecaster = finder.getAttribute("data-forecaster");
    var root = finder.getAttribute("data-root");
    questionPrefix = Number(finder.getAttribute("data-prefix"));
    var form = finder.querySelector("form");
    var body = finder.querySelector("tbody");
    var counter = finder.querySelector(".count");
    var where = finder.querySelector(".pager .where");
    var rows = rowsFor(kind, forecaster);
    var page = 0;
    fillSelect(form.elements.forecaster, distinct(rows, function (r) { return r.f.map(function (l) { return l[0]; }); }));
    fillSelect(form.elements.tag, distinct(rows, function (r) { return r.tags; }));
    fillSelect(form.elements.source, distinct(rows, function (r) { return [r.src]; }));
    fillSelect(form.elements.outcome, distinct(rows, function (r) { return [r.o]; }));

    function value(name) { var field = form.elements[name]; return field ? field.value : ""; }

    function matching() {
      var words = value("q").toLowerCase().split(/\s+/).filter(Boolean);
      var who = value("forecaster"), tag = value("tag"), source = value("source"), outcome = value("outcome");
      var from = value("from"), to = value("to");
      var dateKey = kind === "resolved" ? "at" : "by";
      var sort = (value("sort") || "s:asc").split(":");
      var found = rows.filter(function (row) {
        var text = (row.s + " " + row.tags.join(" ") + " " + row.src).toLowerCase();
        if (words.some(function (w) { return text.indexOf(w) < 0; })) { return false; }
        if (who && !row.f.some(function (l) { return l[0] === who; })) { return false; }
        if (tag && row.tags.indexOf(tag) < 0) { return false; }
        if (source && row.src !== source) { return false; }
        if (outcome && row.o !== outcome) { return false; }
        if (from && row[dateKey] < from) { return false; }
        if (to && row[dateKey] > to) { return false; }
        return true;
      });
      found.sort(function (a, b) { var order = compare(sort[0], a, b); return sort[1] === "desc" ? -order : order; });
      return found;
    }

    function show() {
      var found = matching();
      var pages = Math.max(1, Math.ceil(found.length / PAGE_SIZE));
      page = Math.min(Math.max(page, 0), pages - 1);
      var start = page * PAGE_SIZE, shown = found.slice(start, start + PAGE_SIZE);
      body.textContent = "";
      shown.forEach(function (row) { body.appendChild(renderRow(kind, row, root)); });
      if (!shown.length) {
        var empty = el("td", rows.length ? "No question matches these filters." : "No questions here yet.", "muted");
        empty.colSpan = 5;
        body.appendChild(el("tr")).appendChild(empty);
      }
      counter.textContent = found.length
        ? "Showing " + (start + 1) + "–" + (start + shown.length) + " of " + found.length +
          (found.length < rows.length ? " matching (" + rows.length + " in all)" : "")
        : "0 of " + rows.length;
      where.textContent = " page " + (page + 1) + " of " + pages + " ";
      finder.querySelector('[data-step="-1"]').disabled = page === 0;
      finder.querySelector('[data-step="1"]').disabled = page >= pages - 1;
    }

    form.addEventListener("input", function () { page = 0; show(); });
    form.addEventListener("change", function () { page = 0; show(); });
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    finder.querySelectorAll(".pager button").forEach(function (button) {
      button.addEventListener("click", function () { page += Number(button.getAttribute("data-step")); show(); });
    });
    show();
    finder.setAttribute("data-ready", "true");
  }

  function start() {
    drawCharts();
    // Paper has no "open": print the technical details too.
    window.addEventListener("beforeprint", function () {
      document.querySelectorAll("details").forEach(function (d) { d.open = true; });
    });
    var finders = document.querySelectorAll(".finder");
    if (finders.length && !window.LEDGER_ROWS) {
      finders.forEach(function (finder) {
        finder.querySelector("tbody").textContent = "";
        finder.querySelector(".count").textContent =
          "The rows did not load (data/questions.js is missing beside this page).";
      });
      return;
    }
    finders.forEach(startFinder);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
