/* gst-apm tests: alert rules, end to end (issue 5)
 *
 * Runs with GST_TRACERS="apm(port=0,quiet=true,alert-interval=1,
 * bus-messages=true)" (the apm-alert messages are asked for) and
 * CK_FORK=no: the service is one per process and shared by every test.
 * Each default rule is made to fire on a deterministic pipeline or with
 * injected values, and to resolve; the `for` delay, manual resolution over
 * HTTP and the REST errors are checked.  Nothing sleeps to synchronise:
 * tests poll HTTP with a deadline, and wait for rule evaluations through a
 * heartbeat rule that counts them.
 */
#include <gst/check/gstcheck.h>
#include <math.h>
#include <string.h>

#include "apmtestutil.h"
#include "apm-service.h"
#include "apm-defaults.h"

#define S (G_USEC_PER_SEC)
/* deadlines (upper bounds) stretch under valgrind and sanitizers */
#define T (APM_TEST_SCALED (G_USEC_PER_SEC))

static SoupSession *session;
static gchar *base_url;

/* --- evaluations: a rule that never holds and counts its calls --- */

static GMutex hb_lock;
static GCond hb_cond;
static guint64 hb_count;

static gboolean
heartbeat (gpointer user_data, gdouble * value)
{
  g_mutex_lock (&hb_lock);
  hb_count++;
  g_cond_broadcast (&hb_cond);
  g_mutex_unlock (&hb_lock);
  *value = 0;
  return FALSE;
}

/* Returns once @n more evaluations have run (so at least n - 1 whole ones
 * after the call). */
static void
wait_evaluations (guint n)
{
  gint64 deadline = g_get_monotonic_time () + (n + 10) * T;
  guint64 target, count;

  g_mutex_lock (&hb_lock);
  target = hb_count + n;
  while (hb_count < target)
    if (!g_cond_wait_until (&hb_cond, &hb_lock, deadline))
      break;
  count = hb_count;
  /* never fail with the lock held: the service thread takes it */
  g_mutex_unlock (&hb_lock);
  fail_unless (count >= target, "only %" G_GUINT64_FORMAT " of %u rule "
      "evaluations within the deadline (alert-interval=1)",
      count + n - target, n);
}

static ApmService *
service (void)
{
  return apm_service_get_default ();
}

static ApmAlerts *
alerts (void)
{
  return apm_service_get_alerts (service ());
}

/* Starts the service (port=0 from GST_TRACERS) and the heartbeat. */
static void
setup (void)
{
  if (base_url)
    return;
  base_url = apm_test_start_service ();
  fail_unless_equals_int (apm_service_get_alert_interval (service ()), 1);
  session = apm_test_session_new ();
  apm_alerts_add_rule (alerts (), apm_alert_rule_new_func ("apm_test_heartbeat",
          heartbeat, NULL, NULL));
}

/* --- a rule the test switches on and off --- */

typedef struct
{
  gint on;
  gint calls;
} Switch;

static gboolean
switch_condition (gpointer user_data, gdouble * value)
{
  Switch *sw = user_data;

  g_atomic_int_inc (&sw->calls);
  *value = g_atomic_int_get (&sw->on) ? 1 : 0;
  return g_atomic_int_get (&sw->on);
}

/* The rule owns the Switch: do not touch it after removing the rule. */
static Switch *
add_switch_rule (const gchar * name, gdouble for_s, ApmSeverity severity)
{
  Switch *sw = g_new0 (Switch, 1);
  ApmAlertRule *r = apm_alert_rule_new_func (name, switch_condition, sw,
      g_free);

  apm_alert_rule_set_for (r, for_s);
  apm_alert_rule_set_severity (r, severity);
  apm_alert_rule_set_message (r, "switch {{rule}} is {{value}}");
  apm_alerts_add_rule (alerts (), r);
  return sw;
}

/* --- waiting on the REST API --- */

/* apm_test_wait_alert() on this program's service */
static JsonObject *
wait_alert (const gchar * path, const gchar * rule, const gchar * label,
    const gchar * value, const gchar * state, gint64 timeout_us)
{
  return apm_test_wait_alert (session, base_url, path, rule, label, value,
      state, timeout_us);
}

/* Waits until alert @id is no longer in GET /monitoring/alerts, then
 * returns it from the history (json_object_unref() it). */
static JsonObject *
wait_resolved (const gchar * id, gint64 timeout_us)
{
  ApmTestAlertQuery gone = { NULL, NULL, NULL, NULL, id, TRUE };
  ApmTestAlertQuery there = { NULL, NULL, NULL, "resolved", id, FALSE };
  JsonNode *doc;
  JsonObject *a;

  doc = apm_test_wait_json (session, base_url, "/monitoring/alerts",
      apm_test_alert_matches, &gone, timeout_us);
  fail_unless (apm_test_alert_matches (doc, &gone),
      "alert %s still active after %" G_GINT64_FORMAT " s", id,
      timeout_us / S);
  json_node_unref (doc);
  /* resolution and archiving happen in the same evaluation */
  doc = apm_test_http_json (session, "GET", base_url,
      "/monitoring/alerts/history", 200);
  fail_unless (apm_test_alert_matches (doc, &there),
      "alert %s left the active list " "but is not resolved in the history",
      id);
  a = json_object_ref (apm_test_find_alert_id (doc, id));
  json_node_unref (doc);
  return a;
}

static gboolean
active_has_rule (const gchar * rule, const gchar * label, const gchar * value)
{
  JsonNode *doc = apm_test_http_json (session, "GET", base_url,
      "/monitoring/alerts", 200);
  gboolean found = apm_test_find_alert (doc, rule, label, value) != NULL;

  json_node_unref (doc);
  return found;
}

static gboolean
history_has_rule (const gchar * rule)
{
  JsonNode *doc = apm_test_http_json (session, "GET", base_url,
      "/monitoring/alerts/history", 200);
  gboolean found = apm_test_find_alert (doc, rule, NULL, NULL) != NULL;

  json_node_unref (doc);
  return found;
}

/* A rule's field in GET /monitoring/alerts/rules (the defaults may be
 * tuned: the tests read them rather than repeat them). */
static gdouble
rule_for_seconds (const gchar * name)
{
  JsonNode *doc = apm_test_http_json (session, "GET", base_url,
      "/monitoring/alerts/rules", 200);
  JsonArray *rules = json_object_get_array_member (json_node_get_object (doc),
      "rules");
  gdouble for_s = -1;

  for (guint i = 0; i < json_array_get_length (rules); i++) {
    JsonObject *r = json_array_get_object_element (rules, i);

    if (g_strcmp0 (json_object_get_string_member (r, "name"), name) == 0)
      for_s = json_object_get_double_member (r, "for_seconds");
  }
  json_node_unref (doc);
  fail_unless (for_s >= 0, "no rule %s", name);
  return for_s;
}

static gint64
time_member (JsonObject * a, const gchar * name)
{
  return apm_test_parse_time (json_object_get_string_member (a, name));
}

