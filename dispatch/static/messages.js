// The text messages page without reloads: poll /messages/data every few seconds and swap in
// the re-rendered list, saying how many texts are new. External file (the CSP allows scripts
// from our origin only); the page works without it through its Refresh link.
(function () {
  "use strict";
  var root = document.querySelector("[data-messages-poll]");
  if (!root || !window.fetch) {
    return;
  }
  var url = root.getAttribute("data-messages-poll");
  var seconds = parseInt(root.getAttribute("data-messages-interval") || "5", 10);
  var status = root.querySelector("[data-messages-status]");
  var list = root.querySelector('[data-messages-part="list"]');
  var first = list && list.querySelector("[data-message]");
  var newest = first ? parseInt(first.getAttribute("data-message"), 10) : 0;
  var busy = false;

  function countNew(messages) {
    return messages.filter(function (message) {
      return message.id > newest;
    }).length;
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
        var fresh = countNew(data.messages);
        if (list) {
          list.innerHTML = data.html.list;
        }
        if (data.newest_id) {
          newest = Math.max(newest, data.newest_id);
        }
        if (status) {
          status.textContent = "As of " + data.as_of_text + " (updates every " + seconds +
            " seconds)" + (fresh ? "; " + fresh + " new text" + (fresh === 1 ? "" : "s") : "") + ".";
        }
        root.setAttribute("data-messages-updated", data.as_of);
      })
      .catch(function () {
        if (status) {
          status.textContent = "Could not update the messages. Use Refresh.";
        }
      })
      .finally(function () {
        busy = false;
      });
  }

  root.setAttribute("data-messages-live", "yes");
  setInterval(refresh, seconds * 1000);
  document.addEventListener("visibilitychange", refresh);
  window.dispatchMessagesRefresh = refresh; // for a browser test: refresh now
})();
