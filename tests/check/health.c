/* gst-apm tests: health checks (issue 5)
 *
 * Runs with GST_TRACERS="apm(port=0,quiet=true,alert-interval=1)" and
 * CK_FORK=no (one service per process).  Checks that may block run in
 * workers with a timeout: a hanging one must neither delay
 * /health/monitoring nor stop the other checks, and is reported
 * "timed out".  The overall status is the worst of the checks and of the
 * firing alerts.  Pipelines have a check of their own.
 */
#include <gst/check/gstcheck.h>
#include <string.h>

#include "apmtestutil.h"
#include "apm-service.h"

#define S (G_USEC_PER_SEC)
/* deadlines (upper bounds) stretch under valgrind and sanitizers */
#define T (APM_TEST_SCALED (G_USEC_PER_SEC))

static SoupSession *session;
static gchar *base_url;

static ApmService *
service (void)
{
  return apm_service_get_default ();
}

static ApmHealth *
health (void)
{
  return apm_service_get_health (service ());
}

static void
setup (void)
{
  GError *error = NULL;

  if (base_url)
    return;
  fail_unless (apm_service_ensure_started (service (), &error),
      "service not started: %s", error ? error->message : "?");
  base_url = apm_service_get_url (service ());
  fail_unless (base_url != NULL);
  session = apm_test_session_new ();
}

/* --- /health/monitoring --- */

static JsonObject *
checks_of (JsonNode * doc)
{
  JsonObject *mon = json_object_get_object_member (json_node_get_object (doc),
      "monitoring");

  fail_unless (mon != NULL, "no \"monitoring\"");
  return json_object_get_object_member (mon, "health_checks");
}

static JsonObject *
check_of (JsonNode * doc, const gchar * name)
{
  JsonObject *checks = checks_of (doc);

  return json_object_has_member (checks, name) ?
      json_object_get_object_member (checks, name) : NULL;
}

static const gchar *
check_status (JsonNode * doc, const gchar * name)
{
  JsonObject *c = check_of (doc, name);

  return c ? json_object_get_string_member (c, "status") : NULL;
}

static const gchar *
check_message (JsonNode * doc, const gchar * name)
{
  JsonObject *c = check_of (doc, name);

  return c ? json_object_get_string_member (c, "message") : NULL;
}

static gint
rank (const gchar * status)
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

/* The overall status is the worst of the checks that ran and of the
 * firing alerts' severities; active_alerts are the firing alerts. */
static void
check_overall (JsonNode * doc)
{
  JsonObject *root = json_node_get_object (doc);
  JsonObject *mon = json_object_get_object_member (root, "monitoring");
  JsonArray *active = json_object_get_array_member (mon, "active_alerts");
  JsonObject *sys = json_object_get_object_member (mon, "system_metrics");
  JsonObject *checks = checks_of (doc);
  GList *names = json_object_get_members (checks);
  gint worst = 0;

  fail_unless (sys != NULL, "no system_metrics");
  fail_unless (json_object_has_member (sys, "active_jobs"));
  for (GList * l = names; l; l = l->next) {
    JsonObject *c = json_object_get_object_member (checks, l->data);
    const gchar *st = json_object_get_string_member (c, "status");

    fail_unless (json_object_get_string_member (c, "message") != NULL,
        "check %s without a message", (gchar *) l->data);
    if (g_strcmp0 (st, "unknown") == 0) {
      fail_if (json_object_has_member (c, "last_run"));
      continue;
    }
    worst = MAX (worst, rank (st));
    apm_test_parse_time (json_object_get_string_member (c, "last_run"));
    fail_unless (json_object_get_double_member (c, "duration_seconds") >= 0);
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
  fail_unless_equals_int (rank (json_object_get_string_member (root,
              "status")), worst);
}

/* GET /health/monitoring, timed: it must never wait on a check. */
static JsonNode *
get_health (gint64 * took_us)
{
  gint64 t0 = g_get_monotonic_time ();
  JsonNode *doc = apm_test_http_json (session, "GET", base_url,
      "/health/monitoring", 200);

  *took_us = g_get_monotonic_time () - t0;
  check_overall (doc);
  return doc;
}

typedef struct
{
  const gchar *name, *status, *message_prefix;
} CheckQuery;

static gboolean
check_matches (JsonNode * doc, gpointer user_data)
{
  CheckQuery *q = user_data;
  const gchar *st = check_status (doc, q->name);
  const gchar *msg = check_message (doc, q->name);

  if (!q->status)
    return st == NULL;
  return g_strcmp0 (st, q->status) == 0 && (!q->message_prefix
      || (msg && g_str_has_prefix (msg, q->message_prefix)));
}

static JsonNode *
wait_check (const gchar * name, const gchar * status, const gchar * prefix,
    gint64 timeout_us)
{
  CheckQuery q = { name, status, prefix };
  JsonNode *doc = apm_test_wait_json (session, base_url, "/health/monitoring",
      check_matches, &q, timeout_us);
  gchar *text = json_to_string (doc, TRUE);

  fail_unless (check_matches (doc, &q), "check %s not %s%s%s within %"
      G_GINT64_FORMAT " s: %s", name, status ? status : "gone",
      prefix ? " with " : "", prefix ? prefix : "", timeout_us / S, text);
  g_free (text);
  check_overall (doc);
  return doc;
}

/* --- checks written for the tests --- */

typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean entered, released, returned;
  gint calls;
} Hang;