/* The common shape of an alert object. */
static void
check_alert_shape (JsonObject * a, const gchar * rule, const gchar * state,
    const gchar * severity)
{
  static const gchar *const members[] = { "id", "rule", "severity", "state",
    "message", "labels", "value", "started_at", "fired_at", "resolved_at",
    "resolved_by", NULL
  };
  const gchar *id = json_object_get_string_member (a, "id");

  for (guint i = 0; members[i]; i++)
    fail_unless (json_object_has_member (a, members[i]), "alert without "
        "\"%s\"", members[i]);
  fail_unless (id && *id);
  fail_unless_equals_string (json_object_get_string_member (a, "rule"), rule);
  fail_unless_equals_string (json_object_get_string_member (a, "state"),
      state);
  if (severity)
    fail_unless_equals_string (json_object_get_string_member (a, "severity"),
        severity);
  fail_unless (json_object_get_object_member (a, "labels") != NULL);
  fail_unless (json_object_get_string_member (a, "message") != NULL);
  time_member (a, "started_at");
  if (g_strcmp0 (state, "pending") == 0) {
    fail_unless (json_object_get_null_member (a, "fired_at"));
  } else if (json_object_get_string_member (a, "fired_at")) {
    fail_unless (time_member (a, "fired_at") >= time_member (a,
            "started_at"));
  }
  if (g_strcmp0 (state, "resolved") == 0) {
    fail_unless (time_member (a, "resolved_at") >= time_member (a,
            "started_at"));
    fail_unless (json_object_get_string_member (a, "resolved_by") != NULL);
  } else {
    fail_unless (json_object_get_null_member (a, "resolved_at"));
    fail_unless (json_object_get_null_member (a, "resolved_by"));
  }
}

static const gchar *
label_of (JsonObject * a, const gchar * name)
{
  JsonObject *labels = json_object_get_object_member (a, "labels");

  return labels && json_object_has_member (labels, name) ?
      json_object_get_string_member (labels, name) : NULL;
}

/* --- /health/monitoring --- */

static gboolean
active_alerts_has_id (JsonNode * doc, const gchar * id)
{
  JsonObject *mon = json_object_get_object_member (json_node_get_object (doc),
      "monitoring");
  JsonArray *active = json_object_get_array_member (mon, "active_alerts");

  for (guint i = 0; i < json_array_get_length (active); i++)
    if (g_strcmp0 (json_object_get_string_member
            (json_array_get_object_element (active, i), "id"), id) == 0)
      return TRUE;
  return FALSE;
}

typedef struct
{
  const gchar *check, *status;
} CheckQuery;

static gboolean
check_has_status (JsonNode * doc, gpointer user_data)
{
  CheckQuery *q = user_data;
  JsonObject *c = apm_test_health_check (doc, q->check);

  return c && g_strcmp0 (json_object_get_string_member (c, "status"),
      q->status) == 0;
}

/* Waits until check @name has @status in /health/monitoring; returns the
 * document. */
static JsonNode *
wait_health_check (const gchar * name, const gchar * status,
    gint64 timeout_us)
{
  CheckQuery q = { name, status };
  JsonNode *doc = apm_test_wait_json (session, base_url, "/health/monitoring",
      check_has_status, &q, timeout_us);
  gchar *text = json_to_string (doc, TRUE);

  fail_unless (check_has_status (doc, &q), "check %s not %s within %"
      G_GINT64_FORMAT " s: %s", name, status, timeout_us / S, text);
  g_free (text);
  return doc;
}

/* --- pipelines --- */

static GstElement *
start_pipeline (const gchar * description, const gchar * name)
{
  GstElement *p = apm_test_parse (description, name);
  GstStateChangeReturn ret;

  ret = gst_element_set_state (p, GST_STATE_PLAYING);
  fail_if (ret == GST_STATE_CHANGE_FAILURE, "%s could not go to PLAYING",
      name);
  ret = gst_element_get_state (p, NULL, NULL, 10 * GST_SECOND);
  fail_unless (ret == GST_STATE_CHANGE_SUCCESS
      || ret == GST_STATE_CHANGE_NO_PREROLL, "%s did not reach PLAYING", name);
  return p;
}

typedef struct
{
  const gchar *name;
  const gchar *const *labels;
  gdouble min;
} MetricQuery;

static gboolean
metric_at_least (GHashTable * metrics, gpointer user_data)
{
  MetricQuery *q = user_data;
  gdouble v;

  return apm_test_metric_valuev (metrics, &v, q->name, q->labels)
      && v >= q->min;
}

static void
wait_metric_at_least (const gchar * name, const gchar * const *labels,
    gdouble min, gint64 timeout_us)
{
  MetricQuery q = { name, labels, min };
  GHashTable *m = apm_test_wait_metrics (session, base_url, metric_at_least,
      &q, timeout_us);

  fail_unless (metric_at_least (m, &q), "%s did not reach %g", name, min);
  g_hash_table_unref (m);
}

/* Pops the "apm-alert" messages on @bus (waiting up to @timeout) until one
 * with @event for alert @id; fails if there is none. */
static void
wait_bus_alert (GstBus * bus, const gchar * event, const gchar * rule,
    const gchar * id, GstClockTime timeout)
{
  gint64 deadline = g_get_monotonic_time () + timeout / GST_USECOND;

  for (;;) {
    gint64 left = deadline - g_get_monotonic_time ();
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, MAX (left, 0) *
        GST_USECOND, GST_MESSAGE_ELEMENT);
    const GstStructure *s;
    gboolean found;

    fail_unless (msg != NULL, "no apm-alert %s message for %s on the bus",
        event, id);
    s = gst_message_get_structure (msg);
    found = s && gst_structure_has_name (s, "apm-alert")
        && g_strcmp0 (gst_structure_get_string (s, "event"), event) == 0
        && g_strcmp0 (gst_structure_get_string (s, "id"), id) == 0;
    if (found) {
      fail_unless_equals_string (gst_structure_get_string (s, "rule"), rule);
      fail_unless (gst_structure_get_string (s, "severity") != NULL);
      fail_unless (gst_structure_get_string (s, "message") != NULL);
    }
    gst_message_unref (msg);
    if (found)
      return;
  }
}

/* --- the tests --- */

/* The metric names in a rule's expression: "agg(metric{..} / denom[..]) op
 * threshold if require > 0". */
static void
expression_metrics (const gchar * expr, GPtrArray * out)
{
  const gchar *p = strchr (expr, '('), *q;

  if (!p)
    return;
  p++;
  for (q = p; *q && (g_ascii_isalnum (*q) || *q == '_' || *q == ':'); q++);
  g_ptr_array_add (out, g_strndup (p, q - p));
  if ((p = strstr (expr, " / "))) {
    p += 3;
    for (q = p; *q && (g_ascii_isalnum (*q) || *q == '_'); q++);
    g_ptr_array_add (out, g_strndup (p, q - p));
  }
  if ((p = strstr (expr, " if "))) {
    p += 4;
    for (q = p; *q && (g_ascii_isalnum (*q) || *q == '_'); q++);
    g_ptr_array_add (out, g_strndup (p, q - p));
  }
}

