// The week's plan run page (issue 15, H-151): while the plan is being worked out, ask the
// page again every few seconds and reload it once the run has finished. Without script the
// "Check again" link does the same by hand. No timed meta refresh (WCAG 2.2.1).
(function () {
  "use strict";
  var progress = document.getElementById("week-progress");
  if (!progress) { return; }
  var every = Number(progress.getAttribute("data-poll-seconds") || "3") * 1000;
  function check() {
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (answer) { return answer.ok ? answer.text() : ""; })
      .then(function (html) {
        if (html && html.indexOf('id="week-progress"') === -1) {
          window.location.reload();
        } else {
          window.setTimeout(check, every);
        }
      })
      .catch(function () { window.setTimeout(check, every); });
  }
  window.setTimeout(check, every);
})();