static Hang hang;

/* Blocks until the test releases it (bounded, so that a failing test
 * cannot leave a thread blocked for ever). */
static ApmHealthStatus
hanging_check (gpointer user_data, gchar ** message, JsonObject ** details)
{
  Hang *h = user_data;
  gint64 deadline = g_get_monotonic_time () + 60 * T;

  g_mutex_lock (&h->lock);
  h->calls++;
  h->entered = TRUE;
  g_cond_broadcast (&h->cond);
  while (!h->released)
    if (!g_cond_wait_until (&h->cond, &h->lock, deadline))
      break;
  h->returned = TRUE;
  g_cond_broadcast (&h->cond);
  g_mutex_unlock (&h->lock);
  *message = g_strdup ("released");
  return APM_HEALTH_HEALTHY;
}

static gboolean
hang_wait (gboolean * flag, gint64 timeout_us)
{
  gint64 deadline = g_get_monotonic_time () + timeout_us;
  gboolean ok;

  g_mutex_lock (&hang.lock);
  while (!*flag)
    if (!g_cond_wait_until (&hang.cond, &hang.lock, deadline))
      break;
  ok = *flag;
  g_mutex_unlock (&hang.lock);
  return ok;
}

static gint quick_calls;

static ApmHealthStatus
quick_check (gpointer user_data, gchar ** message, JsonObject ** details)
{
  gint n = g_atomic_int_add (&quick_calls, 1) + 1;

  *message = g_strdup_printf ("run %d", n);
  *details = json_object_new ();
  json_object_set_int_member (*details, "run", n);
  return APM_HEALTH_HEALTHY;
}

static ApmHealthStatus
degraded_check (gpointer user_data, gchar ** message, JsonObject ** details)
{
  *message = g_strdup ("half way");
  return APM_HEALTH_DEGRADED;
}

/* A worker check that hangs: /health/monitoring answers at once all the
 * same, shows the check unhealthy "timed out ..." once past its 1 s
 * timeout, and the other checks (inline and in workers) keep running.
 * Once released, its late result counts. */
