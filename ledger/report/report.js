// Forecast Ledger dashboard: draws the charts from their JSON blocks and sorts tables.
// No data is ever read as HTML: chart JSON is parsed with JSON.parse, table sorting moves rows.
(function () {
  "use strict";

  function drawCharts() {
    if (typeof window.Plotly === "undefined") {
      document.querySelectorAll("figure.chart").forEach(function (fig) {
        fig.setAttribute("data-error", "plotly.js did not load");
        fig.appendChild(document.createTextNode("The chart library did not load; the tables have the same numbers."));
      });
      return;
    }
    var config = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["lasso2d", "select2d"] };
    document.querySelectorAll("figure.chart").forEach(function (fig) {
      var block = fig.querySelector('script[type="application/json"]');
      if (!block) { return; }
      var spec = JSON.parse(block.textContent);
      var target = document.createElement("div");
      target.className = "plot";
      fig.appendChild(target);
      if (window.matchMedia && window.matchMedia("(max-width: 760px)").matches) {
        spec.layout.margin = Object.assign({}, spec.layout.margin || {}, { r: 8 });
      }
      window.Plotly.newPlot(target, spec.data, spec.layout, config).then(function () {
        fig.setAttribute("data-rendered", "true");
      });
    });
  }

  function cellValue(row, index, numeric) {
    var cell = row.children[index];
    if (!cell) { return numeric ? NaN : ""; }
    var raw = cell.hasAttribute("data-v") ? cell.getAttribute("data-v") : cell.textContent.trim();
    if (!numeric) { return raw.toLowerCase(); }
    var n = parseFloat(raw);
    return isNaN(n) ? Infinity : n;
  }

  function makeSortable(table) {
    var headers = table.querySelectorAll("th[data-sort]");
    headers.forEach(function (th) {
      th.setAttribute("tabindex", "0");
      var sort = function () {
        var index = Array.prototype.indexOf.call(th.parentNode.children, th);
        var numeric = th.getAttribute("data-sort") === "num";
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, index, numeric), y = cellValue(b, index, numeric);
          var order = x < y ? -1 : x > y ? 1 : 0;
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      };
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (event) { if (event.key === "Enter") { sort(); } });
    });
  }

  function start() {
    drawCharts();
    document.querySelectorAll("table.sortable").forEach(makeSortable);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
