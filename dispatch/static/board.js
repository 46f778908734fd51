// The dispatch board without reloads: poll /board/data and swap in the re-rendered parts;
// tick the deadline countdowns between polls. External file (the CSP allows scripts from our
// origin only); the page works without it through its Refresh link.
(function () {
  "use strict";
  var root = document.querySelector("[data-board-poll]");
  if (!root || !window.fetch) {
    return;
  }
  var url = root.getAttribute("data-board-poll");
  var seconds = parseInt(root.getAttribute("data-board-interval") || "20", 10);
  var status = root.querySelector("[data-board-status]");
  var busy = false;

  function countdown(minutes) {
    var left = Math.abs(minutes);
    var text = left >= 60
      ? Math.floor(left / 60) + " h " + String(left % 60).padStart(2, "0") + " min"
      : left + " min";
    return minutes < 0 ? text + " overdue" : text + " left";
  }

  function tick() {
    var now = Date.now();
    root.querySelectorAll("[data-deadline]").forEach(function (el) {
      var minutes = Math.floor((Date.parse(el.getAttribute("data-deadline")) - now) / 60000);
      el.textContent = countdown(minutes);
      el.classList.toggle("app-countdown--overdue", minutes < 0);
    });
  }

  function refresh() {
    if (busy || document.hidden) {
      return;
    }
    busy = true;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        Object.keys(data.html).forEach(function (name) {
          var part = root.querySelector('[data-board-part="' + name + '"]');
          if (part) {
            part.innerHTML = data.html[name];
          }
        });
        if (status) {
          status.textContent = "As of " + data.as_of_text + " (updates every " + seconds + " seconds).";
        }
        root.setAttribute("data-board-updated", data.as_of);
      })
      .catch(function () {
        if (status) {
          status.textContent = "Could not update the board. Use Refresh.";
        }
      })
      .finally(function () {
        busy = false;
      });
  }

  root.setAttribute("data-board-live", "yes");
  setInterval(refresh, seconds * 1000);
  setInterval(tick, 30000);
  document.addEventListener("visibilitychange", refresh);
  window.dispatchBoardRefresh = refresh; // for the browser test: refresh now
})();
