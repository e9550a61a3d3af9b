/* gst-apm tests: the service's JSON documents (typed members, times,
 * alerts, /health/monitoring, structured log lines) */
#include "apmtestutil.h"

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

gboolean
apm_test_alert_matches (JsonNode * doc, gpointer query)
{
  ApmTestAlertQuery *q = query;
  JsonObject *a = q->id ? apm_test_find_alert_id (doc, q->id) :
      apm_test_find_alert (doc, q->rule, q->label, q->value);

  if (q->absent)
    return a == NULL;
  return a && (!q->state || g_strcmp0 (json_object_get_string_member (a,
              "state"), q->state) == 0);
}

void
apm_test_check_error_doc (JsonNode * doc, guint code)
{
  JsonObject *error;

  fail_unless (doc && JSON_NODE_HOLDS_OBJECT (doc), "error body is not a "
      "JSON object");
  error = apm_test_member_object (json_node_get_object (doc), "error");
  fail_unless_equals_int (apm_test_member_int (error, "code"), code);
  fail_unless (*apm_test_member_string (error, "message") != '\0',
      "error %u with an empty message", code);
}

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