static gboolean
metrics_has_family (GHashTable * metrics, const gchar * family)
{
  GHashTableIter it;
  const gchar *key;
  gchar *plain = g_strconcat (family, "{", NULL);
  gchar *bucket = g_strconcat (family, "_bucket{", NULL);
  gboolean found = g_hash_table_contains (metrics, family);

  g_hash_table_iter_init (&it, metrics);
  while (!found && g_hash_table_iter_next (&it, (gpointer *) & key, NULL))
    found = g_str_has_prefix (key, plain) || g_str_has_prefix (key, bucket);
  g_free (plain);
  g_free (bucket);
  return found;
}

typedef struct
{
  GPtrArray *families;
} FamiliesQuery;

static gboolean
has_all_families (GHashTable * metrics, gpointer user_data)
{
  FamiliesQuery *q = user_data;

  for (guint i = 0; i < q->families->len; i++)
    if (!metrics_has_family (metrics, q->families->pdata[i]))
      return FALSE;
  return TRUE;
}

/* Every default rule is listed, and every metric a default expression rule
 * reads is one that the tracer, apmonitor or the core actually publishes
 * (on a live pipeline with an apmonitor, all of them exist). */
GST_START_TEST (test_default_rules_use_published_metrics)
{
  static const gchar *const defaults[] = { "high_error_rate",
    "high_memory_usage", "slow_job_processing", "pipeline_stalled",
    "audio_silence", "audio_clipping", "latency_budget",
    "realtime_factor_low", "audio_underruns", NULL
  };
  FamiliesQuery q = { g_ptr_array_new_with_free_func (g_free) };
  GstElement *p;
  JsonNode *doc;
  JsonArray *rules;
  GHashTable *m;
  GString *missing = g_string_new (NULL);

  setup ();
  doc = apm_test_http_json (session, "GET", base_url,
      "/monitoring/alerts/rules", 200);
  rules = json_object_get_array_member (json_node_get_object (doc), "rules");
  fail_unless (rules != NULL);
  for (guint d = 0; defaults[d]; d++) {
    JsonObject *rule = NULL;

    for (guint i = 0; i < json_array_get_length (rules) && !rule; i++) {
      JsonObject *r = json_array_get_object_element (rules, i);

      if (g_strcmp0 (json_object_get_string_member (r, "name"),
              defaults[d]) == 0)
        rule = r;
    }
    fail_unless (rule != NULL, "default rule %s not listed", defaults[d]);
    fail_unless (json_object_get_string_member (rule, "severity") != NULL);
    fail_unless (json_object_has_member (rule, "for_seconds"));
    fail_unless (json_object_get_string_member (rule, "expression") != NULL);
    expression_metrics (json_object_get_string_member (rule, "expression"),
        q.families);
  }
  json_node_unref (doc);
  fail_unless (q.families->len >= 7, "only %u metrics in the default "
      "expressions", q.families->len);

  p = start_pipeline ("audiotestsrc is-live=true samplesperbuffer=441 "
      "! audio/x-raw,format=S16LE,channels=1,rate=44100 "
      "! apmonitor name=mon interval=100000000 ! queue ! fakesink",
      "apm_families");
  m = apm_test_wait_metrics (session, base_url, has_all_families, &q,
      10 * T);
  for (guint i = 0; i < q.families->len; i++)
    if (!metrics_has_family (m, q.families->pdata[i]))
      g_string_append_printf (missing, " %s",
          (gchar *) q.families->pdata[i]);
  fail_unless (missing->len == 0, "default rules read metrics that nothing "
      "publishes:%s", missing->str);
  g_hash_table_unref (m);
  apm_test_stop (p);
  g_string_free (missing, TRUE);
  g_ptr_array_unref (q.families);
}

GST_END_TEST;

/* the rules JSON of @name, or NULL if it is not listed */
static JsonObject *
listed_rule (JsonNode * doc, const gchar * name)
{
  JsonArray *rules = json_object_get_array_member (json_node_get_object (doc),
      "rules");

  for (guint i = 0; i < json_array_get_length (rules); i++) {
    JsonObject *r = json_array_get_object_element (rules, i);

    if (g_strcmp0 (json_object_get_string_member (r, "name"), name) == 0)
      return r;
  }
  return NULL;
}

static ApmAlertRule *
rule_over (const gchar * name, gdouble threshold, const gchar * message)
{
  return apm_alert_rule_new_expr_full (name, "apm_test_default_metric",
      APM_AGG_LAST, 0, APM_CMP_GT, threshold, 0, APM_SEVERITY_INFO, message);
}

/* Defaults fill in and never override: the plugin's rules arrive when the
 * plugin loads, which may be after an application loaded its
 * configuration (that replaced one rule and disabled another). */
GST_START_TEST (test_default_rules_never_override)
{
  JsonNode *doc;
  JsonObject *r;

  setup ();
  apm_alerts_add_rule (alerts (), rule_over ("apm_test_replaced", 7,
          "configured"));
  apm_alerts_remove_rule (alerts (), "apm_test_disabled");
  apm_alerts_add_default_rule (alerts (), rule_over ("apm_test_replaced", 1,
          "default"));
  apm_alerts_add_default_rule (alerts (), rule_over ("apm_test_disabled", 1,
          "default"));
  apm_alerts_add_default_rule (alerts (), rule_over ("apm_test_new", 1,
          "default"));

  doc = apm_test_http_json (session, "GET", base_url,
      "/monitoring/alerts/rules", 200);
  r = listed_rule (doc, "apm_test_replaced");
  fail_unless (r != NULL);
  fail_unless_equals_string (json_object_get_string_member (r, "message"),
      "configured");
  fail_unless (listed_rule (doc, "apm_test_disabled") == NULL,
      "a default came back after it was disabled");
  r = listed_rule (doc, "apm_test_new");
  fail_unless (r != NULL, "a default with a new name was not added");
  fail_unless_equals_string (json_object_get_string_member (r, "message"),
      "default");
  json_node_unref (doc);

  /* the application may still put a disabled rule back */
  apm_alerts_add_rule (alerts (), rule_over ("apm_test_disabled", 3,
          "configured again"));
  doc = apm_test_http_json (session, "GET", base_url,
      "/monitoring/alerts/rules", 200);
  fail_unless (listed_rule (doc, "apm_test_disabled") != NULL);
  json_node_unref (doc);
  for (guint i = 0; i < 3; i++)
    apm_alerts_remove_rule (alerts (), (const gchar *[]) {
        "apm_test_replaced", "apm_test_disabled", "apm_test_new"}[i]);
}

GST_END_TEST;

/* pipeline_stalled (and realtime_factor_low, which a stalled live pipeline
 * also trips): a live pipeline whose valve starts dropping stalls; the
 * alert fires with the pipeline's label, /health/monitoring turns
 * unhealthy with it among active_alerts and the pipeline check says
 * "stalled"; the alerts go to the bus; when the flow resumes everything
 * resolves by itself. */
