/* gst-apm: performance reports, assembled from the provider's pipelines
 * and what the core keeps (history, alerts, jobs)
 *
 * The rendering to HTML is apm-report-html.c.
 */
#include "apm-report.h"
#include "apm-history.h"
#include "apm-http.h"
#include "apm-query.h"
#include "apm-time.h"
#include "apm-json.h"

#include <math.h>
#include <string.h>

static GMutex provider_lock;
static ApmReportFunc provider;
static gpointer provider_data;

void
apm_report_set_provider (ApmService * service, ApmReportFunc func,
    gpointer user_data)
{
  g_mutex_lock (&provider_lock);
  provider = func;
  provider_data = user_data;
  g_mutex_unlock (&provider_lock);
}

JsonArray *
apm_report_pipelines (ApmService * service)
{
  ApmReportFunc func;
  gpointer data;

  g_mutex_lock (&provider_lock);
  func = provider;
  data = provider_data;
  g_mutex_unlock (&provider_lock);
  return func ? func (data) : json_array_new ();
}

/* RFC 3339 as the documents write it -> Unix microseconds, or 0 */
static gint64
parse_time (JsonObject * o, const gchar * member)
{
  return apm_time_parse (apm_json_string (o, member));
}

/* started before @until and not ended before @since */
static gboolean
in_window (JsonObject * o, const gchar * start, const gchar * end,
    gint64 since_us, gint64 until_us)
{
  gint64 s = parse_time (o, start), e = parse_time (o, end);

  return (s <= 0 || s <= until_us) && (e <= 0 || e >= since_us);
}

static void
add_alerts_of (JsonArray * out, JsonNode * doc, const gchar * pipeline,
    gint64 since_us, gint64 until_us)
{
  JsonArray *arr = json_object_get_array_member (json_node_get_object (doc),
      "alerts");

  for (guint i = 0; arr && i < json_array_get_length (arr); i++) {
    JsonObject *a = json_array_get_object_element (arr, i);
    JsonObject *labels = json_object_get_object_member (a, "labels");

    if (labels && g_strcmp0 (json_object_get_string_member_with_default
            (labels, "pipeline", NULL), pipeline) == 0
        && in_window (a, "started_at", "resolved_at", since_us, until_us))
      json_array_add_element (out, json_node_copy (json_array_get_element
              (arr, i)));
  }
}

static void
add_jobs_of (JsonArray * out, JsonNode * doc, const gchar * list,
    const gchar * pipeline, gint64 since_us, gint64 until_us)
{
  JsonArray *arr = json_object_get_array_member (json_node_get_object (doc),
      list);

  for (guint i = 0; arr && i < json_array_get_length (arr); i++) {
    JsonObject *j = json_array_get_object_element (arr, i);

    if (g_strcmp0 (json_object_get_string_member_with_default (j,
                "pipeline", NULL), pipeline) == 0
        && in_window (j, "started_at", "ended_at", since_us, until_us))
      json_array_add_element (out, json_node_copy (json_array_get_element
              (arr, i)));
  }
}

/* "value": the points as they are; "mean" (histograms): the mean of each
 * interval, from the changes of sum and count */
static JsonArray *
chart_points (JsonArray * points, gboolean mean)
{
  JsonArray *out = json_array_new ();
  gdouble prev_count = NAN, prev_sum = NAN;

  for (guint i = 0; i < json_array_get_length (points); i++) {
    JsonArray *p = json_array_get_array_element (points, i);
    gdouble t = json_array_get_double_element (p, 0);
    gdouble v = json_array_get_double_element (p, 1);
    JsonArray *pt;

    if (mean) {
      gdouble sum = json_array_get_length (p) > 2 ?
          json_array_get_double_element (p, 2) : 0;
      gdouble dc = v - prev_count, ds = sum - prev_sum;

      prev_count = v;
      prev_sum = sum;
      if (!(dc > 0))
        continue;
      v = ds / dc;
    }
    if (!isfinite (v))
      continue;
    pt = json_array_sized_new (2);
    json_array_add_double_element (pt, t);
    json_array_add_double_element (pt, v);
    json_array_add_array_element (out, pt);
  }
  return out;
}

