/* gst-apm: REST routes of the service */
#include "apm-api.h"
#include "apm-http.h"
#include "apm-service.h"
#include "apm-prometheus.h"
#include "apm-status.h"

#include <string.h>

typedef void (*ApmRouteHandler) (ApmService * service,
    SoupServerMessage * msg, const char *path, GHashTable * query);

typedef struct
{
  const gchar *path;
  const gchar *allow;           /* methods, as sent in Allow */
  ApmRouteHandler handler;
} ApmRoute;

static void
handle_metrics (ApmService * service, SoupServerMessage * msg,
    const char *path, GHashTable * query)
{
  gsize len;
  gchar *body;

  apm_status_refresh_metrics (service);
  body = apm_prometheus_render (apm_service_get_registry (service), &len);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, APM_PROMETHEUS_CONTENT_TYPE,
      SOUP_MEMORY_TAKE, body, len);
}

static void
handle_health_monitoring (ApmService * service, SoupServerMessage * msg,
    const char *path, GHashTable * query)
{
  JsonNode *node = apm_status_health_monitoring (service);

  apm_http_respond_json (msg, SOUP_STATUS_OK, node);
  json_node_unref (node);
}

static void
handle_liveness (ApmService * service, SoupServerMessage * msg,
    const char *path, GHashTable * query)
{
  JsonNode *node = json_from_string ("{\"status\": \"alive\"}", NULL);

  apm_http_respond_json (msg, SOUP_STATUS_OK, node);
  json_node_unref (node);
}

static const ApmRoute routes[] = {
  {"/metrics", "GET, HEAD", handle_metrics},
  {"/health/monitoring", "GET, HEAD", handle_health_monitoring},
  {"/health", "GET, HEAD", handle_liveness},
};

static gboolean
method_allowed (const gchar * allow, const gchar * method)
{
  gchar **methods = g_strsplit (allow, ", ", -1);
  gboolean ok = g_strv_contains ((const gchar * const *) methods, method);

  g_strfreev (methods);
  return ok;
}

void
apm_api_dispatch (ApmService * service, SoupServerMessage * msg,
    const char *path, GHashTable * query)
{
  const gchar *method = soup_server_message_get_method (msg);

  for (guint i = 0; i < G_N_ELEMENTS (routes); i++) {
    const ApmRoute *r = &routes[i];

    if (strcmp (path, r->path) != 0)
      continue;
    if (!method_allowed (r->allow, method)) {
      gchar *text = g_strdup_printf ("method %s not allowed on %s", method,
          r->path);

      apm_http_respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, text);
      soup_message_headers_replace (soup_server_message_get_response_headers
          (msg), "Allow", r->allow);
      g_free (text);
      return;
    }
    r->handler (service, msg, path, query);
    return;
  }
  apm_http_respond_error (msg, SOUP_STATUS_NOT_FOUND, "no such resource");
}
