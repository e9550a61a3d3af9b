/* gst-apm: REST routes of the service */
#include "apm-api.h"
#include "apm-http.h"
#include "apm-service.h"
#include "apm-discovery.h"
#include "apm-negotiate.h"
#include "apm-prometheus.h"
#include "apm-status.h"
#include "apm-history.h"
#include "apm-query.h"
#include "apm-report.h"
#include "apm-log-summary.h"
#include "apm-jobs-compare.h"

#include <unistd.h>

#include <math.h>

#include <string.h>

typedef void (*ApmRouteHandler) (ApmService * service,
    SoupServerMessage * msg, const char *path, GHashTable * query);

typedef struct
{
  const gchar *path;            /* ends with '/': a prefix, the rest an id */
  const gchar *allow;           /* methods, as sent in Allow */
  ApmRouteHandler handler;
} ApmRoute;

/* The part of @path after a prefix route, or NULL if empty or nested. */
static const gchar *
route_tail (const char *path, const gchar * prefix)
{
  const gchar *tail = path + strlen (prefix);

  return *tail && !strchr (tail, '/') ? tail : NULL;
}

static void
respond_node (SoupServerMessage * msg, JsonNode * node)
{
  apm_http_respond_json (msg, SOUP_STATUS_OK, node);
  json_node_unref (node);
}

/* OpenMetrics when the client prefers it (Prometheus does), else the text
 * format plain curl has always seen; gzip when accepted */
static void
handle_metrics (ApmService * service, SoupServerMessage * msg,
    const char *path, GHashTable * query)
{
  static const gchar *const om_versions[] = { "1.0.0", "0.0.1", NULL };
  static const gchar *const text_versions[] = { "0.0.4", NULL };
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *resp = soup_server_message_get_response_headers (msg);
  const gchar *accept = soup_message_headers_get_list (req, "Accept");
  const gchar *encodings = soup_message_headers_get_list (req,
      "Accept-Encoding");
  gboolean om = apm_negotiate_quality (accept,
      "application/openmetrics-text", om_versions) >
      apm_negotiate_quality (accept, "text/plain", text_versions);
  gboolean gzip = encodings
      && apm_negotiate_quality (encodings, "gzip", NULL) > 0;
  gsize len;
  gchar *body;

  apm_status_refresh_metrics (service);
  body = apm_prometheus_render (apm_service_get_registry (service),
      om ? APM_EXPOSITION_OPENMETRICS : APM_EXPOSITION_TEXT, &len);
  soup_message_headers_append (resp, "Vary", "Accept, Accept-Encoding");
  if (gzip) {
    gsize zlen;
    guint8 *z = apm_gzip ((const guint8 *) body, len, &zlen);

    if (z) {
      g_free (body);
      body = (gchar *) z;
      len = zlen;
      soup_message_headers_replace (resp, "Content-Encoding", "gzip");
    }
  }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, om ? APM_OPENMETRICS_CONTENT_TYPE :
      APM_PROMETHEUS_CONTENT_TYPE, SOUP_MEMORY_TAKE, body, len);
}

/* the other monitored processes of this host (the registry), for the
 * dashboard's links; not their command lines, which may say more than a
 * remote reader should see */