static void
fill_chart (ApmRegistry * reg, JsonObject * chart, gint64 since_us)
{
  const gchar *metric = json_object_get_string_member_with_default (chart,
      "metric", NULL);
  JsonObject *labels = json_object_get_object_member (chart, "labels");
  gboolean mean = g_strcmp0 (json_object_get_string_member_with_default
      (chart, "kind", NULL), "mean") == 0;
  GHashTable *filter = g_hash_table_new (g_str_hash, g_str_equal);
  JsonArray *series = json_array_new ();
  JsonNode *doc;

  if (labels) {
    GList *names = json_object_get_members (labels);

    for (GList * l = names; l; l = l->next)
      g_hash_table_insert (filter, l->data, (gpointer)
          json_object_get_string_member_with_default (labels, l->data, ""));
    g_list_free (names);
  }
  /* the next report has points even if nobody asked before */
  doc = metric ? apm_history_to_json (reg, metric, since_us, 0, filter) :
      NULL;
  if (doc) {
    JsonArray *in = json_object_get_array_member (json_node_get_object (doc),
        "series");

    for (guint i = 0; in && i < json_array_get_length (in); i++) {
      JsonObject *s = json_array_get_object_element (in, i);
      JsonObject *o = json_object_new ();

      json_object_set_member (o, "labels", json_node_copy
          (json_object_get_member (s, "labels")));
      json_object_set_array_member (o, "points", chart_points
          (json_object_get_array_member (s, "points"), mean));
      json_array_add_object_element (series, o);
    }
    json_node_unref (doc);
  }
  json_object_set_array_member (chart, "series", series);
  g_hash_table_destroy (filter);
}

JsonNode *
apm_report_build (ApmService * service, JsonArray * pipelines,
    gint64 since_us, gint64 until_us)
{
  JsonObject *root = json_object_new (), *window = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  JsonNode *active = apm_alerts_active_json (apm_service_get_alerts (service),
      FALSE);
  JsonNode *history = apm_alerts_history_json (apm_service_get_alerts
      (service));
  JsonNode *jobs = apm_jobs_to_json (apm_service_get_jobs (service), 0);
  ApmRegistry *reg = apm_service_get_registry (service);
  gchar *t;

  apm_service_flush (service);
  json_object_set_string_member (root, "generated_at",
      (t = apm_time_format (g_get_real_time ())));
  g_free (t);
  json_object_set_string_member (window, "since",
      (t = apm_time_format (since_us)));
  g_free (t);
  json_object_set_string_member (window, "until",
      (t = apm_time_format (until_us)));
  g_free (t);
  json_object_set_double_member (window, "seconds",
      (until_us - since_us) / 1e6);
  json_object_set_object_member (root, "window", window);

  for (guint i = 0; i < json_array_get_length (pipelines); i++) {
    JsonObject *p = json_array_get_object_element (pipelines, i);
    const gchar *name = json_object_get_string_member_with_default (p, "name",
        NULL);
    JsonArray *charts = json_object_get_array_member (p, "charts");
    JsonArray *alerts = json_array_new (), *run_jobs = json_array_new ();

    for (guint c = 0; charts && c < json_array_get_length (charts); c++)
      fill_chart (reg, json_array_get_object_element (charts, c), since_us);
    add_alerts_of (alerts, active, name, since_us, until_us);
    add_alerts_of (alerts, history, name, since_us, until_us);
    add_jobs_of (run_jobs, jobs, "active", name, since_us, until_us);
    add_jobs_of (run_jobs, jobs, "finished", name, since_us, until_us);
    json_object_set_array_member (p, "alerts", alerts);
    json_object_set_array_member (p, "jobs", run_jobs);
  }
  json_object_set_array_member (root, "pipelines", pipelines);
  json_node_unref (active);
  json_node_unref (history);
  json_node_unref (jobs);
  json_node_take_object (node, root);
  return node;
}

/* the default window: the history's reach */
#define DEFAULT_WINDOW_US (G_GINT64_CONSTANT (1000) * G_USEC_PER_SEC)

void
apm_report_handle (ApmService * service, SoupServerMessage * msg,
    GHashTable * query)
{
  const gchar *format = query ? g_hash_table_lookup (query, "format") : NULL;
  const gchar *problem = NULL;
  gint64 now = g_get_real_time (), since_us;
  JsonNode *report;

  if (format && strcmp (format, "json") != 0 && strcmp (format, "html") != 0) {
    apm_http_respond_error (msg, SOUP_STATUS_BAD_REQUEST,
        "format must be json or html");
    return;
  }
  if (!apm_query_since (query, now, &since_us, &problem)) {
    apm_http_respond_error (msg, SOUP_STATUS_BAD_REQUEST, problem);
    return;
  }
  if (!query || !g_hash_table_contains (query, "since"))
    since_us = now - DEFAULT_WINDOW_US;
  if (since_us > now) {
    apm_http_respond_error (msg, SOUP_STATUS_BAD_REQUEST,
        "since is in the future");
    return;
  }
  report = apm_report_build (service, apm_report_pipelines (service),
      since_us, now);
  if (format && strcmp (format, "html") == 0) {
    gchar *html = apm_report_to_html (report);

    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Content-Security-Policy", "default-src 'none'; "
        "style-src 'unsafe-inline'; frame-ancestors 'none'");
    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
    soup_server_message_set_response (msg, "text/html; charset=utf-8",
        SOUP_MEMORY_TAKE, html, strlen (html));
  } else {
    apm_http_respond_json (msg, SOUP_STATUS_OK, report);
  }
  json_node_unref (report);
}
