/* Draws the analytics charts from the JSON each table carries (tables stay readable without JS).
   Chart data: {"type": "bar" | "stacked", "labels": [...], "series": {"name": [numbers]}}. */
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") { return; }
  var colours = ["#417690", "#79aec8", "#e0a040", "#70bf2b", "#ba2121", "#8c6bb1", "#5b5b5b", "#c8a2c8"];
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) { return; }
    var spec = JSON.parse(source.textContent);
    var stacked = spec.type === "stacked";
    var datasets = Object.keys(spec.series).map(function (name, index) {
      return { label: name, data: spec.series[name], backgroundColor: colours[index % colours.length] };
    });
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: { x: { stacked: stacked }, y: { stacked: stacked, beginAtZero: true } }
      }
    });
  });
})();
