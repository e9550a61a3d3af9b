/* gst-apm tests: shared helpers (pipelines, HTTP client, metrics parser) */
#include "apmtestutil.h"
#include "apm-service.h"

#include <stdlib.h>

#include <string.h>

void
apm_test_prepare_env (const gchar * tracers)
{
  /* a whitelist would keep our plugin out; meson 1.0 cannot unset it */
  g_unsetenv ("GST_PLUGIN_LOADING_WHITELIST");
  if (tracers)
    g_setenv ("GST_TRACERS", tracers, TRUE);
}

GstElement *
apm_test_parse (const gchar * description, const gchar * name)
{
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch (description, &error);

  fail_unless (pipeline != NULL, "could not parse '%s': %s", description,
      error ? error->message : "?");
  fail_unless (error == NULL, "parse warning for '%s': %s", description,
      error ? error->message : "?");
  fail_unless (GST_IS_PIPELINE (pipeline), "'%s' is not a pipeline",
      description);
  if (name)
    fail_unless (gst_object_set_name (GST_OBJECT (pipeline), name));
  return pipeline;
}

void
apm_test_wait (GstElement * pipeline, gboolean expect_error, gchar ** url,
    guint * port, GPtrArray * warnings)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  gboolean seen_service = FALSE;
  gboolean done = FALSE;

  if (url)
    *url = NULL;
  if (port)
    *port = 0;

  while (!done) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, APM_TEST_BUS_TIMEOUT,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_WARNING |
        GST_MESSAGE_ELEMENT);
    GError *err = NULL;
    gchar *dbg = NULL;

    fail_unless (msg != NULL, "%s: no %s within %" GST_TIME_FORMAT,
        GST_OBJECT_NAME (pipeline), expect_error ? "ERROR" : "EOS",
        GST_TIME_ARGS (APM_TEST_BUS_TIMEOUT));

    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_EOS:
        fail_if (expect_error, "%s: EOS where an ERROR was expected",
            GST_OBJECT_NAME (pipeline));
        done = TRUE;
        break;
      case GST_MESSAGE_ERROR:
        gst_message_parse_error (msg, &err, &dbg);
        fail_unless (expect_error, "%s: ERROR from %s: %s (%s)",
            GST_OBJECT_NAME (pipeline), GST_MESSAGE_SRC_NAME (msg),
            err->message, GST_STR_NULL (dbg));
        done = TRUE;
        break;
      case GST_MESSAGE_WARNING:
        gst_message_parse_warning (msg, &err, &dbg);
        fail_unless (warnings != NULL, "%s: unexpected WARNING from %s: %s",
            GST_OBJECT_NAME (pipeline), GST_MESSAGE_SRC_NAME (msg),
            err->message);
        g_ptr_array_add (warnings, g_strdup (err->message));
        break;
      case GST_MESSAGE_ELEMENT:{
        const GstStructure *s = gst_message_get_structure (msg);

        if (s && gst_structure_has_name (s, "apm-service")) {
          guint p = 0;

          fail_if (seen_service, "%s: two apm-service messages",
              GST_OBJECT_NAME (pipeline));
          seen_service = TRUE;
          fail_unless (GST_MESSAGE_SRC (msg) == GST_OBJECT (pipeline),
              "apm-service posted by %s, not the pipeline",
              GST_MESSAGE_SRC_NAME (msg));
          fail_unless (gst_structure_has_field_typed (s, "url",
                  G_TYPE_STRING), "apm-service without a string url: %"
              GST_PTR_FORMAT, s);
          fail_unless (gst_structure_get_uint (s, "port", &p),
              "apm-service without a uint port: %" GST_PTR_FORMAT, s);
          if (url)
            *url = g_strdup (gst_structure_get_string (s, "url"));
          if (port)
            *port = p;
        }
        break;
      }
      default:
        break;
    }
    g_clear_error (&err);
    g_free (dbg);
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  /* the tracer posts nothing on the bus by default: ask the service */
  if (!seen_service) {
    ApmService *service = apm_service_get_default ();

    if (url)
      *url = apm_service_get_url (service);
    if (port)
      *port = apm_service_get_port (service);
  }
}

void
apm_test_run_to_eos (GstElement * pipeline, gchar ** url, guint * port)
{
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE, "%s could not go to PLAYING",
      GST_OBJECT_NAME (pipeline));
  apm_test_wait (pipeline, FALSE, url, port, NULL);
}

void
apm_test_stop (GstElement * pipeline)
{
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (pipeline);
}