static void
handle_instances (ApmService * service, SoupServerMessage * msg,
    const char *path, GHashTable * query)
{
  static const gchar *const shown[] = { "pid", "program", "url", "port",
    "started", NULL
  };
  JsonArray *all = apm_discovery_list (FALSE), *out = json_array_new ();
  JsonObject *root = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  for (guint i = 0; i < json_array_get_length (all); i++) {
    JsonObject *in = json_array_get_object_element (all, i), *o =
        json_object_new ();

    for (guint k = 0; shown[k]; k++)
      if (json_object_has_member (in, shown[k]))
        json_object_set_member (o, shown[k], json_node_copy
            (json_object_get_member (in, shown[k])));
    json_object_set_boolean_member (o, "self",
        json_object_get_int_member_with_default (in, "pid", 0) == getpid ());
    json_array_add_object_element (out, o);
  }
  json_object_set_array_member (root, "instances", out);
  json_node_take_object (node, root);
  respond_node (msg, node);
  json_array_unref (all);
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

static void
handle_ready (ApmService * service, SoupServerMessage * msg,
    const char *path, GHashTable * query)
{
  ApmHealthStatus st = apm_status_overall (service);
  gchar *text = g_strdup_printf ("{\"status\": \"%s\"}",
      st == APM_HEALTH_UNHEALTHY ? "not ready" : "ready");
  JsonNode *node = json_from_string (text, NULL);

  apm_http_respond_json (msg, st == APM_HEALTH_UNHEALTHY ?
      SOUP_STATUS_SERVICE_UNAVAILABLE : SOUP_STATUS_OK, node);
  json_node_unref (node);
  g_free (text);
}

static void
handle_status (ApmService * service, SoupServerMessage * msg,
    const char *path, GHashTable * query)
{
  respond_node (msg, apm_status_detailed (service));
}

static void
handle_pipelines (ApmService * service, SoupServerMessage * msg,
    const char *path, GHashTable * query)
{
  JsonObject *root = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_member (root, "pipelines",
      apm_service_describe_pipelines (service, NULL));
  json_node_take_object (node, root);
  respond_node (msg, node);
}

static void
handle_pipeline (ApmService * service, SoupServerMessage * msg,
    const char *path, GHashTable * query)
{
  /* the rest of the path, which libsoup has percent-decoded: a label
   * ("twin#2", requested as twin%232), maybe with a '/' (%2F) in it, as
   * GStreamer allows in names; never a file path, only compared */
  const gchar *tail = path + strlen ("/monitoring/pipelines/");
  const gchar *name = *tail ? tail : NULL;
  const gchar *format = query ? g_hash_table_lookup (query, "format") : NULL;
  JsonNode *node;

  if (format && g_strcmp0 (format, "dot") == 0) {
    gchar *dot = name ? apm_service_pipeline_dot (service, name) : NULL;

    if (!dot) {
      apm_http_respond_error (msg, SOUP_STATUS_NOT_FOUND, "no such pipeline");
      return;
    }
    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
    soup_server_message_set_response (msg, "text/vnd.graphviz; charset=utf-8",
        SOUP_MEMORY_TAKE, dot, strlen (dot));
    return;
  }
  if (format && g_strcmp0 (format, "json") != 0) {
    apm_http_respond_error (msg, SOUP_STATUS_BAD_REQUEST,
        "format must be json or dot");
    return;
  }
  node = name ? apm_service_describe_pipelines (service, name) : NULL;
  if (!node) {
    apm_http_respond_error (msg, SOUP_STATUS_NOT_FOUND, "no such pipeline");
    return;
  }
  respond_node (msg, node);
}

static void
handle_jobs (ApmService * service, SoupServerMessage * msg,
    const char *path, GHashTable * query)
{
  const gchar *problem = NULL;
  guint limit;

  if (!apm_query_limit (query, &limit, &problem)) {
    apm_http_respond_error (msg, SOUP_STATUS_BAD_REQUEST, problem);
    return;
  }
  respond_node (msg, apm_jobs_to_json (apm_service_get_jobs (service),
          limit));
}

/* ?by=LABEL (required), ?since=, ?baseline=VALUE */
static void
handle_jobs_compare (ApmService * service, SoupServerMessage * msg,
    const char *path, GHashTable * query)
{
  const gchar *by = query ? g_hash_table_lookup (query, "by") : NULL;
  const gchar *problem = NULL;
  gint64 since_us;
  JsonNode *node;

  if (!by || !*by) {
    apm_http_respond_error (msg, SOUP_STATUS_BAD_REQUEST, "by is required: "
        "the job label to group by (/monitoring/jobs/compare?by=variant)");
    return;
  }
  if (!apm_query_since (query, g_get_real_time (), &since_us, &problem)) {
    apm_http_respond_error (msg, SOUP_STATUS_BAD_REQUEST, problem);
    return;
  }
  node = apm_jobs_compare (apm_service_get_jobs (service), by, since_us,
      g_hash_table_lookup (query, "baseline"), &problem);
  if (!node) {
    apm_http_respond_error (msg, SOUP_STATUS_BAD_REQUEST, problem);
    return;
  }
  respond_node (msg, node);
}

static void
handle_job (ApmService * service, SoupServerMessage * msg,
    const char *path, GHashTable * query)
{
  const gchar *id = route_tail (path, "/monitoring/jobs/");
  JsonNode *node = id ? apm_jobs_lookup_json (apm_service_get_jobs (service),
      id) : NULL;

  if (!node) {
    apm_http_respond_error (msg, SOUP_STATUS_NOT_FOUND, "no such job");
    return;
  }
  respond_node (msg, node);
}

/* ?since=UNIX_SECONDS, or a negative number of seconds before now; the
 * other query parameters select labels: ?element=volume0 */
static void
handle_metric_history (ApmService * service, SoupServerMessage * msg,
    const char *path, GHashTable * query)
{
  const gchar *name = route_tail (path, "/monitoring/metrics/");
  const gchar *problem = NULL;
  GHashTable *filter = NULL;
  gint64 since_us, step_us;
  JsonNode *node;

  if (!apm_query_since (query, g_get_real_time (), &since_us, &problem)) {
    apm_http_respond_error (msg, SOUP_STATUS_BAD_REQUEST, problem);
    return;
  }
  if (!apm_query_step (query, &step_us, &problem)) {
    apm_http_respond_error (msg, SOUP_STATUS_BAD_REQUEST, problem);
    return;
  }
  if (query && g_hash_table_size (query) >
      (g_hash_table_contains (query, "since") ? 1u : 0u) +
      (g_hash_table_contains (query, "step") ? 1u : 0u)) {
    GHashTableIter it;
    gpointer k, v;

    filter = g_hash_table_new (g_str_hash, g_str_equal);
    g_hash_table_iter_init (&it, query);
    while (g_hash_table_iter_next (&it, &k, &v))
      if (strcmp (k, "since") != 0 && strcmp (k, "step") != 0)
        g_hash_table_insert (filter, k, v);
  }
  node = name ? apm_history_to_json (apm_service_get_registry (service), name,
      since_us, step_us, filter) : NULL;
  if (filter)
    g_hash_table_destroy (filter);
  if (!node) {
    apm_http_respond_error (msg, SOUP_STATUS_NOT_FOUND, "no such metric");
    return;
  }
  respond_node (msg, node);
}

/* the performance report (apm-report.c): ?format=html, ?since= */
static void
handle_report (ApmService * service, SoupServerMessage * msg,
    const char *path, GHashTable * query)
{
  apm_report_handle (service, msg, query);
}

static void
handle_alerts (ApmService * service, SoupServerMessage * msg,
    const char *path, GHashTable * query)
{
  respond_node (msg, apm_alerts_active_json (apm_service_get_alerts (service),
          FALSE));
}

static void
handle_alert_history (ApmService * service, SoupServerMessage * msg,
    const char *path, GHashTable * query)
{
  respond_node (msg, apm_alerts_history_json (apm_service_get_alerts
          (service)));
}

static void
handle_alert_rules (ApmService * service, SoupServerMessage * msg,
    const char *path, GHashTable * query)
{
  respond_node (msg, apm_alerts_rules_json (apm_service_get_alerts (service)));
}

static void
method_not_allowed (SoupServerMessage * msg, const gchar * allow)
{
  gchar *text = g_strdup_printf ("method %s not allowed here (allowed: %s)",
      soup_server_message_get_method (msg), allow);

  apm_http_respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, text);
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Allow", allow);
  g_free (text);
}