GST_START_TEST (test_pipeline_stalled)
{
  const gchar *const sink_labels[] = { "pipeline", "apm_stall", "element",
    "sink", "pad", "sink", NULL
  };
  GstElement *p, *valve;
  GstBus *bus;
  JsonObject *a, *rtf, *done;
  JsonNode *doc;
  JsonObject *check;
  gint64 t_drop, elapsed;
  gdouble for_s;
  gchar *id, *rtf_id;

  setup ();
  p = start_pipeline ("audiotestsrc is-live=true samplesperbuffer=441 "
      "! valve name=v ! fakesink name=sink sync=true", "apm_stall");
  bus = gst_element_get_bus (p);
  valve = gst_bin_get_by_name (GST_BIN (p), "v");
  wait_metric_at_least ("apm_pad_buffers_total", sink_labels, 10, 10 * T);
  json_node_unref (wait_health_check ("pipeline:apm_stall", "healthy",
          5 * T));
  fail_if (active_has_rule ("pipeline_stalled", "pipeline", "apm_stall"),
      "stall alert while the audio flows");

  g_object_set (valve, "drop", TRUE, NULL);
  t_drop = g_get_monotonic_time ();
  a = wait_alert ("/monitoring/alerts", "pipeline_stalled", "pipeline",
      "apm_stall", "firing", 20 * T);
  elapsed = g_get_monotonic_time () - t_drop;
  /* the stall timeout is 5 s: not before */
  fail_unless (elapsed >= 4.5 * S, "stall alert after %.1f s only",
      elapsed / 1e6);
  check_alert_shape (a, "pipeline_stalled", "firing", "critical");
  fail_unless_equals_string (label_of (a, "pipeline"), "apm_stall");
  fail_unless (json_object_get_double_member (a, "value") >= 5,
      "stalled for %g s?", json_object_get_double_member (a, "value"));
  fail_unless (strstr (json_object_get_string_member (a, "message"),
          "apm_stall") != NULL, "message '%s' does not name the pipeline",
      json_object_get_string_member (a, "message"));
  id = g_strdup (json_object_get_string_member (a, "id"));
  json_object_unref (a);

  /* GET /monitoring/alerts/{id} */
  doc = apm_test_http_json (session, "GET", base_url,
      "/monitoring/alerts/", 404);
  json_node_unref (doc);
  {
    gchar *path = g_strconcat ("/monitoring/alerts/", id, NULL);

    doc = apm_test_http_json (session, "GET", base_url, path, 200);
    fail_unless_equals_string (json_object_get_string_member
        (json_node_get_object (doc), "id"), id);
    json_node_unref (doc);
    g_free (path);
  }

  /* health: the check says stalled, the critical alert makes it unhealthy */
  doc = wait_health_check ("pipeline:apm_stall", "unhealthy", 5 * T);
  check = apm_test_health_check (doc, "pipeline:apm_stall");
  fail_unless (strstr (json_object_get_string_member (check, "message"),
          "stalled") != NULL, "pipeline check message '%s'",
      json_object_get_string_member (check, "message"));
  fail_unless_equals_string (json_object_get_string_member
      (json_node_get_object (doc), "status"), "unhealthy");
  fail_unless (active_alerts_has_id (doc, id), "%s not in active_alerts", id);
  apm_test_check_overall_status (doc);
  json_node_unref (doc);

  wait_bus_alert (bus, "firing", "pipeline_stalled", id, 5 * GST_SECOND);

  /* a live pipeline that delivers nothing is below real time; it fires
   * after the rule's `for` */
  for_s = rule_for_seconds ("realtime_factor_low");
  rtf = wait_alert ("/monitoring/alerts", "realtime_factor_low", "pipeline",
      "apm_stall", "firing", (20 + for_s) * T);
  check_alert_shape (rtf, "realtime_factor_low", "firing", "warning");
  fail_unless (time_member (rtf, "fired_at") - time_member (rtf,
          "started_at") >= for_s * S, "realtime_factor_low fired before its "
      "for (%g s)", for_s);
  fail_unless (json_object_get_double_member (rtf, "value") < 1);
  rtf_id = g_strdup (json_object_get_string_member (rtf, "id"));
  json_object_unref (rtf);

  /* the flow resumes: resolved by itself */
  g_object_set (valve, "drop", FALSE, NULL);
  done = wait_resolved (id, 10 * T);
  check_alert_shape (done, "pipeline_stalled", "resolved", "critical");
  fail_unless_equals_string (json_object_get_string_member (done,
          "resolved_by"), "auto");
  fail_unless (time_member (done, "resolved_at") >= time_member (done,
          "fired_at"));
  json_object_unref (done);
  wait_bus_alert (bus, "resolved", "pipeline_stalled", id, 5 * GST_SECOND);

  doc = wait_health_check ("pipeline:apm_stall", "healthy", 5 * T);
  fail_if (active_alerts_has_id (doc, id));
  apm_test_check_overall_status (doc);
  json_node_unref (doc);

  /* the real-time factor rule averages over a window: rather than wait
   * for the stall to leave it, let the pipeline go: the alerts of a
   * pipeline that is gone resolve by themselves */
  gst_object_unref (valve);
  gst_object_unref (bus);
  apm_test_stop (p);
  done = wait_resolved (rtf_id, 10 * T);
  fail_unless_equals_string (json_object_get_string_member (done,
          "resolved_by"), "auto");
  json_object_unref (done);
  fail_if (active_has_rule (NULL, "pipeline", "apm_stall"));

  g_free (id);
  g_free (rtf_id);
}

GST_END_TEST;

static ApmAlertRule *
memory_rule (gdouble threshold)
{
  ApmAlertRule *r = apm_alert_rule_new_expr ("high_memory_usage",
      "apm_system_memory_used_percent", APM_AGG_LAST, 0, APM_CMP_GT,
      threshold);

  apm_alert_rule_set_severity (r, APM_SEVERITY_WARNING);
  apm_alert_rule_set_message (r, "System memory usage is {{value}}% "
      "(above {{threshold}}%)");
  return r;
}

/* high_memory_usage, replaced by name with threshold 0: memory used > 0 %
 * fires (a warning: /health/monitoring at least degraded, the alert in
 * active_alerts; on the bus of every watched pipeline, since it has no
 * pipeline label); replaced with 1000: resolves. */