/* pipelines whose test has not stopped them yet (see the header) */
static GSList *tracked_pipelines;

GstElement *
apm_test_track (GstElement * pipeline)
{
  tracked_pipelines = g_slist_prepend (tracked_pipelines, pipeline);
  return pipeline;
}

GstElement *
apm_test_parse_tracked (const gchar * description, const gchar * name)
{
  return apm_test_track (apm_test_parse (description, name));
}

void
apm_test_stop_untrack (GstElement * pipeline)
{
  apm_test_stop (pipeline);
  /* only now: when stopping fails, the teardown tries again */
  tracked_pipelines = g_slist_remove (tracked_pipelines, pipeline);
}

void
apm_test_stop_tracked (void)
{
  GSList *l;

  for (l = tracked_pipelines; l; l = l->next) {
    GstElement *pipeline = l->data;

    GST_INFO ("stopping %s, left behind by its test",
        GST_OBJECT_NAME (pipeline));
    gst_element_set_state (pipeline, GST_STATE_NULL);
    gst_object_unref (pipeline);
  }
  g_slist_free (tracked_pipelines);
  tracked_pipelines = NULL;
}

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

/* --- Prometheus text --- */

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar **) a, *(const gchar **) b);
}

/* Builds the lookup key from a name and "k=\"v\"" pairs (sorted here). */
static gchar *
make_key (const gchar * name, GPtrArray * pairs)
{
  GString *key = g_string_new (name);

  if (pairs->len == 0)
    return g_string_free (key, FALSE);
  g_ptr_array_sort (pairs, compare_strings);
  g_string_append_c (key, '{');
  for (guint i = 0; i < pairs->len; i++) {
    if (i)
      g_string_append_c (key, ',');
    g_string_append (key, g_ptr_array_index (pairs, i));
  }
  g_string_append_c (key, '}');
  return g_string_free (key, FALSE);
}

static gboolean
is_name_char (gchar c, gboolean first)
{
  return g_ascii_isalpha (c) || c == '_' || c == ':' || (!first
      && g_ascii_isdigit (c));
}

/* The family a sample belongs to, if it was declared with # TYPE. */
static gboolean
sample_has_type (GHashTable * types, const gchar * name)
{
  static const gchar *suffixes[] = { "_bucket", "_sum", "_count", NULL };

  if (g_hash_table_contains (types, name))
    return TRUE;
  for (guint i = 0; suffixes[i]; i++) {
    if (g_str_has_suffix (name, suffixes[i])) {
      gchar *base = g_strndup (name, strlen (name) - strlen (suffixes[i]));
      const gchar *type = g_hash_table_lookup (types, base);
      gboolean ok = type && (strcmp (type, "histogram") == 0
          || strcmp (type, "summary") == 0);

      g_free (base);
      if (ok)
        return TRUE;
    }
  }
  return FALSE;
}

static void
parse_sample (GHashTable * table, GHashTable * types, const gchar * line)
{
  const gchar *p = line;
  GPtrArray *pairs = g_ptr_array_new_with_free_func (g_free);
  gchar *name, *key, *end = NULL;
  gdouble value, *stored;

  fail_unless (is_name_char (*p, TRUE), "bad metric line: '%s'", line);
  while (is_name_char (*p, FALSE))
    p++;
  name = g_strndup (line, p - line);

  if (*p == '{') {
    p++;
    while (*p != '}') {
      const gchar *k = p;
      GString *v = g_string_new (NULL);
      gchar *kname;

      fail_unless (is_name_char (*p, TRUE), "bad label in '%s'", line);
      while (is_name_char (*p, FALSE) && *p != ':')
        p++;
      kname = g_strndup (k, p - k);
      fail_unless (p[0] == '=' && p[1] == '"', "bad label in '%s'", line);
      p += 2;
      while (*p != '"') {
        fail_unless (*p != '\0', "unterminated label value in '%s'", line);
        if (*p == '\\') {
          p++;
          fail_unless (*p == '\\' || *p == '"' || *p == 'n',
              "bad escape in '%s'", line);
          g_string_append_c (v, *p == 'n' ? '\n' : *p);
        } else {
          g_string_append_c (v, *p);
        }
        p++;
      }
      p++;
      g_ptr_array_add (pairs, g_strdup_printf ("%s=\"%s\"", kname, v->str));
      g_free (kname);
      g_string_free (v, TRUE);
      if (*p == ',')
        p++;
      else
        fail_unless (*p == '}', "bad label list in '%s'", line);
    }
    p++;
  }
  fail_unless (*p == ' ', "no value in '%s'", line);
  p++;
  value = g_ascii_strtod (p, &end);
  fail_unless (end != p && (*end == '\0' || *end == ' '),
      "bad value in '%s'", line);

  fail_unless (sample_has_type (types, name), "sample before its # TYPE: "
      "'%s'", line);
  key = make_key (name, pairs);
  fail_if (g_hash_table_contains (table, key), "duplicate series %s", key);
  stored = g_new (gdouble, 1);
  *stored = value;
  g_hash_table_insert (table, key, stored);
  g_free (name);
  g_ptr_array_unref (pairs);
}

