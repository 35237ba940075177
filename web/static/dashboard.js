/* The burden dashboard's charts (Chart.js from web/static/vendor); the tables hold the same figures. */
(function () {
  "use strict";
  var holder = document.getElementById("dashboard-data");
  if (!holder || typeof Chart === "undefined") return;
  var data = JSON.parse(holder.textContent);
  var received = document.getElementById("chart-received");
  if (received) {
    new Chart(received, {
      type: "bar",
      data: { labels: data.months, datasets: [
        { label: "镇街收到的报表", data: data.received, backgroundColor: "#c2412d" },
        { label: "改由台账提取", data: data.extracted, backgroundColor: "#2e8b57" }] },
      options: { responsive: true, maintainAspectRatio: false, scales: { y: { beginAtZero: true } } }
    });
  }
  var rate = document.getElementById("chart-rate");
  if (rate) {
    new Chart(rate, {
      type: "line",
      data: { labels: data.months, datasets: [{ label: "预填率（%）", data: data.rate, borderColor: "#1f5fa8",
                                                 backgroundColor: "#1f5fa8", spanGaps: true }] },
      options: { responsive: true, maintainAspectRatio: false, scales: { y: { beginAtZero: true, max: 100 } } }
    });
  }
})();