GST_START_TEST (test_high_memory_usage)
{
  GstElement *p;
  GstBus *bus;
  JsonObject *a;
  JsonNode *doc, *rules;
  gchar *id;

  setup ();
  p = start_pipeline ("audiotestsrc is-live=true ! fakesink", "apm_memory");
  bus = gst_element_get_bus (p);
  /* whatever this machine's memory use, start from "no alert" */
  apm_alerts_add_rule (alerts (), memory_rule (1000));
  wait_evaluations (2);
  fail_if (active_has_rule ("high_memory_usage", NULL, NULL),
      "memory alert with a threshold of 1000 %%");

  apm_alerts_add_rule (alerts (), memory_rule (0));
  /* replaced, not added */
  rules = apm_test_http_json (session, "GET", base_url,
      "/monitoring/alerts/rules", 200);
  {
    JsonArray *arr = json_object_get_array_member (json_node_get_object
        (rules), "rules");
    guint n = 0;

    for (guint i = 0; i < json_array_get_length (arr); i++) {
      JsonObject *r = json_array_get_object_element (arr, i);

      if (g_strcmp0 (json_object_get_string_member (r, "name"),
              "high_memory_usage") != 0)
        continue;
      n++;
      fail_unless_equals_string (json_object_get_string_member (r,
              "expression"), "last(apm_system_memory_used_percent) > 0");
    }
    fail_unless_equals_int (n, 1);
  }
  json_node_unref (rules);

  a = wait_alert ("/monitoring/alerts", "high_memory_usage", NULL, NULL,
      "firing", 10 * T);
  check_alert_shape (a, "high_memory_usage", "firing", "warning");
  fail_unless (json_object_get_double_member (a, "value") > 0);
  fail_unless (json_object_get_double_member (a, "value") <= 100);
  fail_unless_equals_float (json_object_get_double_member (a, "threshold"),
      0);
  fail_unless (g_str_has_prefix (json_object_get_string_member (a, "message"),
          "System memory usage is "), "message: %s",
      json_object_get_string_member (a, "message"));
  id = g_strdup (json_object_get_string_member (a, "id"));
  json_object_unref (a);

  doc = apm_test_http_json (session, "GET", base_url, "/health/monitoring",
      200);
  fail_unless (active_alerts_has_id (doc, id));
  fail_unless (apm_test_status_rank (json_object_get_string_member
          (json_node_get_object (doc), "status")) >= 1);
  apm_test_check_overall_status (doc);
  json_node_unref (doc);
  wait_bus_alert (bus, "firing", "high_memory_usage", id, 5 * GST_SECOND);

  apm_alerts_add_rule (alerts (), memory_rule (1000));
  a = wait_resolved (id, 10 * T);
  check_alert_shape (a, "high_memory_usage", "resolved", "warning");
  fail_unless_equals_string (json_object_get_string_member (a,
          "resolved_by"), "auto");
  json_object_unref (a);
  doc = apm_test_http_json (session, "GET", base_url, "/health/monitoring",
      200);
  fail_if (active_alerts_has_id (doc, id));
  apm_test_check_overall_status (doc);
  json_node_unref (doc);
  wait_bus_alert (bus, "resolved", "high_memory_usage", id, 5 * GST_SECOND);

  apm_alerts_add_rule (alerts (), memory_rule (85));
  g_free (id);
  gst_object_unref (bus);
  apm_test_stop (p);
}

GST_END_TEST;

/* One run of a pipeline that fails while PLAYING: a live appsrc, so that
 * the error comes after the run (the job) started. */
static void
run_failing_pipeline (const gchar * name)
{
  GstElement *p = start_pipeline ("appsrc name=src is-live=true format=time "
      "caps=\"audio/x-raw,format=S16LE,rate=8000,channels=1,"
      "layout=interleaved\" "
      "! identity error-after=1 ! fakesink async=false", name);
  GstElement *src = gst_bin_get_by_name (GST_BIN (p), "src");
  gchar *job_id = g_strdup_printf ("%s#1", name);
  ApmJobs *jobs = apm_service_get_jobs (service ());
  gchar *cid;
  GstBuffer *buf;
  GstFlowReturn flow = GST_FLOW_ERROR;

  /* the run is a job from PAUSED -> PLAYING on */
  cid = apm_jobs_correlation_id (jobs, job_id);
  fail_unless (cid != NULL, "no active job %s once PLAYING", job_id);
  g_free (cid);
  buf = gst_buffer_new_and_alloc (160);
  gst_buffer_memset (buf, 0, 0, 160);
  GST_BUFFER_PTS (buf) = 0;
  GST_BUFFER_DURATION (buf) = 10 * GST_MSECOND;
  g_signal_emit_by_name (src, "push-buffer", buf, &flow);
  fail_unless_equals_int (flow, GST_FLOW_OK);
  gst_buffer_unref (buf);
  apm_test_wait (p, TRUE, NULL, NULL, NULL);
  fail_if (apm_jobs_correlation_id (jobs, job_id) != NULL,
      "job %s still active after the ERROR", job_id);
  gst_object_unref (src);
  apm_test_stop (p);
  g_free (job_id);
}

/* high_error_rate: more than 5 of the last 10 jobs failed.  Six failing
 * runs fire it (critical: /health/monitoring unhealthy); five successful
 * runs push the failures down to 5 of 10 and it resolves. */
GST_START_TEST (test_high_error_rate)
{
  JsonObject *a;
  JsonNode *doc, *jobs;
  guint failed_before;
  gchar *id;

  setup ();
  fail_if (active_has_rule ("high_error_rate", NULL, NULL));
  failed_before = apm_jobs_recent_failures (apm_service_get_jobs (service ()),
      1000);
  for (guint i = 0; i < 6; i++) {
    gchar *name = g_strdup_printf ("apm_fail%u", i);

    run_failing_pipeline (name);
    g_free (name);
  }
  /* one failed job per failed run (a run's later errors are consequences
   * of the first) */
  fail_unless_equals_int (apm_jobs_recent_failures (apm_service_get_jobs
          (service ()), 1000) - failed_before, 6);
  jobs = apm_test_http_json (session, "GET", base_url,
      "/monitoring/jobs?limit=6", 200);
  {
    JsonArray *fin = json_object_get_array_member (json_node_get_object
        (jobs), "finished");

    fail_unless_equals_int (json_array_get_length (fin), 6);
    for (guint i = 0; i < 6; i++)
      fail_unless_equals_string (json_object_get_string_member
          (json_array_get_object_element (fin, i), "status"), "failed");
  }
  json_node_unref (jobs);

  a = wait_alert ("/monitoring/alerts", "high_error_rate", NULL, NULL,
      "firing", 10 * T);
  check_alert_shape (a, "high_error_rate", "firing", "critical");
  fail_unless (json_object_get_double_member (a, "value") >= 6);
  id = g_strdup (json_object_get_string_member (a, "id"));
  json_object_unref (a);
  doc = apm_test_http_json (session, "GET", base_url, "/health/monitoring",
      200);
  fail_unless_equals_string (json_object_get_string_member
      (json_node_get_object (doc), "status"), "unhealthy");
  fail_unless (active_alerts_has_id (doc, id));
  apm_test_check_overall_status (doc);
  json_node_unref (doc);

  for (guint i = 0; i < 5; i++) {
    gchar *name = g_strdup_printf ("apm_ok%u", i);
    GstElement *p = apm_test_parse ("audiotestsrc num-buffers=3 ! fakesink",
        name);

    apm_test_run_to_eos (p, NULL, NULL);
    apm_test_stop (p);
    g_free (name);
  }
  a = wait_resolved (id, 10 * T);
  fail_unless_equals_string (json_object_get_string_member (a,
          "resolved_by"), "auto");
  json_object_unref (a);
  g_free (id);
}

GST_END_TEST;

/* The most common failure, a pipeline that fails before it plays (here an
 * element erroring on its first buffer, while prerolling), must count as
 * a failed run too, or high_error_rate never sees it. */
GST_START_TEST (test_failure_before_playing_is_failed_job)
{
  ApmJobs *jobs;
  guint before, after;

  setup ();
  jobs = apm_service_get_jobs (service ());
  before = apm_jobs_recent_failures (jobs, 1000);
  for (guint i = 0; i < 3; i++) {
    gchar *name = g_strdup_printf ("apm_prefail%u", i);
    GstElement *p = apm_test_parse ("audiotestsrc ! identity error-after=1 "
        "! fakesink", name);

    gst_element_set_state (p, GST_STATE_PLAYING);
    apm_test_wait (p, TRUE, NULL, NULL, NULL);
    apm_test_stop (p);
    g_free (name);
  }
  after = apm_jobs_recent_failures (jobs, 1000);
  fail_unless (after == before + 3, "3 pipelines failed on start, but %u "
      "failed jobs were recorded", after - before);
  /* leave no failures behind for the other tests' error-rate rule */
  for (guint i = 0; i < 10; i++) {
    gchar *name = g_strdup_printf ("apm_preok%u", i);
    GstElement *p = apm_test_parse ("audiotestsrc num-buffers=1 ! fakesink",
        name);

    apm_test_run_to_eos (p, NULL, NULL);
    apm_test_stop (p);
    g_free (name);
  }
}