GHashTable *
apm_test_parse_metrics (const gchar * text)
{
  GHashTable *table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  GHashTable *types = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  gchar **lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i]; i++) {
    const gchar *line = lines[i];

    if (*line == '\0')
      continue;
    if (g_str_has_prefix (line, "# TYPE ")) {
      gchar **f = g_strsplit (line + 7, " ", -1);

      fail_unless (g_strv_length (f) == 2, "bad TYPE line '%s'", line);
      fail_if (g_hash_table_contains (types, f[0]), "family %s declared "
          "twice", f[0]);
      g_hash_table_insert (types, g_strdup (f[0]), g_strdup (f[1]));
      g_strfreev (f);
      continue;
    }
    if (*line == '#')
      continue;
    parse_sample (table, types, line);
  }
  g_strfreev (lines);
  g_hash_table_unref (types);
  return table;
}

gboolean
apm_test_pad_value (GHashTable * metrics, const gchar * family,
    const gchar * pipeline, const gchar * element, const gchar * pad,
    gdouble * value)
{
  gchar *key = g_strdup_printf ("%s{element=\"%s\",pad=\"%s\","
      "pipeline=\"%s\"}", family, element, pad, pipeline);
  gdouble *v = g_hash_table_lookup (metrics, key);

  g_free (key);
  if (!v)
    return FALSE;
  if (value)
    *value = *v;
  return TRUE;
}

guint
apm_test_count_series (GHashTable * metrics, const gchar * family,
    const gchar * pipeline)
{
  gchar *prefix = g_strdup_printf ("%s{", family);
  gchar *needle = g_strdup_printf ("pipeline=\"%s\"", pipeline);
  GHashTableIter it;
  const gchar *key;
  guint n = 0;

  g_hash_table_iter_init (&it, metrics);
  while (g_hash_table_iter_next (&it, (gpointer *) & key, NULL)) {
    if (g_str_has_prefix (key, prefix) && strstr (key, needle))
      n++;
  }
  g_free (prefix);
  g_free (needle);
  return n;
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

gchar *
apm_test_element_path (GstElement * element)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  GstObject *obj = gst_object_ref (GST_OBJECT (element)), *parent;
  GString *path = g_string_new (NULL);

  while ((parent = gst_object_get_parent (obj))) {
    g_ptr_array_add (names, gst_object_get_name (obj));
    gst_object_unref (obj);
    obj = parent;
  }
  gst_object_unref (obj);
  for (guint i = names->len; i > 0; i--) {
    g_string_append (path, g_ptr_array_index (names, i - 1));
    if (i > 1)
      g_string_append_c (path, '/');
  }
  g_ptr_array_unref (names);
  return g_string_free (path, FALSE);
}

gboolean
apm_test_metric_valuev (GHashTable * metrics, gdouble * value,
    const gchar * name, const gchar * const *labels)
{
  GPtrArray *pairs = g_ptr_array_new_with_free_func (g_free);
  gchar *key;
  gdouble *v;

  for (guint i = 0; labels && labels[i]; i += 2) {
    fail_unless (labels[i + 1] != NULL, "label %s without a value",
        labels[i]);
    g_ptr_array_add (pairs, g_strdup_printf ("%s=\"%s\"", labels[i],
            labels[i + 1]));
  }
  key = make_key (name, pairs);
  v = g_hash_table_lookup (metrics, key);
  g_free (key);
  g_ptr_array_unref (pairs);
  if (!v)
    return FALSE;
  if (value)
    *value = *v;
  return TRUE;
}

