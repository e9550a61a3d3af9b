/* gst-apm tests: many pipelines, one after another, in one process
 *
 * A long-running application creates, runs and disposes pipelines all day:
 * what the tracer keeps for them must go with them.  Series of a disposed
 * pipeline are swept a grace period after it goes; this program sets
 * APM_SERIES_GRACE_SECONDS=1 (before gst_init, so before the service
 * exists) to see the sweep within the test.
 *
 * A separate program from tracer_timing: the grace setting and the series
 * count must not be shared with other tests.
 */
#include <gst/check/gstcheck.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apmtestutil.h"
#include "apm-service.h"

#define GRACE_SECONDS 1
/* the sweep runs once a second: grace + a second + margin for a slow box */
#define SWEEP_TIMEOUT_US APM_TEST_SCALED ((GRACE_SECONDS + 5) * G_USEC_PER_SEC)
#define METRICS_TIMEOUT_US APM_TEST_SCALED (10 * G_USEC_PER_SEC)

/* the process's service, once a run has reported it */
static const gchar *service_url;

/* bytes allocated with malloc and not freed, all arenas */
static gsize
heap_in_use (void)
{
  struct mallinfo2 mi = mallinfo2 ();

  return mi.uordblks + mi.hblkhd;
}

static gdouble
service_series (GHashTable * m)
{
  gdouble v = -1;

  fail_unless (apm_test_metric_value (m, &v, "apm_service_series", NULL),
      "no apm_service_series");
  return v;
}

/* Series labelled pipeline=@pipeline, as a newline-separated list. */
static gchar *
series_of_pipeline (GHashTable * m, const gchar * pipeline, guint * n)
{
  gchar *needle = g_strdup_printf ("pipeline=\"%s\"", pipeline);
  GString *found = g_string_new (NULL);
  GHashTableIter it;
  const gchar *key;

  *n = 0;
  g_hash_table_iter_init (&it, m);
  while (g_hash_table_iter_next (&it, (gpointer *) & key, NULL)) {
    if (strstr (key, needle)) {
      /* a few for the failure message (check caps its length) */
      if (*n < 6)
        g_string_append_printf (found, "\n  %s", key);
      else if (*n == 6)
        g_string_append (found, "\n  ...");
      (*n)++;
    }
  }
  g_free (needle);
  return g_string_free (found, FALSE);
}

static gboolean
pipeline_has_no_series (GHashTable * m, gpointer user_data)
{
  guint n;

  g_free (series_of_pipeline (m, user_data, &n));
  return n == 0;
}

static gboolean
has_series (GHashTable * m, gpointer user_data)
{
  return g_hash_table_contains (m, user_data);
}

/* Disposes @pipeline and waits for every series labelled with its name to
 * be swept. */
static void
dispose_and_check_swept (SoupSession * session, GstElement * pipeline)
{
  gchar *name = gst_object_get_name (GST_OBJECT (pipeline));
  GHashTable *m;
  gchar *left;
  guint n;

  apm_test_stop (pipeline);
  m = apm_test_wait_metrics (session, service_url, pipeline_has_no_series,
      name, SWEEP_TIMEOUT_US);
  left = series_of_pipeline (m, name, &n);
  fail_unless (n == 0, "%u series of disposed pipeline %s still there "
      "%d s after it went (grace %d s: APM_SERIES_GRACE_SECONDS honoured?):"
      "%s", n, name, (gint) (SWEEP_TIMEOUT_US / G_USEC_PER_SEC),
      GRACE_SECONDS, left);
  g_free (left);
  g_hash_table_unref (m);
  g_free (name);
}

/* A pipeline that stayed PLAYING long enough for the once-a-second
 * collector to see it (state, live, reported latency): all its series go
 * after it is disposed. */