GST_END_TEST;

static gboolean
slow_job_condition (gpointer user_data, gdouble * value)
{
  *value = apm_jobs_longest_active_seconds (apm_service_get_jobs (service
          ()));
  return *value > 1;
}

/* slow_job_processing, replaced by name with a 1 s limit (30 minutes is the
 * default): a job started through the jobs API fires it once older than
 * 1 s, and completing the job resolves it. */
GST_START_TEST (test_slow_job_processing)
{
  ApmJobs *jobs;
  ApmAlertRule *r;
  JsonObject *a;
  gchar *cid, *id;
  gint64 t0;

  setup ();
  jobs = apm_service_get_jobs (service ());
  fail_if (active_has_rule ("slow_job_processing", NULL, NULL));
  r = apm_alert_rule_new_func ("slow_job_processing", slow_job_condition,
      NULL, NULL);
  apm_alert_rule_set_message (r, "A job has been running for {{value}} s");
  apm_alerts_add_rule (alerts (), r);

  t0 = g_get_monotonic_time ();
  cid = apm_jobs_start (jobs, "apm-test-slow-job", NULL);
  fail_unless (cid != NULL);
  a = wait_alert ("/monitoring/alerts", "slow_job_processing", NULL, NULL,
      "firing", 10 * T);
  fail_unless (g_get_monotonic_time () - t0 > 1 * S);
  check_alert_shape (a, "slow_job_processing", "firing", "warning");
  fail_unless (json_object_get_double_member (a, "value") > 1);
  id = g_strdup (json_object_get_string_member (a, "id"));
  json_object_unref (a);

  fail_unless (apm_jobs_complete (jobs, "apm-test-slow-job", "success",
          NULL));
  a = wait_resolved (id, 10 * T);
  fail_unless_equals_string (json_object_get_string_member (a,
          "resolved_by"), "auto");
  json_object_unref (a);

  /* back to the defaults */
  apm_defaults_install (service ());
  g_free (id);
  g_free (cid);
}

GST_END_TEST;

/* `for`: a rule with for=3 stays pending at least 3 s before it fires; a
 * condition that clears while pending is dropped, never fired nor kept. */
GST_START_TEST (test_for_is_honoured)
{
  Switch *sw;
  JsonObject *a;
  gint64 t_on, seen_pending = 0, seen_firing = 0, deadline;
  gchar *id = NULL;

  setup ();
  sw = add_switch_rule ("apm_test_for", 3, APM_SEVERITY_WARNING);
  wait_evaluations (2);
  fail_if (active_has_rule ("apm_test_for", NULL, NULL));

  g_atomic_int_set (&sw->on, 1);
  t_on = g_get_monotonic_time ();
  deadline = t_on + 15 * T;
  while (!seen_firing && g_get_monotonic_time () < deadline) {
    JsonNode *doc = apm_test_http_json (session, "GET", base_url,
        "/monitoring/alerts", 200);
    JsonObject *x = apm_test_find_alert (doc, "apm_test_for", NULL, NULL);

    if (x) {
      const gchar *state = json_object_get_string_member (x, "state");

      if (!id)
        id = g_strdup (json_object_get_string_member (x, "id"));
      fail_unless_equals_string (json_object_get_string_member (x, "id"),
          id);
      if (g_strcmp0 (state, "pending") == 0) {
        check_alert_shape (x, "apm_test_for", "pending", "warning");
        if (!seen_pending)
          seen_pending = g_get_monotonic_time ();
      } else {
        fail_unless_equals_string (state, "firing");
        seen_firing = g_get_monotonic_time ();
      }
    }
    json_node_unref (doc);
    if (!seen_firing)
      g_usleep (50 * 1000);
  }
  fail_unless (seen_pending != 0, "never seen pending");
  fail_unless (seen_firing != 0, "never fired");
  fail_unless (seen_firing - t_on >= 3 * S, "fired %.2f s after the "
      "condition began to hold (for=3)", (seen_firing - t_on) / 1e6);
  a = wait_alert ("/monitoring/alerts", "apm_test_for", NULL, NULL, "firing",
      1 * T);
  check_alert_shape (a, "apm_test_for", "firing", "warning");
  fail_unless (time_member (a, "fired_at") - time_member (a, "started_at")
      >= 3 * S, "fired_at - started_at = %.3f s",
      (time_member (a, "fired_at") - time_member (a, "started_at")) / 1e6);
  json_object_unref (a);

  g_atomic_int_set (&sw->on, 0);
  a = wait_resolved (id, 10 * T);
  fail_unless_equals_string (json_object_get_string_member (a,
          "resolved_by"), "auto");
  json_object_unref (a);
  g_free (id);

  /* pending, then clear before `for`: dropped without a trace */
  apm_alerts_remove_rule (alerts (), "apm_test_for");
  sw = add_switch_rule ("apm_test_for_short", 3, APM_SEVERITY_WARNING);
  g_atomic_int_set (&sw->on, 1);
  a = wait_alert ("/monitoring/alerts", "apm_test_for_short", NULL, NULL,
      "pending", 10 * T);
  json_object_unref (a);
  g_atomic_int_set (&sw->on, 0);
  wait_evaluations (2);
  fail_if (active_has_rule ("apm_test_for_short", NULL, NULL),
      "pending alert kept after its condition cleared");
  fail_if (history_has_rule ("apm_test_for_short"),
      "an alert that never fired is in the history");
  apm_alerts_remove_rule (alerts (), "apm_test_for_short");
}

GST_END_TEST;

/* Manual resolution over HTTP: POST /monitoring/alerts/{id}/resolve
 * answers 200 with the resolved alert; it leaves the active list for the
 * history; it does not come back while its condition holds; once the
 * condition has cleared and holds again it is a new alert, new id. */