gboolean
apm_test_metric_value (GHashTable * metrics, gdouble * value,
    const gchar * name, ...)
{
  GPtrArray *labels = g_ptr_array_new ();
  va_list args;
  const gchar *k;
  gboolean found;

  va_start (args, name);
  while ((k = va_arg (args, const gchar *))) {
    g_ptr_array_add (labels, (gpointer) k);
    g_ptr_array_add (labels, va_arg (args, gpointer));
  }
  va_end (args);
  g_ptr_array_add (labels, NULL);
  found = apm_test_metric_valuev (metrics, value, name,
      (const gchar * const *) labels->pdata);
  g_ptr_array_unref (labels);
  return found;
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

/* --- JSON endpoints (alerts, health) --- */

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

static JsonObject *
find_alert (JsonNode * doc, const gchar * rule, const gchar * label,
    const gchar * value, const gchar * id)
{
  JsonArray *arr;

  fail_unless (doc && JSON_NODE_HOLDS_OBJECT (doc), "not a JSON object");
  arr = json_object_get_array_member (json_node_get_object (doc), "alerts");
  fail_unless (arr != NULL, "no \"alerts\" array");
  for (guint i = 0; i < json_array_get_length (arr); i++) {
    JsonObject *a = json_array_get_object_element (arr, i);
    JsonObject *labels;

    fail_unless (a != NULL, "alerts[%u] is not an object", i);
    if (id) {
      if (g_strcmp0 (json_object_get_string_member (a, "id"), id) == 0)
        return a;
      continue;
    }
    if (rule && g_strcmp0 (json_object_get_string_member (a, "rule"),
            rule) != 0)
      continue;
    if (!label)
      return a;
    labels = json_object_get_object_member (a, "labels");
    if (labels && json_object_has_member (labels, label)
        && g_strcmp0 (json_object_get_string_member (labels, label),
            value) == 0)
      return a;
  }
  return NULL;
}

JsonObject *
apm_test_find_alert (JsonNode * doc, const gchar * rule, const gchar * label,
    const gchar * value)
{
  return find_alert (doc, rule, label, value, NULL);
}

JsonObject *
apm_test_find_alert_id (JsonNode * doc, const gchar * id)
{
  return find_alert (doc, NULL, NULL, NULL, id);
}

gint64
apm_test_parse_time (const gchar * text)
{
  static GRegex *re;
  GDateTime *dt;
  gint64 us;

  if (g_once_init_enter (&re)) {
    GRegex *r = g_regex_new ("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
        "[0-9]{2}\\.[0-9]{6}Z$", 0, 0, NULL);

    g_once_init_leave (&re, r);
  }
  fail_unless (text != NULL, "no time");
  fail_unless (g_regex_match (re, text, 0, NULL), "time '%s' is not RFC 3339 "
      "UTC with 6 fractional digits and Z", text);
  dt = g_date_time_new_from_iso8601 (text, NULL);
  fail_unless (dt != NULL, "time '%s' does not parse", text);
  us = g_date_time_to_unix (dt) * G_USEC_PER_SEC +
      g_date_time_get_microsecond (dt);
  g_date_time_unref (dt);
  return us;
}

/* --- live pipelines and the WebSocket feed --- */

gchar *
apm_test_play_live (GstElement * pipeline)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  gchar *url = NULL;
  gboolean seen = FALSE;

  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE, "%s could not go to PLAYING",
      GST_OBJECT_NAME (pipeline));
  /* the service starts (and listens) when the pipeline goes to READY */
  url = apm_service_get_url (apm_service_get_default ());
  {
    GstMessage *msg = gst_bus_pop_filtered (bus,
        GST_MESSAGE_ERROR | GST_MESSAGE_EOS);

    if (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *err = NULL;

      gst_message_parse_error (msg, &err, NULL);
      fail ("%s: ERROR from %s: %s", GST_OBJECT_NAME (pipeline),
          GST_MESSAGE_SRC_NAME (msg), err->message);
    }
    fail_if (msg != NULL, "%s: EOS before PLAYING",
        GST_OBJECT_NAME (pipeline));
  }
  (void) seen;
  gst_object_unref (bus);
  fail_unless (url != NULL, "%s: the service is not listening",
      GST_OBJECT_NAME (pipeline));
  /* the message comes at NULL -> READY: wait for PLAYING too */
  {
    GstState state = GST_STATE_VOID_PENDING;

    fail_unless (gst_element_get_state (pipeline, &state, NULL,
            APM_TEST_BUS_TIMEOUT) != GST_STATE_CHANGE_FAILURE,
        "%s could not go to PLAYING", GST_OBJECT_NAME (pipeline));
    fail_unless (state == GST_STATE_PLAYING, "%s is %s, not PLAYING",
        GST_OBJECT_NAME (pipeline), gst_element_state_get_name (state));
  }
  return url;
}