GST_START_TEST (test_disposed_playing_pipeline_swept)
{
  GstElement *pipeline = apm_test_parse ("audiotestsrc is-live=true "
      "samplesperbuffer=441 ! queue ! fakesink sync=true", "churn_live");
  SoupSession *session = apm_test_session_new ();
  GHashTable *m;
  gchar *u;

  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  /* the service listens once the pipeline is READY (no bus message) */
  u = apm_service_get_url (apm_service_get_default ());
  service_url = apm_test_url_of_run (u);
  m = apm_test_wait_metrics (session, service_url, has_series,
      (gpointer) "apm_pipeline_live{pipeline=\"churn_live\"}",
      METRICS_TIMEOUT_US);
  fail_unless (apm_test_metric_value (m, NULL, "apm_pipeline_state",
          "pipeline", "churn_live", NULL));
  fail_unless (apm_test_metric_value (m, NULL, "apm_pipeline_live",
          "pipeline", "churn_live", NULL), "the collector never saw the "
      "PLAYING pipeline");
  g_hash_table_unref (m);

  dispose_and_check_swept (session, pipeline);
  g_object_unref (session);
}

GST_END_TEST;

/* An element that posted an ERROR: its message counter goes with the
 * pipeline too. */
GST_START_TEST (test_disposed_failed_pipeline_swept)
{
  GstElement *pipeline = apm_test_parse ("audiotestsrc num-buffers=10 "
      "! identity name=id error-after=2 ! fakesink sync=false", "churn_error");
  SoupSession *session = apm_test_session_new ();
  GHashTable *m;
  gchar *u, *key;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  apm_test_wait (pipeline, TRUE, &u, NULL, NULL);
  service_url = apm_test_url_of_run (u);
  key = g_strdup ("apm_element_messages_total{element=\"id\","
      "pipeline=\"churn_error\",type=\"error\"}");
  m = apm_test_wait_metrics (session, service_url, has_series, key,
      METRICS_TIMEOUT_US);
  fail_unless (g_hash_table_contains (m, key), "no %s", key);
  g_hash_table_unref (m);
  g_free (key);

  dispose_and_check_swept (session, pipeline);
  g_object_unref (session);
}

GST_END_TEST;

/* apm_service_series, read from /metrics without building a table: the
 * test's own parsing of a large exposition would weigh on the process's
 * RSS, which the churn test measures */
static gdouble
series_now (SoupSession * session)
{
  ApmTestResponse *r = apm_test_http (session, "GET", service_url,
      "/metrics");
  gsize len;
  const gchar *data = g_bytes_get_data (r->body, &len);
  gchar *text = g_strndup (data, len);
  const gchar *line = strstr (text, "\napm_service_series ");
  gdouble v;

  fail_unless_equals_int (r->status, 200);
  fail_unless (line != NULL, "no apm_service_series in /metrics");
  v = g_ascii_strtod (line + strlen ("\napm_service_series "), NULL);
  g_free (text);
  apm_test_response_free (r);
  return v;
}

/* Waits until the service holds at most @at_most series; returns the
 * last count seen. */
static gdouble
wait_series_at_most (SoupSession * session, gdouble at_most)
{
  gint64 deadline = g_get_monotonic_time () + SWEEP_TIMEOUT_US;
  gdouble n;

  while ((n = series_now (session)) > at_most
      && g_get_monotonic_time () < deadline)
    g_usleep (50 * 1000);
  return n;
}

static void
run_pipelines (const gchar * desc, guint n)
{
  for (guint i = 0; i < n; i++) {
    GstElement *pipeline = apm_test_parse (desc, NULL);

    apm_test_run_to_eos (pipeline, NULL, NULL);
    apm_test_stop (pipeline);
  }
}

/* Pipelines created, run to EOS and disposed in turn, as an application
 * would (default names: pipelineN, audiotestsrcN...).  What they leave
 * behind once the grace is over must not depend on how many ran: neither
 * the series held nor the memory. */