GST_START_TEST (test_hanging_check_times_out)
{
  gint64 took, worst = 0, t_add, t_enter, deadline;
  JsonNode *doc;
  JsonObject *c;
  gint quick_before;
  gboolean timed_out = FALSE;
  ApmTestResponse *r;

  setup ();
  t_add = g_get_monotonic_time ();
  apm_health_add_check_full (health (), "apm_test_hang", hanging_check,
      &hang, NULL, 1, 1, TRUE);
  apm_health_add_check_full (health (), "apm_test_quick", quick_check, NULL,
      NULL, 1, 5, TRUE);

  /* dispatched within a second (the service thread's tick), or by the
   * request itself */
  doc = get_health (&took);
  fail_unless (took < APM_TEST_SCALED (500 * 1000), "GET /health/monitoring took %.3f s",
      took / 1e6);
  json_node_unref (doc);
  fail_unless (hang_wait (&hang.entered, 5 * T), "hanging check never ran");
  t_enter = g_get_monotonic_time ();

  /* while it hangs: every answer is fast; after its timeout: unhealthy,
   * "timed out" */
  deadline = t_enter + 10 * T;
  while (!timed_out && g_get_monotonic_time () < deadline) {
    doc = get_health (&took);
    worst = MAX (worst, took);
    c = check_of (doc, "apm_test_hang");
    fail_unless (c != NULL, "apm_test_hang not listed");
    if (g_strcmp0 (json_object_get_string_member (c, "status"),
            "unhealthy") == 0) {
      const gchar *msg = json_object_get_string_member (c, "message");

      fail_unless (g_str_has_prefix (msg, "timed out"), "message '%s'", msg);
      /* counted from its dispatch, which follows its addition */
      fail_unless (g_get_monotonic_time () - t_add >= 1 * S,
          "timed out %.3f s after the check was added, before its 1 s "
          "timeout", (g_get_monotonic_time () - t_add) / 1e6);
      fail_unless_equals_string (json_object_get_string_member
          (json_node_get_object (doc), "status"), "unhealthy");
      apm_test_parse_time (json_object_get_string_member (c, "last_run"));
      timed_out = TRUE;
    } else {
      /* never run to the end yet */
      fail_unless_equals_string (json_object_get_string_member (c,
              "status"), "unknown");
      g_usleep (20 * 1000);
    }
    json_node_unref (doc);
  }
  fail_unless (timed_out, "apm_test_hang never reported timed out");
  fail_unless (worst < APM_TEST_SCALED (500 * 1000), "GET /health/monitoring took %.3f s "
      "while a check hung", worst / 1e6);
  fail_if (hang.returned, "the check was not hanging");

  /* /ready says not ready while a check is unhealthy */
  r = apm_test_http (session, "GET", base_url, "/ready");
  fail_unless_equals_int (r->status, 503);
  apm_test_response_free (r);

  /* the other worker check still runs, again and again */
  quick_before = g_atomic_int_get (&quick_calls);
  fail_unless (quick_before >= 1, "quick check never ran");
  deadline = g_get_monotonic_time () + 10 * T;
  while (g_atomic_int_get (&quick_calls) < quick_before + 2
      && g_get_monotonic_time () < deadline) {
    doc = get_health (&took);
    fail_unless (took < APM_TEST_SCALED (500 * 1000));
    json_node_unref (doc);
    g_usleep (50 * 1000);
  }
  fail_unless (g_atomic_int_get (&quick_calls) >= quick_before + 2,
      "quick check stopped running while the other one hung");
  doc = get_health (&took);
  fail_unless_equals_string (check_status (doc, "apm_test_quick"), "healthy");
  fail_unless (g_str_has_prefix (check_message (doc, "apm_test_quick"),
          "run "));
  /* the inline built-in checks ran too */
  fail_unless (check_status (doc, "memory") != NULL);
  fail_unless (g_strcmp0 (check_status (doc, "memory"), "unknown") != 0);
  fail_unless (check_status (doc, "cpu") != NULL);
  fail_unless (check_status (doc, "monitor") != NULL);
  /* still timed out, and still fast */
  fail_unless_equals_string (check_status (doc, "apm_test_hang"),
      "unhealthy");
  json_node_unref (doc);

  /* released: its (late) result is the latest */
  g_mutex_lock (&hang.lock);
  hang.released = TRUE;
  g_cond_broadcast (&hang.cond);
  g_mutex_unlock (&hang.lock);
  fail_unless (hang_wait (&hang.returned, 5 * T));
  doc = wait_check ("apm_test_hang", "healthy", "released", 5 * T);
  json_node_unref (doc);

  fail_unless (apm_health_remove_check (health (), "apm_test_hang"));
  fail_unless (apm_health_remove_check (health (), "apm_test_quick"));
  doc = get_health (&took);
  fail_if (check_of (doc, "apm_test_hang") != NULL);
  fail_if (check_of (doc, "apm_test_quick") != NULL);
  json_node_unref (doc);
}