void
apm_test_check_log_line (JsonObject * line)
{
  static const gchar *fields[] = { "timestamp", "level", "component",
    "message", "correlation_id", "context"
  };
  static const gchar *levels[] = { "debug", "info", "warning", "error",
    "critical", NULL
  };
  JsonNode *n;

  fail_unless_equals_int (json_object_get_size (line), G_N_ELEMENTS (fields));
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++) {
    n = json_object_get_member (line, fields[i]);
    fail_unless (n != NULL, "log line without %s", fields[i]);
    if (i == 4)
      fail_unless (JSON_NODE_HOLDS_NULL (n) || (JSON_NODE_HOLDS_VALUE (n)
              && json_node_get_value_type (n) == G_TYPE_STRING),
          "correlation_id is neither a string nor null");
    else if (i == 5)
      fail_unless (JSON_NODE_HOLDS_OBJECT (n), "context is not an object");
    else
      fail_unless (JSON_NODE_HOLDS_VALUE (n)
          && json_node_get_value_type (n) == G_TYPE_STRING,
          "%s is not a string", fields[i]);
  }
  apm_test_parse_time (json_object_get_string_member (line, "timestamp"));
  fail_unless (g_strv_contains (levels, json_object_get_string_member (line,
              "level")), "bad level '%s'", json_object_get_string_member (line,
          "level"));
  fail_unless (*json_object_get_string_member (line, "component") != '\0',
      "empty component");
}

guint64
apm_test_self_rss (void)
{
  gchar *text = NULL, *p;
  guint64 kb = 0;

  fail_unless (g_file_get_contents ("/proc/self/status", &text, NULL, NULL));
  p = strstr (text, "\nVmRSS:");
  fail_unless (p != NULL, "no VmRSS in /proc/self/status");
  kb = g_ascii_strtoull (p + 7, NULL, 10);
  g_free (text);
  return kb * 1024;
}

struct _ApmTestWs
{
  GMainContext *context;
  SoupSession *session;
  SoupWebsocketConnection *conn;
  GError *error;
  gboolean connect_done;
  gboolean closed;
  GQueue messages;              /* ApmTestWsMessage */
};

void
apm_test_ws_message_free (ApmTestWsMessage * m)
{
  if (!m)
    return;
  if (m->root)
    json_node_unref (m->root);
  g_free (m->text);
  g_free (m);
}

static void
ws_on_message (SoupWebsocketConnection * conn, gint type, GBytes * message,
    gpointer user_data)
{
  ApmTestWs *ws = user_data;
  ApmTestWsMessage *m = g_new0 (ApmTestWsMessage, 1);
  JsonParser *parser = json_parser_new ();
  gsize len;
  const gchar *data = g_bytes_get_data (message, &len);

  m->arrival_us = g_get_monotonic_time ();
  m->text = g_strndup (data, len);
  if (type == SOUP_WEBSOCKET_DATA_TEXT
      && json_parser_load_from_data (parser, m->text, len, NULL)
      && json_parser_get_root (parser)) {
    m->root = json_node_copy (json_parser_get_root (parser));
    if (JSON_NODE_HOLDS_OBJECT (m->root)) {
      JsonNode *t = json_object_get_member (json_node_get_object (m->root),
          "type");

      if (t && JSON_NODE_HOLDS_VALUE (t)
          && json_node_get_value_type (t) == G_TYPE_STRING)
        m->type = json_node_get_string (t);
    }
  }
  g_object_unref (parser);
  g_queue_push_tail (&ws->messages, m);
}

static void
ws_on_closed (SoupWebsocketConnection * conn, gpointer user_data)
{
  ApmTestWs *ws = user_data;

  ws->closed = TRUE;
}

static void
ws_on_connected (GObject * source, GAsyncResult * res, gpointer user_data)
{
  ApmTestWs *ws = user_data;

  ws->conn = soup_session_websocket_connect_finish (SOUP_SESSION (source),
      res, &ws->error);
  if (ws->conn) {
    /* monitoring documents can be large */
    soup_websocket_connection_set_max_incoming_payload_size (ws->conn,
        64 * 1024 * 1024);
    g_signal_connect (ws->conn, "message", G_CALLBACK (ws_on_message), ws);
    g_signal_connect (ws->conn, "closed", G_CALLBACK (ws_on_closed), ws);
  }
  ws->connect_done = TRUE;
}

