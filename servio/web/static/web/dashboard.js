/* Charts of the service desk dashboard (Chart.js from npm); the tables hold the same numbers. */
(function () {
  "use strict";
  var node = document.getElementById("dashboard-data");
  if (!node || !window.Chart) return;
  var data = JSON.parse(node.textContent);
  var dark = document.documentElement.getAttribute("data-bs-theme") === "dark";
  window.Chart.defaults.color = dark ? "#c8d3e1" : "#49566c";
  window.Chart.defaults.borderColor = dark ? "rgba(255,255,255,.1)" : "rgba(0,0,0,.08)";
  var palette = ["#d63939", "#f76707", "#f59f00", "#4299e1", "#9ba9be"];
  // A click on a point or bar opens the queue of its tickets (the tables link the same).
  function drill(url) {
    return function (event, elements) {
      if (!elements.length) return;
      var target = url(elements[0].datasetIndex, elements[0].index);
      if (target) window.location.assign(target);
    };
  }
  new window.Chart(document.getElementById("chart-daily"), {
    type: "line",
    data: {
      labels: data.daily.labels,
      datasets: [
        { label: "Opened", data: data.daily.opened, borderColor: "#206bc4", backgroundColor: "#206bc4", tension: 0.2 },
        { label: "Resolved", data: data.daily.resolved, borderColor: "#2fb344", backgroundColor: "#2fb344", tension: 0.2 }
      ]
    },
    options: {
      maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      onClick: drill(function (set, i) { return data.daily.links[i][set]; })
    }
  });
  new window.Chart(document.getElementById("chart-backlog"), {
    type: "bar",
    data: {
      labels: data.backlog.labels,
      datasets: data.backlog.datasets.map(function (d, i) {
        return { label: d.label, data: d.data, backgroundColor: palette[i % palette.length] };
      })
    },
    options: {
      maintainAspectRatio: false, animation: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
      onClick: drill(function (set, i) { return data.backlog.datasets[set].links[i]; })
    }
  });
  new window.Chart(document.getElementById("chart-csat"), {
    type: "bar",
    data: { labels: data.csat.labels, datasets: [{ label: "Responses", data: data.csat.data, backgroundColor: "#2fb344" }] },
    options: {
      maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      onClick: drill(function (set, i) { return data.csat.links[i]; })
    }
  });
})();