GST_START_TEST (test_manual_resolve)
{
  Switch *sw;
  JsonObject *a, *o;
  JsonNode *doc;
  gchar *id, *id2, *path;

  setup ();
  sw = add_switch_rule ("apm_test_manual", 0, APM_SEVERITY_CRITICAL);
  g_atomic_int_set (&sw->on, 1);
  a = wait_alert ("/monitoring/alerts", "apm_test_manual", NULL, NULL,
      "firing", 10 * T);
  id = g_strdup (json_object_get_string_member (a, "id"));
  json_object_unref (a);

  path = g_strdup_printf ("/monitoring/alerts/%s/resolve", id);
  doc = apm_test_http_json (session, "POST", base_url, path, 200);
  o = json_node_get_object (doc);
  check_alert_shape (o, "apm_test_manual", "resolved", "critical");
  fail_unless_equals_string (json_object_get_string_member (o, "id"), id);
  fail_unless_equals_string (json_object_get_string_member (o,
          "resolved_by"), "manual");
  json_node_unref (doc);

  /* gone from the active list and from active_alerts, in the history */
  doc = apm_test_http_json (session, "GET", base_url, "/monitoring/alerts",
      200);
  fail_if (apm_test_find_alert_id (doc, id) != NULL);
  json_node_unref (doc);
  doc = apm_test_http_json (session, "GET", base_url, "/health/monitoring",
      200);
  fail_if (active_alerts_has_id (doc, id));
  json_node_unref (doc);
  doc = apm_test_http_json (session, "GET", base_url,
      "/monitoring/alerts/history", 200);
  o = apm_test_find_alert_id (doc, id);
  fail_unless (o != NULL, "%s not in the history", id);
  fail_unless_equals_string (json_object_get_string_member (o,
          "resolved_by"), "manual");
  fail_unless_equals_string (json_object_get_string_member (o, "state"),
      "resolved");
  json_node_unref (doc);
  {
    gchar *one = g_strconcat ("/monitoring/alerts/", id, NULL);

    doc = apm_test_http_json (session, "GET", base_url, one, 200);
    fail_unless_equals_string (json_object_get_string_member
        (json_node_get_object (doc), "state"), "resolved");
    json_node_unref (doc);
    g_free (one);
  }

  /* resolving it again: no longer active */
  doc = apm_test_http_json (session, "POST", base_url, path, 404);
  json_node_unref (doc);

  /* the condition still holds: it stays quiet, under any id */
  wait_evaluations (3);
  fail_if (active_has_rule ("apm_test_manual", NULL, NULL),
      "manually resolved alert came back while its condition held");

  /* clear, then hold again: a new alert */
  g_atomic_int_set (&sw->on, 0);
  wait_evaluations (2);
  g_atomic_int_set (&sw->on, 1);
  a = wait_alert ("/monitoring/alerts", "apm_test_manual", NULL, NULL,
      "firing", 10 * T);
  id2 = g_strdup (json_object_get_string_member (a, "id"));
  fail_if (g_strcmp0 (id, id2) == 0, "the new alert reuses id %s", id);
  fail_unless (time_member (a, "started_at") > 0);
  json_object_unref (a);
  /* the history keeps the first one as it was */
  doc = apm_test_http_json (session, "GET", base_url,
      "/monitoring/alerts/history", 200);
  fail_unless (apm_test_find_alert_id (doc, id) != NULL);
  fail_if (apm_test_find_alert_id (doc, id2) != NULL);
  json_node_unref (doc);

  /* clean up: resolve by hand, remove the rule */
  g_free (path);
  path = g_strdup_printf ("/monitoring/alerts/%s/resolve", id2);
  json_node_unref (apm_test_http_json (session, "POST", base_url, path, 200));
  /* the history is newest first */
  doc = apm_test_http_json (session, "GET", base_url,
      "/monitoring/alerts/history", 200);
  fail_unless_equals_string (json_object_get_string_member
      (apm_test_find_alert (doc, "apm_test_manual", NULL, NULL), "id"), id2);
  json_node_unref (doc);
  apm_alerts_remove_rule (alerts (), "apm_test_manual");
  g_free (path);
  g_free (id);
  g_free (id2);
}

GST_END_TEST;

/* REST errors of the alert routes: JSON bodies, 404 for unknown ids, 405
 * with Allow for the wrong method. */
GST_START_TEST (test_alert_route_errors)
{
  static const gchar *const not_found[][2] = {
    {"POST", "/monitoring/alerts/no-such-alert-1/resolve"},
    {"GET", "/monitoring/alerts/no-such-alert-1"},
    {"GET", "/monitoring/alerts/x/y"},
    {"POST", "/monitoring/alerts//resolve"},
  };
  ApmTestResponse *r;
  JsonNode *doc;

  setup ();
  for (guint i = 0; i < G_N_ELEMENTS (not_found); i++) {
    doc = apm_test_http_json (session, not_found[i][0], base_url,
        not_found[i][1], 404);
    apm_test_check_error_doc (doc, 404);
    json_node_unref (doc);
  }

  r = apm_test_http (session, "GET", base_url,
      "/monitoring/alerts/whatever-1/resolve");
  fail_unless_equals_int (r->status, 405);
  fail_unless_equals_string (soup_message_headers_get_one (r->headers,
          "Allow"), "POST");
  doc = apm_test_parse_json (r);
  apm_test_check_error_doc (doc, 405);
  json_node_unref (doc);
  apm_test_response_free (r);

  /* the lists are read-only */
  for (guint i = 0; i < 3; i++) {
    const gchar *paths[] = { "/monitoring/alerts",
      "/monitoring/alerts/history", "/monitoring/alerts/rules"
    };

    r = apm_test_http (session, "POST", base_url, paths[i]);
    fail_unless_equals_int (r->status, 405);
    fail_unless (soup_message_headers_get_one (r->headers, "Allow") != NULL);
    fail_if (strstr (soup_message_headers_get_one (r->headers, "Allow"),
            "POST") != NULL);
    apm_test_response_free (r);
  }
}

GST_END_TEST;

/* audio_silence: an apmonitor on silence sets apm_monitor_silent; the rule
 * fires after its 10 s `for`, labelled with the pipeline and monitor, and
 * resolves when there is sound again. */
GST_START_TEST (test_audio_silence)
{
  GstElement *p, *src;
  JsonObject *a;
  gdouble for_s;
  gchar *id;

  setup ();
  p = start_pipeline ("audiotestsrc name=src is-live=true wave=silence "
      "samplesperbuffer=441 ! apmonitor name=mon interval=100000000 "
      "silence-duration=100000000 ! fakesink", "apm_silence");
  src = gst_bin_get_by_name (GST_BIN (p), "src");
  a = wait_alert ("/monitoring/alerts", "audio_silence", "pipeline",
      "apm_silence", "pending", 10 * T);
  check_alert_shape (a, "audio_silence", "pending", "warning");
  fail_unless_equals_string (label_of (a, "monitor"), "mon");
  fail_unless_equals_string (json_object_get_string_member (a, "message"),
      "Silence at mon in apm_silence");
  id = g_strdup (json_object_get_string_member (a, "id"));
  json_object_unref (a);
  for_s = rule_for_seconds ("audio_silence");
  a = wait_alert ("/monitoring/alerts", "audio_silence", "pipeline",
      "apm_silence", "firing", (10 + for_s) * T);
  fail_unless_equals_string (json_object_get_string_member (a, "id"), id);
  fail_unless (time_member (a, "fired_at") - time_member (a, "started_at")
      >= for_s * S);
  json_object_unref (a);

  g_object_set (src, "wave", 0 /* sine */ , NULL);
  a = wait_resolved (id, 10 * T);
  fail_unless_equals_string (json_object_get_string_member (a,
          "resolved_by"), "auto");
  json_object_unref (a);
  gst_object_unref (src);
  apm_test_stop (p);
  g_free (id);
}

GST_END_TEST;

/* A default rule with a shorter window (same name, same expression): to see
 * a windowed condition clear within the test. */
