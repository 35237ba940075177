/* The summary's charts, drawn with Chart.js (served from web/static/vendor) from the JSON the page
   holds; the tables beside them carry the same figures for screen readers and printing. The figures
   come with the page, or (summaries that read every row) by htmx after it: drawn in either case. */
(function () {
  "use strict";
  var palette = ["#1f5fa8", "#c2412d", "#2e8b57", "#b8860b", "#6a4c93", "#008b8b", "#d2691e", "#708090",
                 "#8b0000", "#4682b4", "#9acd32", "#ff8c00"];

  function bars(id, labels, label, values, color, horizontal) {
    var canvas = document.getElementById(id);
    if (!canvas) return;
    var scales = horizontal ? { x: { beginAtZero: true } }
      : { x: { ticks: { autoSkip: false, maxRotation: 60, minRotation: 0 } }, y: { beginAtZero: true } };
    new Chart(canvas, {
      type: "bar",
      data: { labels: labels, datasets: [{ label: label, data: values, backgroundColor: color }] },
      options: { responsive: true, maintainAspectRatio: false, indexAxis: horizontal ? "y" : "x",
                 plugins: { legend: { display: false } }, scales: scales }
    });
  }

  function draw() {
    var holder = document.getElementById("summary-data");
    if (!holder || holder.dataset.drawn || typeof Chart === "undefined") return;
    holder.dataset.drawn = "1";
    var data = JSON.parse(holder.textContent);
    bars("chart-units", data.units, "行数", data.rows, palette[0]);
    if (data.measure) bars("chart-sums", data.units, data.measure, data.sums, palette[2]);
    var shares = document.getElementById("chart-shares");
    if (!shares || !data.labels.length) return;
    if (data.multi) {  // a multiple choice's options overlap: rows per option, not shares of a whole
      bars("chart-shares", data.labels, "行数", data.shares, palette[1], true);
      return;
    }
    new Chart(shares, {
      type: "doughnut",
      data: { labels: data.labels, datasets: [{ data: data.shares, backgroundColor: palette }] },
      options: { responsive: true, maintainAspectRatio: false, plugins: { legend: { position: "right" } } }
    });
  }

  draw();
  document.body.addEventListener("htmx:afterSettle", draw);
})();
