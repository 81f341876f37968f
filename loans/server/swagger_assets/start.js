// Starts Swagger UI on the page's #swagger-ui element, reading the OpenAPI document its data-openapi names.
// A file of its own, not an inline script: the Content-Security-Policy allows scripts from this origin only.
window.addEventListener("DOMContentLoaded", function () {
  var element = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: element.dataset.openapi,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "BaseLayout",
  });
});
