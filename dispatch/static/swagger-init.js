// Starts Swagger UI on /api/docs from the page's data attributes (no inline script: the page
// runs under the site's Content-Security-Policy). The validator badge is off: it would ask a
// host outside the service to check the description.
//
// Accessibility (issue 14: axe-core, 0 violations of impact moderate or worse; the colours are
// in swagger-a11y.css):
// - deep links are off: with them each operation's path is a link inside the button that
//   opens the operation, a control nested in a control that a screen reader cannot reach
//   (axe "nested-interactive");
// - the operation groups are <h3> right under the <h1> title (there is no <h2>): every heading
//   below the title is moved up one level (aria-level), kept by an observer as Swagger UI
//   re-renders (axe "heading-order");
// - the curl command's copy button is an empty <button>: it is given a name (axe
//   "button-name").
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui-container");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  var config = {
    url: root.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui-container",
    validatorUrl: null
  };
  var extra = JSON.parse(root.getAttribute("data-config") || "{}");
  Object.keys(extra).forEach(function (key) {
    config[key] = extra[key];
  });
  config.deepLinking = false;

  function fixHeadings() {
    var headings = root.querySelectorAll("h3:not([aria-level]), h4:not([aria-level]), " +
                                         "h5:not([aria-level]), h6:not([aria-level])");
    for (var i = 0; i < headings.length; i += 1) {
      headings[i].setAttribute("aria-level", String(Number(headings[i].tagName.charAt(1)) - 1));
    }
    var copies = root.querySelectorAll(".copy-to-clipboard button:not([aria-label])");
    for (var j = 0; j < copies.length; j += 1) {
      copies[j].setAttribute("aria-label", "Copy to the clipboard");
    }
    if (root.querySelector(".opblock") && !root.hasAttribute("data-a11y-ready")) {
      root.setAttribute("data-a11y-ready", "");
    }
  }

  new MutationObserver(fixHeadings).observe(root, {childList: true, subtree: true});
  window.ui = window.SwaggerUIBundle(config);
}());
