// Starts Swagger UI on /api/docs from the page's data attributes (no inline script: the page
// runs under the site's Content-Security-Policy). The validator badge is off: it would ask a
// host outside the service to check the description.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui-container");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  var config = {
    url: root.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui-container",
    validatorUrl: null,
    deepLinking: true
  };
  var extra = JSON.parse(root.getAttribute("data-config") || "{}");
  Object.keys(extra).forEach(function (key) {
    config[key] = extra[key];
  });
  window.ui = window.SwaggerUIBundle(config);
}());
