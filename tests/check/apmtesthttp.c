/* gst-apm tests: a synchronous HTTP client for the service (JSON, text,
 * /metrics, and polling until a condition holds) */
#include "apmtestutil.h"

SoupSession *
apm_test_session_new (void)
{
  /* bounded: a hung server fails the test instead of blocking it */
  return soup_session_new_with_options ("timeout", APM_TEST_SCALED (10),
      "idle-timeout", APM_TEST_SCALED (10),
      NULL);
}

ApmTestResponse *
apm_test_http (SoupSession * session, const gchar * method,
    const gchar * base_url, const gchar * path)
{
  gchar *uri = g_strconcat (base_url, path, NULL);
  SoupMessage *msg = soup_message_new (method, uri);
  GError *error = NULL;
  ApmTestResponse *r;
  GBytes *body;

  fail_unless (msg != NULL, "bad URI %s", uri);
  body = soup_session_send_and_read (session, msg, NULL, &error);
  fail_unless (body != NULL, "%s %s failed: %s", method, uri,
      error ? error->message : "?");

  r = g_new0 (ApmTestResponse, 1);
  r->status = soup_message_get_status (msg);
  r->headers =
      soup_message_headers_ref (soup_message_get_response_headers (msg));
  r->content_type =
      g_strdup (soup_message_headers_get_one (r->headers, "Content-Type"));
  r->body = body;
  g_object_unref (msg);
  g_free (uri);
  return r;
}

void
apm_test_response_free (ApmTestResponse * r)
{
  soup_message_headers_unref (r->headers);
  g_free (r->content_type);
  g_bytes_unref (r->body);
  g_free (r);
}

JsonNode *
apm_test_parse_json (ApmTestResponse * r)
{
  JsonParser *parser = json_parser_new ();
  GError *error = NULL;
  gsize len;
  const gchar *data = g_bytes_get_data (r->body, &len);
  JsonNode *root;

  fail_unless (r->content_type && g_str_has_prefix (r->content_type,
          "application/json"), "content type '%s' is not JSON",
      GST_STR_NULL (r->content_type));
  fail_unless (json_parser_load_from_data (parser, data, len, &error),
      "body is not JSON (%s): %.*s", error ? error->message : "?", (int) len,
      data);
  root = json_node_copy (json_parser_get_root (parser));
  g_object_unref (parser);
  fail_unless (root != NULL, "empty JSON body");
  return root;
}

JsonNode *
apm_test_http_json (SoupSession * session, const gchar * method,
    const gchar * base_url, const gchar * path, guint expect_status)
{
  ApmTestResponse *r = apm_test_http (session, method, base_url, path);
  JsonNode *root;

  fail_unless (r->status == expect_status, "%s %s: status %u, expected %u: "
      "%.*s", method, path, r->status, expect_status,
      (int) MIN (g_bytes_get_size (r->body), 400),
      (const gchar *) g_bytes_get_data (r->body, NULL));
  root = apm_test_parse_json (r);
  apm_test_response_free (r);
  return root;
}

gchar *
apm_test_http_text (SoupSession * session, const gchar * base_url,
    const gchar * path, guint expect_status)
{
  ApmTestResponse *r = apm_test_http (session, "GET", base_url, path);
  gsize len;
  const gchar *data = g_bytes_get_data (r->body, &len);
  gchar *text = g_strndup (data, len);

  fail_unless (r->status == expect_status, "GET %s: status %u, expected %u: "
      "%.400s", path, r->status, expect_status, text);
  apm_test_response_free (r);
  return text;
}

JsonNode *
apm_test_wait_json (SoupSession * session, const gchar * base_url,
    const gchar * path, ApmTestJsonPredicate done, gpointer user_data,
    gint64 timeout_us)
{
  gint64 deadline = g_get_monotonic_time () + APM_TEST_SCALED (timeout_us);
  JsonNode *doc;

  for (;;) {
    doc = apm_test_http_json (session, "GET", base_url, path, 200);
    if (done (doc, user_data) || g_get_monotonic_time () >= deadline)
      return doc;
    json_node_unref (doc);
    g_usleep (20 * 1000);
  }
}

JsonObject *
apm_test_wait_alert (SoupSession * session, const gchar * base_url,
    const gchar * path, const gchar * rule, const gchar * label,
    const gchar * value, const gchar * state, gint64 timeout_us)
{
  ApmTestAlertQuery q = { rule, label, value, state, NULL, FALSE };
  JsonNode *doc = apm_test_wait_json (session, base_url, path,
      apm_test_alert_matches, &q, timeout_us);
  JsonObject *a = apm_test_find_alert (doc, rule, label, value);
  gchar *text = json_to_string (doc, TRUE);

  fail_unless (apm_test_alert_matches (doc, &q), "no %s alert %s%s%s%s in %s "
      "within %.1f s: %s", state ? state : "", rule, label ? " with " : "",
      label ? label : "", label ? value : "", path,
      APM_TEST_SCALED (timeout_us) / (gdouble) G_USEC_PER_SEC, text);
  g_free (text);
  json_object_ref (a);
  json_node_unref (doc);
  return a;
}

GHashTable *
apm_test_fetch_metrics (SoupSession * session, const gchar * base_url)
{
  ApmTestResponse *r = apm_test_http (session, "GET", base_url, "/metrics");
  GHashTable *metrics;
  gsize len;
  const gchar *data = g_bytes_get_data (r->body, &len);
  gchar *text;

  fail_unless_equals_int (r->status, 200);
  fail_unless (r->content_type && g_str_has_prefix (r->content_type,
          "text/plain; version=0.0.4"), "metrics content type '%s'",
      GST_STR_NULL (r->content_type));
  text = g_strndup (data, len);
  fail_unless (g_utf8_validate (text, -1, NULL), "metrics are not UTF-8");
  metrics = apm_test_parse_metrics (text);
  g_free (text);
  apm_test_response_free (r);
  return metrics;
}

GHashTable *
apm_test_wait_metrics (SoupSession * session, const gchar * base_url,
    ApmTestMetricsPredicate done, gpointer user_data, gint64 timeout_us)
{
  gint64 deadline = g_get_monotonic_time () + APM_TEST_SCALED (timeout_us);
  GHashTable *metrics;

  for (;;) {
    metrics = apm_test_fetch_metrics (session, base_url);
    if (done (metrics, user_data) || g_get_monotonic_time () >= deadline)
      return metrics;
    g_hash_table_unref (metrics);
    g_usleep (20 * 1000);
  }
}
