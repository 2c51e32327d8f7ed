// Renders this server's OpenAPI document. The document's address is relative to /docs, so it is
// /openapi.json of whatever host and path prefix served the page. validatorUrl null: Swagger UI
// would otherwise send the document to an outside validator.
window.ui = SwaggerUIBundle({
  url: "openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null
});