GST_START_TEST (test_churn_bounded)
{
  const gchar *desc = "audiotestsrc num-buffers=3 ! audioconvert "
      "! queue ! fakesink sync=false";
  SoupSession *session = apm_test_session_new ();
  GstElement *pipeline;
  gsize rss_200, rss_400, heap_200, heap_400;
  gdouble with_one, bound, n;
  GHashTable *m;
  gchar *u;

  /* the series of the service with one such pipeline alive */
  pipeline = apm_test_parse (desc, NULL);
  apm_test_run_to_eos (pipeline, &u, NULL);
  m = apm_test_fetch_metrics (session,
      (service_url = apm_test_url_of_run (u)));
  with_one = service_series (m);
  g_hash_table_unref (m);
  apm_test_stop (pipeline);
  /* with none alive, fewer; a small slack for what belongs to no pipeline
   * (streaming threads' CPU series, job outcomes) */
  bound = with_one + 8;

  run_pipelines (desc, 199);
  n = wait_series_at_most (session, bound);
  fail_unless (n <= bound, "%.0f series %d s after 200 pipelines were "
      "disposed, %.0f with one alive: series of disposed pipelines not "
      "swept (grace %d s: APM_SERIES_GRACE_SECONDS honoured?)", n,
      (gint) (SWEEP_TIMEOUT_US / G_USEC_PER_SEC), with_one, GRACE_SECONDS);
  /* The first few hundred pipelines warm the allocator up: the streaming
   * threads' malloc arenas grow while series wait out their grace, and
   * freed chunks are kept for reuse (RSS +15 MB from pipeline 50 to 200
   * with 3 MB more in use).  So memory is compared from a swept state
   * after 200 to a swept state after 200 more. */
  rss_200 = apm_test_self_rss () / 1024;
  heap_200 = heap_in_use ();

  run_pipelines (desc, 200);
  n = wait_series_at_most (session, bound);
  fail_unless (n <= bound, "%.0f series %d s after 400 pipelines were "
      "disposed, %.0f with one alive", n,
      (gint) (SWEEP_TIMEOUT_US / G_USEC_PER_SEC), with_one);
  rss_400 = apm_test_self_rss () / 1024;
  heap_400 = heap_in_use ();
  /* A pipeline's stats and series are ~50 KiB while held: leaking them
   * would be 10 MB here.  What legitimately grows is the jobs kept (up to
   * 1000 runs) and the log ring: about 1 MB of heap for 200 runs. */
  fail_unless (heap_400 < heap_200 + 3 * 1024 * 1024, "heap in use grew "
      "by %zu KiB from pipeline 200 to pipeline 400, both measured after "
      "the sweep", (heap_400 - heap_200) / 1024);
  /* RSS is reported, not asserted: it follows the allocator (glibc's
   * per-thread arenas, ASan's quarantine) more than our heap, which the
   * assertion above bounds */
  g_print ("churn: RSS %+ld KiB, heap %+ld KiB from pipeline 200 to 400\n",
      (glong) rss_400 - (glong) rss_200,
      ((glong) heap_400 - (glong) heap_200) / 1024);

  g_object_unref (session);
}

GST_END_TEST;

static Suite *
apm_tracer_churn_suite (void)
{
  Suite *s = suite_create ("apm_tracer_churn");
  TCase *tc = tcase_create ("churn");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_disposed_playing_pipeline_swept);
  tcase_add_test (tc, test_disposed_failed_pipeline_swept);
  tcase_add_test (tc, test_churn_bounded);
  return s;
}

int
main (int argc, char **argv)
{
  gchar *grace = g_strdup_printf ("%d", GRACE_SECONDS);

  apm_test_prepare_env ("apm(port=0,quiet=true)");
  g_setenv ("APM_SERIES_GRACE_SECONDS", grace, TRUE);
  g_free (grace);
  g_setenv ("CK_FORK", "no", TRUE);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (apm_tracer_churn_suite (), "apm_tracer_churn",
      __FILE__);
}