/* GET /monitoring/alerts/{id}, POST /monitoring/alerts/{id}/resolve */
static void
handle_alert (ApmService * service, SoupServerMessage * msg,
    const char *path, GHashTable * query)
{
  const gchar *tail = path + strlen ("/monitoring/alerts/");
  const gchar *method = soup_server_message_get_method (msg);
  const gchar *slash = strchr (tail, '/');
  ApmAlerts *alerts = apm_service_get_alerts (service);
  gchar *id;
  JsonNode *node = NULL;

  if (slash && strcmp (slash, "/resolve") == 0 && slash > tail) {
    if (strcmp (method, "POST") != 0) {
      method_not_allowed (msg, "POST");
      return;
    }
    id = g_strndup (tail, slash - tail);
    node = apm_alerts_resolve (alerts, id);
    if (!node) {
      gchar *text = g_strdup_printf ("no active alert with id '%s'", id);

      apm_http_respond_error (msg, SOUP_STATUS_NOT_FOUND, text);
      g_free (text);
    } else {
      respond_node (msg, node);
    }
    g_free (id);
    return;
  }
  if (slash || !*tail) {
    apm_http_respond_error (msg, SOUP_STATUS_NOT_FOUND, "no such resource");
    return;
  }
  if (strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0) {
    method_not_allowed (msg, "GET, HEAD");
    return;
  }
  /* an active alert, else one from the history */
  {
    JsonNode *lists[2] = { apm_alerts_active_json (alerts, FALSE),
      apm_alerts_history_json (alerts)
    };

    for (guint l = 0; l < 2 && !node; l++) {
      JsonArray *arr = json_object_get_array_member (json_node_get_object
          (lists[l]), "alerts");

      for (guint i = 0; i < json_array_get_length (arr) && !node; i++)
        if (g_strcmp0 (json_object_get_string_member
                (json_array_get_object_element (arr, i), "id"), tail) == 0)
          node = json_node_copy (json_array_get_element (arr, i));
    }
    json_node_unref (lists[0]);
    json_node_unref (lists[1]);
  }
  if (!node)
    apm_http_respond_error (msg, SOUP_STATUS_NOT_FOUND, "no such alert");
  else
    respond_node (msg, node);
}