static gboolean
ws_deadline_reached (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

typedef gboolean (*WsCondition) (ApmTestWs * ws, gpointer data);

/* Iterates the client's context until @cond holds or @deadline_us. */
static gboolean
ws_iterate (ApmTestWs * ws, WsCondition cond, gpointer data,
    gint64 deadline_us)
{
  gboolean ok;

  g_main_context_push_thread_default (ws->context);
  /* what is ready now, first */
  while (g_main_context_iteration (ws->context, FALSE));
  while (!(ok = cond && cond (ws, data))) {
    gint64 now = g_get_monotonic_time ();
    gboolean timed_out = FALSE;
    GSource *timeout;

    if (now >= deadline_us)
      break;
    timeout = g_timeout_source_new ((deadline_us - now + 999) / 1000);
    g_source_set_callback (timeout, ws_deadline_reached, &timed_out, NULL);
    g_source_attach (timeout, ws->context);
    g_main_context_iteration (ws->context, TRUE);
    g_source_destroy (timeout);
    g_source_unref (timeout);
  }
  g_main_context_pop_thread_default (ws->context);
  return ok;
}

static gboolean
ws_cond_connected (ApmTestWs * ws, gpointer data)
{
  return ws->connect_done;
}

ApmTestWs *
apm_test_ws_connect (const gchar * base_url, const gchar * path)
{
  ApmTestWs *ws = g_new0 (ApmTestWs, 1);
  gchar *uri;
  SoupMessage *msg;

  fail_unless (g_str_has_prefix (base_url, "http://"), "bad base URL %s",
      base_url);
  uri = g_strconcat ("ws://", base_url + strlen ("http://"), path, NULL);
  ws->context = g_main_context_new ();
  g_queue_init (&ws->messages);
  g_main_context_push_thread_default (ws->context);
  ws->session = soup_session_new_with_options ("timeout", 10, NULL);
  msg = soup_message_new ("GET", uri);
  fail_unless (msg != NULL, "bad URI %s", uri);
  soup_session_websocket_connect_async (ws->session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, NULL, ws_on_connected, ws);
  g_object_unref (msg);
  g_main_context_pop_thread_default (ws->context);
  ws_iterate (ws, ws_cond_connected, NULL, g_get_monotonic_time () +
      APM_TEST_SCALED (10 * G_USEC_PER_SEC));
  fail_unless (ws->connect_done, "WebSocket %s: no connection within 10 s",
      uri);
  fail_unless (ws->conn != NULL, "WebSocket %s: %s", uri,
      ws->error ? ws->error->message : "?");
  g_free (uri);
  return ws;
}

static gboolean
ws_cond_message (ApmTestWs * ws, gpointer data)
{
  return !g_queue_is_empty (&ws->messages) || ws->closed;
}

ApmTestWsMessage *
apm_test_ws_next (ApmTestWs * ws, gint64 deadline_us)
{
  ws_iterate (ws, ws_cond_message, NULL, deadline_us);
  return g_queue_pop_head (&ws->messages);
}

ApmTestWsMessage *
apm_test_ws_wait_type (ApmTestWs * ws, const gchar * type,
    gint64 deadline_us)
{
  ApmTestWsMessage *m;

  while ((m = apm_test_ws_next (ws, deadline_us))) {
    if (g_strcmp0 (m->type, type) == 0)
      return m;
    apm_test_ws_message_free (m);
  }
  return NULL;
}

void
apm_test_ws_pump (ApmTestWs * ws, gint64 deadline_us)
{
  ws_iterate (ws, NULL, NULL, deadline_us);
}

guint
apm_test_ws_drain (ApmTestWs * ws)
{
  guint n = 0;
  ApmTestWsMessage *m;

  while ((m = g_queue_pop_head (&ws->messages))) {
    apm_test_ws_message_free (m);
    n++;
  }
  return n;
}

void
apm_test_ws_send_text (ApmTestWs * ws, const gchar * text)
{
  fail_unless (soup_websocket_connection_get_state (ws->conn) ==
      SOUP_WEBSOCKET_STATE_OPEN, "sending on a WebSocket that is not open");
  g_main_context_push_thread_default (ws->context);
  soup_websocket_connection_send_text (ws->conn, text);
  g_main_context_pop_thread_default (ws->context);
}

void
apm_test_ws_send_binary (ApmTestWs * ws, gconstpointer data, gsize len)
{
  fail_unless (soup_websocket_connection_get_state (ws->conn) ==
      SOUP_WEBSOCKET_STATE_OPEN, "sending on a WebSocket that is not open");
  g_main_context_push_thread_default (ws->context);
  soup_websocket_connection_send_binary (ws->conn, data, len);
  g_main_context_pop_thread_default (ws->context);
}

gboolean
apm_test_ws_is_open (ApmTestWs * ws)
{
  ws_iterate (ws, NULL, NULL, 0);
  return !ws->closed && soup_websocket_connection_get_state (ws->conn) ==
      SOUP_WEBSOCKET_STATE_OPEN;
}

static gboolean
ws_cond_closed (ApmTestWs * ws, gpointer data)
{
  return ws->closed;
}

gboolean
apm_test_ws_wait_closed (ApmTestWs * ws, gint64 deadline_us, gushort * code)
{
  gboolean closed = ws_iterate (ws, ws_cond_closed, NULL, deadline_us);

  if (code)
    *code = closed ? soup_websocket_connection_get_close_code (ws->conn) : 0;
  return closed;
}

static void
ws_destroy (ApmTestWs * ws)
{
  if (ws->conn) {
    g_signal_handlers_disconnect_by_data (ws->conn, ws);
    g_object_unref (ws->conn);
  }
  g_object_unref (ws->session);
  /* let the session's sources finish with the objects */
  g_main_context_push_thread_default (ws->context);
  while (g_main_context_iteration (ws->context, FALSE));
  g_main_context_pop_thread_default (ws->context);
  g_main_context_unref (ws->context);
  apm_test_ws_drain (ws);
  g_clear_error (&ws->error);
  g_free (ws);
}

void
apm_test_ws_abort (ApmTestWs * ws)
{
  GIOStream *io = soup_websocket_connection_get_io_stream (ws->conn);

  g_main_context_push_thread_default (ws->context);
  g_io_stream_close (io, NULL, NULL);
  g_main_context_pop_thread_default (ws->context);
  ws_iterate (ws, ws_cond_closed, NULL, g_get_monotonic_time () +
      APM_TEST_SCALED (G_USEC_PER_SEC));
  ws_destroy (ws);
}

void
apm_test_ws_free (ApmTestWs * ws)
{
  if (!ws)
    return;
  if (!ws->closed && soup_websocket_connection_get_state (ws->conn) ==
      SOUP_WEBSOCKET_STATE_OPEN) {
    g_main_context_push_thread_default (ws->context);
    soup_websocket_connection_close (ws->conn, SOUP_WEBSOCKET_CLOSE_NORMAL,
        NULL);
    g_main_context_pop_thread_default (ws->context);
  }
  ws_iterate (ws, ws_cond_closed, NULL, g_get_monotonic_time () +
      APM_TEST_SCALED (5 * G_USEC_PER_SEC));
  ws_destroy (ws);
}

gint
apm_test_time_scale (void)
{
  const gchar *m = g_getenv ("CK_TIMEOUT_MULTIPLIER");
  gint v = m ? atoi (m) : 1;

  return CLAMP (v, 1, 100);
}

gchar *
apm_test_start_service (void)
{
  ApmService *service = apm_service_get_default ();
  GError *error = NULL;
  gchar *url;

  fail_unless (apm_service_ensure_started (service, &error),
      "service not started: %s", error ? error->message : "?");
  url = apm_service_get_url (service);
  fail_unless (url != NULL, "the service has no URL");
  return url;
}

/* --- JSON members --- */

JsonObject *
apm_test_member_object (JsonObject * o, const gchar * name)
{
  JsonNode *n = json_object_get_member (o, name);

  fail_unless (n != NULL, "no member '%s'", name);
  fail_unless (JSON_NODE_HOLDS_OBJECT (n), "member '%s' is not an object",
      name);
  return json_node_get_object (n);
}

const gchar *
apm_test_member_string (JsonObject * o, const gchar * name)
{
  const gchar *s = apm_test_str (o, name);

  fail_unless (json_object_has_member (o, name), "no member '%s'", name);
  fail_unless (s != NULL, "member '%s' is not a string", name);
  return s;
}

const gchar *
apm_test_str (JsonObject * o, const gchar * name)
{
  JsonNode *n = json_object_get_member (o, name);

  return n && JSON_NODE_HOLDS_VALUE (n)
      && json_node_get_value_type (n) == G_TYPE_STRING ?
      json_node_get_string (n) : NULL;
}

gint64
apm_test_member_int (JsonObject * o, const gchar * name)
{
  JsonNode *n = json_object_get_member (o, name);

  fail_unless (n != NULL, "no member '%s'", name);
  fail_unless (JSON_NODE_HOLDS_VALUE (n)
      && json_node_get_value_type (n) == G_TYPE_INT64,
      "member '%s' is not an integer", name);
  return json_node_get_int (n);
}

/* --- /health/monitoring --- */

JsonObject *
apm_test_health_checks (JsonNode * doc)
{
  JsonObject *mon;

  fail_unless (doc && JSON_NODE_HOLDS_OBJECT (doc), "not a JSON object");
  mon = apm_test_member_object (json_node_get_object (doc), "monitoring");
  return apm_test_member_object (mon, "health_checks");
}

JsonObject *
apm_test_health_check (JsonNode * doc, const gchar * name)
{
  JsonObject *checks = apm_test_health_checks (doc);

  return json_object_has_member (checks, name) ?
      json_object_get_object_member (checks, name) : NULL;
}

gint
apm_test_status_rank (const gchar * status)
{
  if (g_strcmp0 (status, "healthy") == 0)
    return 0;
  if (g_strcmp0 (status, "degraded") == 0)
    return 1;
  if (g_strcmp0 (status, "unhealthy") == 0)
    return 2;
  fail ("unknown status '%s'", GST_STR_NULL (status));
  return -1;
}

void
apm_test_check_overall_status (JsonNode * doc)
{
  JsonObject *checks = apm_test_health_checks (doc);
  JsonObject *root = json_node_get_object (doc);
  JsonObject *mon = apm_test_member_object (root, "monitoring");
  JsonArray *active = json_object_get_array_member (mon, "active_alerts");
  GList *names = json_object_get_members (checks);
  gint worst = 0;

  fail_unless (active != NULL, "no active_alerts array");
  for (GList * l = names; l; l = l->next) {
    JsonObject *c = json_object_get_object_member (checks, l->data);
    const gchar *st = json_object_get_string_member (c, "status");

    fail_unless (json_object_get_string_member (c, "message") != NULL,
        "check %s without a message", (gchar *) l->data);
    if (g_strcmp0 (st, "unknown") == 0) {
      fail_if (json_object_has_member (c, "last_run"),
          "check %s has not run but has a last_run", (gchar *) l->data);
      continue;
    }
    worst = MAX (worst, apm_test_status_rank (st));
    apm_test_parse_time (json_object_get_string_member (c, "last_run"));
    fail_unless (json_object_get_double_member (c, "duration_seconds") >= 0,
        "check %s: negative duration", (gchar *) l->data);
  }
  g_list_free (names);
  for (guint i = 0; i < json_array_get_length (active); i++) {
    JsonObject *a = json_array_get_object_element (active, i);
    const gchar *sev = json_object_get_string_member (a, "severity");

    fail_unless_equals_string (json_object_get_string_member (a, "state"),
        "firing");
    worst = MAX (worst, g_strcmp0 (sev, "critical") == 0 ? 2 :
        g_strcmp0 (sev, "warning") == 0 ? 1 : 0);
  }
  fail_unless_equals_int (apm_test_status_rank
      (json_object_get_string_member (root, "status")), worst);
}

/* --- small things several programs need --- */

gint64
apm_test_deadline_in (gdouble seconds)
{
  return g_get_monotonic_time () +
      APM_TEST_SCALED ((gint64) (seconds * G_USEC_PER_SEC));
}

gdouble
apm_test_pad_get (GHashTable * metrics, const gchar * family,
    const gchar * pipeline, const gchar * element, const gchar * pad)
{
  gdouble v = -1;

  fail_unless (apm_test_pad_value (metrics, family, pipeline, element, pad,
          &v), "no series %s{pipeline=\"%s\",element=\"%s\",pad=\"%s\"}",
      family, pipeline, element, pad);
  return v;
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

/* the URL of the process's one service, once a run has reported it */
static gchar *run_url;

const gchar *
apm_test_url_of_run (gchar * url)
{
  fail_unless (url != NULL, "apm-service without a URL: not listening?");
  if (!run_url)
    run_url = g_strdup (url);
  else
    fail_unless_equals_string (url, run_url);
  g_free (url);
  return run_url;
}

guint
apm_test_count_fds (void)
{
  GDir *dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  fail_unless (dir != NULL, "cannot list /proc/self/fd");
  while (g_dir_read_name (dir))
    n++;
  g_dir_close (dir);
  return n - 1;                 /* the directory's own */
}
