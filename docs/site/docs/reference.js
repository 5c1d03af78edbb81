// The interactive reference: Swagger UI over this origin's OpenAPI document. "Try it out"
// calls the same origin; the key given under Authorize stays in this browser tab.
window.ui = SwaggerUIBundle({
  url: '/api/v1/openapi.json',
  dom_id: '#reference',
  deepLinking: true,
  persistAuthorization: false,
  tryItOutEnabled: false,
  displayRequestDuration: true,
  docExpansion: 'list',
  defaultModelsExpandDepth: 0,
  supportedSubmitMethods: ['get', 'post', 'put', 'delete'],
});
