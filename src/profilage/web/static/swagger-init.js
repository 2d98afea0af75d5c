/* Start Swagger UI from the page's JSON configuration (no inline script). AGPL-3.0-or-later. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("swagger-config").textContent);
  cfg.presets = [SwaggerUIBundle.presets.apis];
  cfg.layout = "BaseLayout";
  window.ui = SwaggerUIBundle(cfg);
})();