static void
replace_window (const gchar * name, const gchar * metric, ApmAggregation agg,
    gdouble window, const gchar * denominator, const gchar * message)
{
  ApmAlertRule *r = apm_alert_rule_new_expr (name, metric, agg, window,
      APM_CMP_GT, g_strcmp0 (name, "audio_clipping") == 0 ? 0.01 : 0);

  if (denominator)
    apm_alert_rule_set_denominator (r, denominator);
  apm_alert_rule_set_severity (r, APM_SEVERITY_WARNING);
  apm_alert_rule_set_message (r, message);
  apm_alerts_add_rule (alerts (), r);
}

/* audio_clipping: a full-scale square wave clips every sample: the default
 * rule (ratio over 30 s > 1 %) fires per channel; with the level lowered
 * and the window shortened to 2 s, it resolves. */
GST_START_TEST (test_audio_clipping)
{
  GstElement *p, *src;
  JsonObject *a;
  gchar *id;

  setup ();
  p = start_pipeline ("audiotestsrc name=src is-live=true wave=square "
      "volume=1.0 samplesperbuffer=441 "
      "! audio/x-raw,format=S16LE,channels=1,rate=44100 "
      "! apmonitor name=mon interval=100000000 ! fakesink", "apm_clip");
  src = gst_bin_get_by_name (GST_BIN (p), "src");
  a = wait_alert ("/monitoring/alerts", "audio_clipping", "pipeline",
      "apm_clip", "firing", 15 * T);
  check_alert_shape (a, "audio_clipping", "firing", "warning");
  fail_unless_equals_string (label_of (a, "monitor"), "mon");
  fail_unless (json_object_get_double_member (a, "value") > 0.5,
      "clipped ratio %g", json_object_get_double_member (a, "value"));
  fail_unless (strstr (json_object_get_string_member (a, "message"),
          "Clipping at mon in apm_clip") != NULL);
  id = g_strdup (json_object_get_string_member (a, "id"));
  json_object_unref (a);

  g_object_set (src, "volume", 0.5, NULL);
  replace_window ("audio_clipping", "apm_monitor_clipped_samples_total",
      APM_AGG_RATIO, 2, "apm_monitor_samples_total",
      "Clipping at {{monitor}} in {{pipeline}}: {{value}} of samples");
  a = wait_resolved (id, 10 * T);
  fail_unless_equals_string (json_object_get_string_member (a,
          "resolved_by"), "auto");
  json_object_unref (a);
  apm_defaults_install (service ());
  gst_object_unref (src);
  apm_test_stop (p);
  g_free (id);
}

GST_END_TEST;

/* audio_underruns: a live stream slowed down by 40 ms per 10 ms buffer
 * arrives after its deadline: the default rule (increase over 60 s > 0)
 * fires; with the delay removed and the window shortened, it resolves.
 * The monitor tolerates 20 ms: with the default 1 ms, scheduling jitter
 * alone makes "underruns" on a loaded machine (the source delivers each
 * buffer exactly at its deadline when the sink adds no latency). */
GST_START_TEST (test_audio_underruns)
{
  GstElement *p, *slow;
  JsonObject *a;
  gchar *id;

  setup ();
  p = start_pipeline ("audiotestsrc is-live=true samplesperbuffer=441 "
      "! identity name=slow sleep-time=40000 "
      "! apmonitor name=mon interval=100000000 tolerance=20000000 "
      "! fakesink", "apm_underrun");
  slow = gst_bin_get_by_name (GST_BIN (p), "slow");
  a = wait_alert ("/monitoring/alerts", "audio_underruns", "pipeline",
      "apm_underrun", "firing", 15 * T);
  check_alert_shape (a, "audio_underruns", "firing", "warning");
  fail_unless_equals_string (label_of (a, "monitor"), "mon");
  fail_unless (json_object_get_double_member (a, "value") > 0);
  id = g_strdup (json_object_get_string_member (a, "id"));
  json_object_unref (a);

  g_object_set (slow, "sleep-time", 0, NULL);
  replace_window ("audio_underruns", "apm_monitor_underruns_total",
      APM_AGG_INCREASE, 2, NULL, "{{value}} underruns at {{monitor}}");
  a = wait_resolved (id, 15 * T);
  fail_unless_equals_string (json_object_get_string_member (a,
          "resolved_by"), "auto");
  json_object_unref (a);
  apm_defaults_install (service ());
  gst_object_unref (slow);
  apm_test_stop (p);
  g_free (id);
}

GST_END_TEST;

/* latency_budget: a queue holding 0.7 s of a live stream puts the p95
 * end-to-end latency over the 0.5 s budget; the alert names source and
 * sink; when the queue lets go, it resolves. */
GST_START_TEST (test_latency_budget)
{
  GstElement *p, *q;
  JsonObject *a;
  gchar *id;

  setup ();
  p = start_pipeline ("audiotestsrc name=src is-live=true "
      "samplesperbuffer=441 ! queue name=q min-threshold-time=700000000 "
      "max-size-time=3000000000 max-size-buffers=0 max-size-bytes=0 "
      "! fakesink name=sink", "apm_latency");
  q = gst_bin_get_by_name (GST_BIN (p), "q");
  a = wait_alert ("/monitoring/alerts", "latency_budget", "pipeline",
      "apm_latency", "firing", 15 * T);
  check_alert_shape (a, "latency_budget", "firing", "warning");
  fail_unless_equals_string (label_of (a, "source"), "src");
  fail_unless_equals_string (label_of (a, "sink"), "sink");
  fail_unless (json_object_get_double_member (a, "value") > 0.5,
      "p95 %g s", json_object_get_double_member (a, "value"));
  id = g_strdup (json_object_get_string_member (a, "id"));
  json_object_unref (a);

  g_object_set (q, "min-threshold-time", (guint64) 0, NULL);
  a = wait_resolved (id, 15 * T);
  fail_unless_equals_string (json_object_get_string_member (a,
          "resolved_by"), "auto");
  json_object_unref (a);
  gst_object_unref (q);
  apm_test_stop (p);
  g_free (id);
}

GST_END_TEST;

static Suite *
apm_alerts_suite (void)
{
  Suite *s = suite_create ("apm_alerts");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_default_rules_use_published_metrics);
  tcase_add_test (tc, test_alert_route_errors);
  tcase_add_test (tc, test_for_is_honoured);
  tcase_add_test (tc, test_manual_resolve);
  tcase_add_test (tc, test_high_memory_usage);
  tcase_add_test (tc, test_slow_job_processing);
  tcase_add_test (tc, test_high_error_rate);
  tcase_add_test (tc, test_failure_before_playing_is_failed_job);
  tcase_add_test (tc, test_pipeline_stalled);
  tcase_add_test (tc, test_latency_budget);
  tcase_add_test (tc, test_default_rules_never_override);
  tcase_add_test (tc, test_audio_clipping);
  tcase_add_test (tc, test_audio_underruns);
  tcase_add_test (tc, test_audio_silence);
  return s;
}

int
main (int argc, char **argv)
{
  /* params are read at gst_init(); one service per process: no forking */
  apm_test_prepare_env ("apm(port=0,quiet=true,alert-interval=1,"
      "bus-messages=true)");
  g_setenv ("CK_FORK", "no", TRUE);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (apm_alerts_suite (), "apm_alerts", __FILE__);
}
