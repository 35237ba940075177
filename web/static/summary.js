/* The summary's charts, drawn with Chart.js (served from web/static/vendor) from the JSON the page
   holds; the tables beside them carry the same figures for screen readers and printing. */
(function () {
  "use strict";
  var holder = document.getElementById("summary-data");
  if (!holder || typeof Chart === "undefined") return;
  var data = JSON.parse(holder.textContent);
  var palette = ["#1f5fa8", "#c2412d", "#2e8b57", "#b8860b", "#6a4c93", "#008b8b", "#d2691e", "#708090",
                 "#8b0000", "#4682b4", "#9acd32", "#ff8c00"];

  function bars(id, label, values, color) {
    var canvas = document.getElementById(id);
    if (!canvas) return;
    new Chart(canvas, {
      type: "bar",
      data: { labels: data.units, datasets: [{ label: label, data: values, backgroundColor: color }] },
      options: { responsive: true, maintainAspectRatio: false, plugins: { legend: { display: false } },
                 scales: { x: { ticks: { autoSkip: false, maxRotation: 60, minRotation: 0 } }, y: { beginAtZero: true } } }
    });
  }

  bars("chart-units", "行数", data.rows, palette[0]);
  if (data.measure) bars("chart-sums", data.measure, data.sums, palette[2]);
  var shares = document.getElementById("chart-shares");
  if (shares && data.labels.length && data.multi) {
    new Chart(shares, {
      type: "bar",
      data: { labels: data.labels, datasets: [{ label: "行数", data: data.shares, backgroundColor: palette[1] }] },
      options: { responsive: true, maintainAspectRatio: false, indexAxis: "y", plugins: { legend: { display: false } },
                 scales: { x: { beginAtZero: true } } }
    });
  } else if (shares && data.labels.length) {
    new Chart(shares, {
      type: "doughnut",
      data: { labels: data.labels, datasets: [{ data: data.shares, backgroundColor: palette }] },
      options: { responsive: true, maintainAspectRatio: false, plugins: { legend: { position: "right" } } }
    });
  }
})();
