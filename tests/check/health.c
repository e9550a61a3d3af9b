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
#include "apm-monitor.h"

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
  if (base_url)
    return;
  base_url = apm_test_start_service ();
  session = apm_test_session_new ();
}

/* --- /health/monitoring --- */

static const gchar *
check_status (JsonNode * doc, const gchar * name)
{
  JsonObject *c = apm_test_health_check (doc, name);

  return c ? json_object_get_string_member (c, "status") : NULL;
}

static const gchar *
check_message (JsonNode * doc, const gchar * name)
{
  JsonObject *c = apm_test_health_check (doc, name);

  return c ? json_object_get_string_member (c, "message") : NULL;
}

/* The overall status follows the documented rule (see
 * apm_test_check_overall_status()); the system metrics count jobs. */
static void
check_overall (JsonNode * doc)
{
  JsonObject *mon = apm_test_member_object (json_node_get_object (doc),
      "monitoring");
  JsonObject *sys = apm_test_member_object (mon, "system_metrics");

  fail_unless (json_object_has_member (sys, "active_jobs"));
  apm_test_check_overall_status (doc);
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
    c = apm_test_health_check (doc, "apm_test_hang");
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
  fail_if (apm_test_health_check (doc, "apm_test_hang") != NULL);
  fail_if (apm_test_health_check (doc, "apm_test_quick") != NULL);
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
  fail_unless (apm_test_status_rank (json_object_get_string_member
          (json_node_get_object (doc), "status")) >= 1);
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

/* --- many hanging checks: the worker pool --- */

/* Checks that block until the test releases them all, counting how many
 * entered (are holding a worker) and returned. */
typedef struct
{
  GMutex lock;
  GCond cond;
  gint entered, returned;
  gboolean released;
} Crowd;

static Crowd crowd;

static void
crowd_block (Crowd * c)
{
  gint64 deadline = g_get_monotonic_time () + 120 * T;

  g_mutex_lock (&c->lock);
  c->entered++;
  g_cond_broadcast (&c->cond);
  while (!c->released)
    if (!g_cond_wait_until (&c->cond, &c->lock, deadline))
      break;
  c->returned++;
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
}

static gint
crowd_get (gint * field)
{
  gint v;

  g_mutex_lock (&crowd.lock);
  v = *field;
  g_mutex_unlock (&crowd.lock);
  return v;
}

static void
crowd_release (void)
{
  g_mutex_lock (&crowd.lock);
  crowd.released = TRUE;
  g_cond_broadcast (&crowd.cond);
  g_mutex_unlock (&crowd.lock);
}

static void
crowd_reset (void)
{
  g_mutex_lock (&crowd.lock);
  crowd.entered = crowd.returned = 0;
  crowd.released = FALSE;
  g_mutex_unlock (&crowd.lock);
}

/* waits until @field reaches @n; returns its value */
static gint
crowd_wait (gint * field, gint n, gint64 timeout_us)
{
  gint64 deadline = g_get_monotonic_time () + timeout_us;
  gint v;

  g_mutex_lock (&crowd.lock);
  while (*field < n)
    if (!g_cond_wait_until (&crowd.cond, &crowd.lock, deadline))
      break;
  v = *field;
  g_mutex_unlock (&crowd.lock);
  return v;
}

static ApmHealthStatus
crowd_check (gpointer user_data, gchar ** message, JsonObject ** details)
{
  crowd_block (&crowd);
  *message = g_strdup ("released");
  return APM_HEALTH_HEALTHY;
}

/* the same through the public API */
static ApmHealthStatus
crowd_api_check (gpointer user_data, gchar ** message, gchar ** details_json)
{
  crowd_block (&crowd);
  *message = g_strdup ("released");
  return APM_HEALTH_HEALTHY;
}

static gint fast_calls;

static ApmHealthStatus
fast_api_check (gpointer user_data, gchar ** message, gchar ** details_json)
{
  gint n = g_atomic_int_add (&fast_calls, 1) + 1;

  *message = g_strdup_printf ("run %d", n);
  *details_json = g_strdup_printf ("{\"run\": %d}", n);
  return APM_HEALTH_HEALTHY;
}

static gchar *
numbered (const gchar * prefix, guint i)
{
  return g_strdup_printf ("%s%02u", prefix, i);
}

/* GET /health/monitoring while something happens: every answer is fast */
static JsonNode *
get_health_fast (void)
{
  gint64 took;
  JsonNode *doc = get_health (&took);

  fail_unless (took < APM_TEST_SCALED (500 * 1000),
      "GET /health/monitoring took %.3f s", took / 1e6);
  return doc;
}

/* Releases the crowd and waits until all @n returned, then removes the
 * checks named @prefix00.. (@n of them) and @others. */
static void
crowd_finish (const gchar * prefix, guint n, const gchar * const *others)
{
  crowd_release ();
  fail_unless_equals_int (crowd_wait (&crowd.returned, n, 10 * T), n);
  for (guint i = 0; i < n; i++) {
    gchar *name = numbered (prefix, i);

    /* the public API's for the API check, the core's for the others */
    if (!apm_health_remove_check (health (), name))
      fail_unless (apm_monitor_remove_check (apm_monitor_get_default (),
              name), "check %s was not registered", name);
    g_free (name);
  }
  for (guint i = 0; others && others[i]; i++)
    fail_unless (apm_monitor_remove_check (apm_monitor_get_default (),
            others[i]));
}

/* Six checks hang (more than the pool's four threads), then a fast one is
 * due: the fast one still runs, at once and again and again, since a
 * stuck worker is replaced; the hanging ones are reported "timed out" two
 * seconds after they started, or "still running since" while within their
 * timeout (the public API's is 30 s); /health/monitoring answers at once
 * throughout.  Once released, every check has its result. */
GST_START_TEST (test_hanging_checks_do_not_starve)
{
  const guint n_core = 5;
  const gchar *const others[] = { "apm_test_starve_zfast", NULL };
  ApmMonitor *monitor = apm_monitor_get_default ();
  gint64 deadline;
  gint calls;
  gboolean done = FALSE;
  JsonNode *doc = NULL;
  JsonObject *c;

  setup ();
  crowd_reset ();
  for (guint i = 0; i < n_core; i++) {
    gchar *name = numbered ("apm_test_starve_", i);

    apm_health_add_check_full (health (), name, crowd_check, NULL, NULL, 1,
        2, TRUE);
    g_free (name);
  }
  apm_monitor_add_check (monitor, "apm_test_starve_05", 1, crowd_api_check,
      NULL, NULL);
  /* named last: dispatched after the hanging ones, queued behind them */
  apm_monitor_add_check (monitor, others[0], 1, fast_api_check, NULL, NULL);

  /* all six hold a worker at the same time: more than four threads */
  deadline = g_get_monotonic_time () + 10 * T;
  while (crowd_get (&crowd.entered) < (gint) n_core + 1
      && g_get_monotonic_time () < deadline) {
    json_node_unref (get_health_fast ());
    g_usleep (50 * 1000);
  }
  fail_unless_equals_int (crowd_get (&crowd.entered), n_core + 1);
  fail_unless_equals_int (crowd_get (&crowd.returned), 0);

  /* the fast check runs again and again while they hang */
  calls = g_atomic_int_get (&fast_calls);
  deadline = g_get_monotonic_time () + 10 * T;
  while (!done && g_get_monotonic_time () < deadline) {
    gboolean timed_out = TRUE;

    if (doc)
      json_node_unref (doc);
    doc = get_health_fast ();
    for (guint i = 0; i < n_core; i++) {
      gchar *name = numbered ("apm_test_starve_", i);

      timed_out &= g_strcmp0 (check_status (doc, name), "unhealthy") == 0;
      g_free (name);
    }
    done = timed_out && g_atomic_int_get (&fast_calls) >= calls + 3
        && g_strcmp0 (check_status (doc, others[0]), "healthy") == 0;
    if (!done)
      g_usleep (100 * 1000);
  }
  fail_unless (g_atomic_int_get (&fast_calls) >= calls + 3,
      "the fast check ran %d times in 10 s while others hung",
      g_atomic_int_get (&fast_calls) - calls);
  fail_unless_equals_string (check_status (doc, others[0]), "healthy");
  fail_unless (g_str_has_prefix (check_message (doc, others[0]), "run "));
  for (guint i = 0; i < n_core; i++) {
    gchar *name = numbered ("apm_test_starve_", i);

    fail_unless_equals_string (check_status (doc, name), "unhealthy");
    fail_unless (g_str_has_prefix (check_message (doc, name),
            "timed out after 2 s (still running since "), "%s: '%s'", name,
        check_message (doc, name));
    c = apm_test_health_check (doc, name);
    apm_test_parse_time (json_object_get_string_member (c,
            "running_since"));
    g_free (name);
  }
  /* within its timeout: no result yet, not dispatched twice */
  c = apm_test_health_check (doc, "apm_test_starve_05");
  fail_unless_equals_string (json_object_get_string_member (c, "status"),
      "unknown");
  fail_unless (g_str_has_prefix (json_object_get_string_member (c,
              "message"), "still running since "), "'%s'",
      json_object_get_string_member (c, "message"));
  fail_unless_equals_string (json_object_get_string_member
      (json_node_get_object (doc), "status"), "unhealthy");
  json_node_unref (doc);
  fail_unless_equals_int (crowd_get (&crowd.entered), n_core + 1);

  crowd_finish ("apm_test_starve_", n_core + 1, others);
  doc = get_health_fast ();
  fail_if (apm_test_health_check (doc, others[0]) != NULL);
  fail_if (apm_test_health_check (doc, "apm_test_starve_00") != NULL);
  json_node_unref (doc);
}

GST_END_TEST;

/* More hanging checks than the pool may ever have threads: the pool stops
 * growing at APM_HEALTH_MAX_WORKERS, and a check that cannot get a worker
 * is reported degraded "not started", with its place in the queue; it
 * runs once a worker is free. */
GST_START_TEST (test_pool_cap_reports_not_started)
{
  const guint n = APM_HEALTH_MAX_WORKERS + 1;
  const gchar *const others[] = { "apm_test_cap_zfast", NULL };
  gchar *last = numbered ("apm_test_cap_", n - 1);
  JsonNode *doc;
  gint calls;

  setup ();
  crowd_reset ();
  for (guint i = 0; i < n; i++) {
    gchar *name = numbered ("apm_test_cap_", i);

    apm_health_add_check_full (health (), name, crowd_check, NULL, NULL, 1,
        2, TRUE);
    g_free (name);
  }
  apm_monitor_add_check (apm_monitor_get_default (), others[0], 1,
      fast_api_check, NULL, NULL);
  calls = g_atomic_int_get (&fast_calls);

  fail_unless_equals_int (crowd_wait (&crowd.entered, n - 1, 20 * T),
      n - 1);
  doc = wait_check (others[0], "degraded", "not started: waiting ", 10 * T);
  /* behind the last hanging check, which waits too */
  fail_unless (strstr (check_message (doc, others[0]),
          "(1 checks ahead in the queue") != NULL, "'%s'",
      check_message (doc, others[0]));
  fail_unless_equals_string (check_status (doc, last), "degraded");
  fail_unless (g_str_has_prefix (check_message (doc, last),
          "not started: waiting "));
  json_node_unref (doc);
  /* capped: no more threads came */
  fail_unless_equals_int (crowd_get (&crowd.entered), n - 1);
  fail_unless_equals_int (g_atomic_int_get (&fast_calls), calls);

  /* released: the waiting ones run */
  crowd_release ();
  fail_unless_equals_int (crowd_wait (&crowd.entered, n, 10 * T), n);
  doc = wait_check (others[0], "healthy", "run ", 10 * T);
  json_node_unref (doc);
  doc = wait_check (last, "healthy", "released", 10 * T);
  json_node_unref (doc);
  crowd_finish ("apm_test_cap_", n, others);
  g_free (last);
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
  c = apm_test_health_check (doc, "pipeline:apm_hc");
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
  g_mutex_init (&crowd.lock);
  g_cond_init (&crowd.cond);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_hanging_check_times_out);
  tcase_add_test (tc, test_worker_check_status_counts);
  tcase_add_test (tc, test_hanging_checks_do_not_starve);
  tcase_add_test (tc, test_pool_cap_reports_not_started);
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
  crowd_release ();
  return ret;
}