/* ?level=warning&correlation_id=...&component=jobs&since=-60&limit=100 */
static void
handle_logs (ApmService * service, SoupServerMessage * msg,
    const char *path, GHashTable * query)
{
  const gchar *level_text = query ? g_hash_table_lookup (query, "level") :
      NULL;
  const gchar *problem = NULL;
  ApmLogLevel level = APM_LOG_DEBUG;
  gint64 since_us;
  guint limit;
  gchar *body;
  gsize len;

  if (level_text && !apm_log_level_from_string (level_text, &level))
    problem = "level must be debug, info, warning, error or critical";
  if (problem || !apm_query_since (query, g_get_real_time (), &since_us,
          &problem) || !apm_query_limit (query, &limit, &problem)) {
    apm_http_respond_error (msg, SOUP_STATUS_BAD_REQUEST, problem);
    return;
  }
  body = apm_log_query_text (apm_service_get_log (service), level,
      query ? g_hash_table_lookup (query, "correlation_id") : NULL,
      query ? g_hash_table_lookup (query, "component") : NULL, since_us,
      limit, &len);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json",
      SOUP_MEMORY_TAKE, body, len);
}

/* ?since=-3600&top=20: counts per minute by level and component, and the
 * most frequent message templates (apm-log-summary.h) */
static void
handle_logs_summary (ApmService * service, SoupServerMessage * msg,
    const char *path, GHashTable * query)
{
  const gchar *top_text = query ? g_hash_table_lookup (query, "top") : NULL;
  const gchar *problem = NULL;
  gint64 now = g_get_real_time (), since_us;
  guint64 top = 20;

  if (!apm_query_since (query, now, &since_us, &problem)) {
    apm_http_respond_error (msg, SOUP_STATUS_BAD_REQUEST, problem);
    return;
  }
  if (top_text && !g_ascii_string_to_unsigned (top_text, 10, 1, 100, &top,
          NULL)) {
    apm_http_respond_error (msg, SOUP_STATUS_BAD_REQUEST,
        "top must be a number from 1 to 100");
    return;
  }
  respond_node (msg, apm_log_summary_query (apm_log_get_summary
          (apm_service_get_log (service)), since_us, now, top));
}

