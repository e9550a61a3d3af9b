/* gst-apm tests: pipelines stuck in a state change, and PLAYING pipelines
 * whose sinks never get a buffer
 *
 * A live source behind a closed valve: the sink never prerolls, the
 * pipeline waits in PAUSED->PLAYING forever.  With stuck-timeout=1 its
 * health check must say so and name the sink, and pipeline_stuck must
 * fire; a pipeline that plays normally next to it must not be touched.
 *
 * Runs with GST_TRACERS="apm(port=0,quiet=true,stuck-timeout=1,
 * alert-interval=1)" and CK_FORK=no (one service per process).
 */
#include <gst/check/gstcheck.h>
#include <string.h>

#include "apmtestutil.h"

#define WAIT_US (20 * G_USEC_PER_SEC)

typedef struct
{
  const gchar *check;
  const gchar *status;
  const gchar *needle;          /* in the message */
} CheckQuery;

static gboolean
check_matches (JsonNode * doc, gpointer user_data)
{
  CheckQuery *q = user_data;
  JsonObject *c = apm_test_health_check (doc, q->check);
  const gchar *status, *message;

  if (!c)
    return FALSE;
  status = apm_test_str (c, "status");
  message = apm_test_str (c, "message");
  return g_strcmp0 (status, q->status) == 0 && message
      && strstr (message, q->needle);
}

/* waits until the health check @check is @status with @needle in its
 * message; returns the message */
static gchar *
wait_check (SoupSession * session, const gchar * url, const gchar * check,
    const gchar * status, const gchar * needle)
{
  CheckQuery q = { check, status, needle };
  JsonNode *doc = apm_test_wait_json (session, url, "/health/monitoring",
      check_matches, &q, APM_TEST_SCALED (WAIT_US));
  JsonObject *c = apm_test_health_check (doc, check);
  gchar *message;

  fail_unless (c != NULL, "no health check %s", check);
  message = g_strdup (apm_test_str (c, "message"));
  fail_unless (check_matches (doc, &q), "health check %s is %s: \"%s\", "
      "expected %s with \"%s\"", check, apm_test_str (c, "status"), message,
      status, needle);
  json_node_unref (doc);
  return message;
}

static gdouble
gauge (SoupSession * session, const gchar * url, const gchar * name,
    const gchar * pipeline)
{
  GHashTable *m = apm_test_fetch_metrics (session, url);
  gdouble v = -1;

  fail_unless (apm_test_metric_value (m, &v, name, "pipeline", pipeline,
          NULL), "no %s{pipeline=\"%s\"}", name, pipeline);
  g_hash_table_unref (m);
  return v;
}

static void
teardown (void)
{
  apm_test_stop_tracked ();
}

GST_START_TEST (test_stuck_in_preroll)
{
  SoupSession *session = apm_test_session_new ();
  GstElement *stuck = apm_test_parse_tracked ("audiotestsrc is-live=true "
      "! valve drop=true ! fakesink name=out sync=true", "stuckp");
  GstElement *fine = apm_test_parse_tracked ("audiotestsrc is-live=true "
      "! fakesink sync=true", "finep");
  gchar *url, *message;
  JsonObject *alert;
  JsonNode *doc;
  ApmTestAlertQuery none = { "pipeline_stuck", "pipeline", "finep", NULL,
    NULL, TRUE
  };

  fail_if (gst_element_set_state (stuck, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  url = apm_test_play_live (fine);

  message = wait_check (session, url, "pipeline:stuckp", "unhealthy",
      "stuck in PAUSED->PLAYING");
  fail_unless (strstr (message, "sink out has no buffer") != NULL,
      "the message does not name the sink: %s", message);
  GST_INFO ("stuck pipeline: %s", message);
  g_free (message);
  fail_unless (gauge (session, url, "apm_pipeline_stuck_seconds",
          "stuckp") >= 1);

  alert = apm_test_wait_alert (session, url, "/monitoring/alerts",
      "pipeline_stuck", "pipeline", "stuckp", "firing",
      APM_TEST_SCALED (WAIT_US));
  fail_unless (strstr (apm_test_member_string (alert, "message"), "stuckp"));
  json_object_unref (alert);

  /* the pipeline next to it plays on, healthy and not stuck */
  message = wait_check (session, url, "pipeline:finep", "healthy",
      "finep is PLAYING");
  g_free (message);
  fail_unless (gauge (session, url, "apm_pipeline_stuck_seconds",
          "finep") == 0);
  doc = apm_test_http_json (session, "GET", url, "/monitoring/alerts", 200);
  fail_unless (apm_test_alert_matches (doc, &none),
      "pipeline_stuck fired for the pipeline that plays");
  json_node_unref (doc);

  /* unblocked, it completes the change and is no longer stuck */
  {
    GstElement *valve = gst_bin_get_by_name (GST_BIN (stuck), "valve0");

    g_object_set (valve, "drop", FALSE, NULL);
    gst_object_unref (valve);
  }
  fail_unless_equals_int (gst_element_get_state (stuck, NULL, NULL,
          APM_TEST_BUS_TIMEOUT), GST_STATE_CHANGE_SUCCESS);
  message = wait_check (session, url, "pipeline:stuckp", "healthy",
      "stuckp is PLAYING");
  g_free (message);

  apm_test_stop_untrack (stuck);
  apm_test_stop_untrack (fine);
  g_free (url);
  g_object_unref (session);
}

GST_END_TEST;

/* async=false: the pipeline reaches PLAYING though its sink never got a
 * buffer; that is a stall like a flow that stopped */
GST_START_TEST (test_playing_without_first_buffer)
{
  SoupSession *session = apm_test_session_new ();
  GstElement *p = apm_test_parse_tracked ("audiotestsrc is-live=true "
      "! valve drop=true ! fakesink name=dry sync=true async=false", "dryp");
  gchar *url, *message;

  url = apm_test_play_live (p);
  message = wait_check (session, url, "pipeline:dryp", "unhealthy",
      "is PLAYING but stalled");
  fail_unless (strstr (message, "sink dry has no buffer") != NULL,
      "the message does not name the sink: %s", message);
  g_free (message);
  fail_unless (gauge (session, url, "apm_pipeline_stalled_seconds",
          "dryp") > 0);
  fail_unless (gauge (session, url, "apm_pipeline_stuck_seconds",
          "dryp") == 0);
  apm_test_stop_untrack (p);
  g_free (url);
  g_object_unref (session);
}

GST_END_TEST;

static Suite *
apm_stuck_suite (void)
{
  Suite *s = suite_create ("apm_stuck");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, NULL, teardown);
  tcase_add_test (tc, test_stuck_in_preroll);
  tcase_add_test (tc, test_playing_without_first_buffer);
  return s;
}

int
main (int argc, char **argv)
{
  apm_test_prepare_env ("apm(port=0,quiet=true,stuck-timeout=1,"
      "alert-interval=1)");
  g_setenv ("CK_FORK", "no", TRUE);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (apm_stuck_suite (), "apm_stuck", __FILE__);
}