GST_END_TEST;

/* A worker check's status counts in the overall status; removing the check
 * takes it out of the document. */
GST_START_TEST (test_worker_check_status_counts)
{
  JsonNode *doc;

  setup ();
  apm_health_add_check_full (health (), "apm_test_degraded", degraded_check,
      NULL, NULL, 1, 2, TRUE);
  doc = wait_check ("apm_test_degraded", "degraded", "half way", 5 * T);
  fail_unless (rank (json_object_get_string_member (json_node_get_object
              (doc), "status")) >= 1);
  json_node_unref (doc);
  /* replacing by name */
  apm_health_add_check_full (health (), "apm_test_degraded", quick_check,
      NULL, NULL, 1, 2, TRUE);
  doc = wait_check ("apm_test_degraded", "healthy", "run ", 5 * T);
  json_node_unref (doc);
  fail_unless (apm_health_remove_check (health (), "apm_test_degraded"));
  fail_if (apm_health_remove_check (health (), "apm_test_degraded"));
  doc = wait_check ("apm_test_degraded", NULL, NULL, 1 * T);
  json_node_unref (doc);
}

GST_END_TEST;

/* Each watched pipeline has a check "pipeline:NAME": healthy while
 * PLAYING (and not stalled), degraded once stopped, gone with the
 * pipeline. */
GST_START_TEST (test_pipeline_check_lifecycle)
{
  GstElement *p;
  JsonNode *doc;
  JsonObject *c, *details;

  setup ();
  p = apm_test_parse ("audiotestsrc is-live=true ! fakesink", "apm_hc");
  fail_if (gst_element_set_state (p, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  doc = wait_check ("pipeline:apm_hc", "healthy", "apm_hc is PLAYING", 5 * T);
  c = check_of (doc, "pipeline:apm_hc");
  details = json_object_get_object_member (c, "details");
  fail_unless (details != NULL);
  fail_unless_equals_string (json_object_get_string_member (details,
          "pipeline"), "apm_hc");
  fail_unless_equals_string (json_object_get_string_member (details,
          "state"), "PLAYING");
  json_node_unref (doc);

  fail_unless_equals_int (gst_element_set_state (p, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  doc = wait_check ("pipeline:apm_hc", "degraded", "apm_hc is stopped",
      5 * T);
  json_node_unref (doc);

  gst_object_unref (p);
  doc = wait_check ("pipeline:apm_hc", NULL, NULL, 5 * T);
  json_node_unref (doc);
}

GST_END_TEST;

static Suite *
apm_health_suite (void)
{
  Suite *s = suite_create ("apm_health");
  TCase *tc = tcase_create ("general");

  g_mutex_init (&hang.lock);
  g_cond_init (&hang.cond);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_hanging_check_times_out);
  tcase_add_test (tc, test_worker_check_status_counts);
  tcase_add_test (tc, test_pipeline_check_lifecycle);
  return s;
}

int
main (int argc, char **argv)
{
  int ret;

  apm_test_prepare_env ("apm(port=0,quiet=true,alert-interval=1)");
  g_setenv ("CK_FORK", "no", TRUE);
  gst_check_init (&argc, &argv);
  ret = gst_check_run_suite (apm_health_suite (), "apm_health", __FILE__);
  /* never leave the hanging check blocked (a failed test may have) */
  g_mutex_lock (&hang.lock);
  hang.released = TRUE;
  g_cond_broadcast (&hang.cond);
  g_mutex_unlock (&hang.lock);
  return ret;
}