/* Only the embedded resources, by a name of [a-z0-9._-]: never a file. */
static void
handle_dashboard (ApmService * service, SoupServerMessage * msg,
    const char *path, GHashTable * query)
{
  const gchar *name = "index.html";
  const gchar *type = "text/html; charset=utf-8";
  SoupMessageHeaders *h;
  gchar *rpath;
  GBytes *data;

  if (g_str_has_prefix (path, "/monitoring/dashboard/")) {
    name = path + strlen ("/monitoring/dashboard/");
    for (const gchar * c = name; *c; c++)
      if (!g_ascii_isalnum (*c) && *c != '.' && *c != '-' && *c != '_') {
        apm_http_respond_error (msg, SOUP_STATUS_NOT_FOUND,
            "no such resource");
        return;
      }
    if (!*name || name[0] == '.') {
      apm_http_respond_error (msg, SOUP_STATUS_NOT_FOUND, "no such resource");
      return;
    }
    if (g_str_has_suffix (name, ".js"))
      type = "text/javascript; charset=utf-8";
    else if (g_str_has_suffix (name, ".css"))
      type = "text/css; charset=utf-8";
    else if (g_str_has_suffix (name, ".svg"))
      type = "image/svg+xml";
    else if (!g_str_has_suffix (name, ".html"))
      type = "application/octet-stream";
  }
  rpath = g_strconcat ("/org/gstapm/dashboard/", name, NULL);
  data = g_resources_lookup_data (rpath, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  g_free (rpath);
  if (!data) {
    apm_http_respond_error (msg, SOUP_STATUS_NOT_FOUND, "no such resource");
    return;
  }
  h = soup_server_message_get_response_headers (msg);
  soup_message_headers_replace (h, "Content-Security-Policy",
      "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:;"
      " style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
  soup_message_headers_replace (h, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (h, "Cache-Control", "no-cache");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, type, SOUP_MEMORY_COPY,
      g_bytes_get_data (data, NULL), g_bytes_get_size (data));
  g_bytes_unref (data);
}

static const ApmRoute routes[] = {
  {"/monitoring/dashboard", "GET, HEAD", handle_dashboard},
  {"/monitoring/dashboard/", "GET, HEAD", handle_dashboard},
  {"/monitoring/logs", "GET, HEAD", handle_logs},
  {"/monitoring/logs/summary", "GET, HEAD", handle_logs_summary},
  {"/monitoring/alerts", "GET, HEAD", handle_alerts},
  {"/monitoring/alerts/history", "GET, HEAD", handle_alert_history},
  {"/monitoring/alerts/rules", "GET, HEAD", handle_alert_rules},
  {"/monitoring/alerts/", "GET, HEAD, POST", handle_alert},
  {"/monitoring/metrics/", "GET, HEAD", handle_metric_history},
  {"/metrics", "GET, HEAD", handle_metrics},
  {"/health/monitoring", "GET, HEAD", handle_health_monitoring},
  {"/health", "GET, HEAD", handle_liveness},
  {"/ready", "GET, HEAD", handle_ready},
  {"/monitoring/status", "GET, HEAD", handle_status},
  {"/monitoring/pipelines", "GET, HEAD", handle_pipelines},
  {"/monitoring/pipelines/", "GET, HEAD", handle_pipeline},
  {"/monitoring/jobs", "GET, HEAD", handle_jobs},
  /* before the prefix route of one job */
  {"/monitoring/jobs/compare", "GET, HEAD", handle_jobs_compare},
  {"/monitoring/instances", "GET, HEAD", handle_instances},
  {"/monitoring/jobs/", "GET, HEAD", handle_job},
  {"/monitoring/report", "GET, HEAD", handle_report},
};

static gboolean
method_allowed (const gchar * allow, const gchar * method)
{
  gchar **methods = g_strsplit (allow, ", ", -1);
  gboolean ok = g_strv_contains ((const gchar * const *) methods, method);

  g_strfreev (methods);
  return ok;
}

static const ApmRoute *
find_route (const char *path)
{
  for (guint i = 0; i < G_N_ELEMENTS (routes); i++) {
    const ApmRoute *r = &routes[i];
    gsize len = strlen (r->path);
    gboolean prefix = r->path[len - 1] == '/';

    if (prefix ? strncmp (path, r->path, len) == 0 && path[len] :
        strcmp (path, r->path) == 0)
      return r;
  }
  return NULL;
}

const gchar *
apm_api_route_allow (const char *path)
{
  const ApmRoute *r = find_route (path);

  return r ? r->allow : NULL;
}

void
apm_api_dispatch (ApmService * service, SoupServerMessage * msg,
    const char *path, GHashTable * query)
{
  const gchar *method = soup_server_message_get_method (msg);
  const ApmRoute *r = find_route (path);

  if (!r) {
    apm_http_respond_error (msg, SOUP_STATUS_NOT_FOUND, "no such resource");
    return;
  }
  if (!method_allowed (r->allow, method)) {
    method_not_allowed (msg, r->allow);
    return;
  }
  r->handler (service, msg, path, query);
}
