/* gst-apm tests: GET /monitoring/jobs/compare, the A/B comparison of
 * labelled jobs
 *
 * Jobs are started through the public API with labels; the comparison is
 * read on the HTTP service and checked against the jobs' own documents
 * (/monitoring/jobs) and the statistics of apm-abstats.h, whose values are
 * checked against SciPy in abstats.c.
 */
#include <gst/check/gstcheck.h>
#include <math.h>
#include <string.h>

#include <apm.h>
#include "apm-abstats.h"
#include "apmtestutil.h"

static ApmMonitor *monitor;
static gchar *base_url;
static SoupSession *session;

static void
ensure_server (void)
{
  GError *error = NULL;

  if (base_url)
    return;
  monitor = apm_monitor_get_default ();
  fail_unless (apm_monitor_start_server (monitor, NULL, 0, &error),
      "start_server: %s", error ? error->message : "?");
  base_url = apm_monitor_get_url (monitor);
  session = apm_test_session_new ();
}

static JsonNode *
get_json (const gchar * path, guint status)
{
  return apm_test_http_json (session, "GET", base_url, path, status);
}

static void
run_job (const gchar * key, const gchar * value, guint i, gulong sleep_us,
    gboolean success)
{
  GHashTable *labels = g_hash_table_new (g_str_hash, g_str_equal);
  gchar *id = g_strdup_printf ("cmp-%s-%s-%u", key, value, i);
  gchar *cid;

  g_hash_table_insert (labels, (gpointer) key, (gpointer) value);
  cid = apm_monitor_start_job_tracking_full (monitor, id, NULL, labels);
  fail_unless (cid != NULL);
  if (sleep_us)
    g_usleep (sleep_us);        /* the job's work: makes it slower */
  fail_unless (apm_monitor_complete_job_tracking (monitor, id,
          success ? "success" : "failed", success ? NULL : "test failure"));
  g_hash_table_unref (labels);
  g_free (cid);
  g_free (id);
}

static JsonObject *
find_by (JsonArray * arr, const gchar * member, const gchar * value)
{
  for (guint i = 0; i < json_array_get_length (arr); i++) {
    JsonObject *o = json_array_get_object_element (arr, i);

    if (g_strcmp0 (apm_test_str (o, member), value) == 0)
      return o;
  }
  return NULL;
}

static void
check_error (const gchar * path, const gchar * words)
{
  JsonNode *doc = get_json (path, 400);
  JsonObject *error = apm_test_member_object (json_node_get_object (doc),
      "error");

  fail_unless (strstr (apm_test_member_string (error, "message"), words),
      "%s: message '%s' lacks '%s'", path, apm_test_member_string (error,
          "message"), words);
  json_node_unref (doc);
}

GST_START_TEST (test_compare_bad_requests)
{
  JsonNode *doc;
  JsonObject *o;

  ensure_server ();
  check_error ("/monitoring/jobs/compare", "by is required");
  check_error ("/monitoring/jobs/compare?by=", "by is required");
  check_error ("/monitoring/jobs/compare?since=-60", "by is required");
  check_error ("/monitoring/jobs/compare?by=variant&since=yesterday",
      "since must be");
  check_error ("/monitoring/jobs/compare?by=cmp_nobody&baseline=a",
      "baseline");
  /* a label no job has: nothing to compare, not an error */
  doc = get_json ("/monitoring/jobs/compare?by=cmp_nobody", 200);
  o = json_node_get_object (doc);
  fail_unless_equals_int (apm_test_member_int (o, "jobs"), 0);
  fail_unless (json_object_get_null_member (o, "baseline"));
  fail_unless_equals_int (json_array_get_length (json_object_get_array_member
          (o, "groups")), 0);
  fail_unless_equals_int (json_array_get_length (json_object_get_array_member
          (o, "comparisons")), 0);
  json_node_unref (doc);
}

GST_END_TEST;

/* the processing seconds of the successful jobs of group @value, sorted */
static GArray *
times_of (JsonNode * jobs_doc, const gchar * key, const gchar * value,
    guint * count, guint * succeeded)
{
  JsonArray *finished = json_object_get_array_member (json_node_get_object
      (jobs_doc), "finished");
  GArray *times = g_array_new (FALSE, FALSE, sizeof (gdouble));

  *count = *succeeded = 0;
  for (guint i = 0; i < json_array_get_length (finished); i++) {
    JsonObject *j = json_array_get_object_element (finished, i);
    JsonObject *labels = json_object_get_object_member (j, "labels");
    gdouble t;

    if (g_strcmp0 (apm_test_str (labels, key), value) != 0)
      continue;
    (*count)++;
    if (g_strcmp0 (apm_test_str (j, "status"), "success") != 0)
      continue;
    (*succeeded)++;
    t = json_object_get_double_member (j, "processing_seconds");
    g_array_append_val (times, t);
  }
  for (guint i = 1; i < times->len; i++)
    for (guint k = i; k > 0 && g_array_index (times, gdouble, k - 1) >
        g_array_index (times, gdouble, k); k--) {
      gdouble tmp = g_array_index (times, gdouble, k);

      g_array_index (times, gdouble, k) = g_array_index (times, gdouble,
          k - 1);
      g_array_index (times, gdouble, k - 1) = tmp;
    }
  return times;
}

#define CLOSE(got, want) fail_unless (fabs ((got) - (want)) <= 1e-9, \
    "%s = %.12g, expected %.12g", #got, (gdouble) (got), (gdouble) (want))

static void
check_group (JsonObject * g, GArray * times, guint count, guint succeeded)
{
  JsonObject *t = apm_test_member_object (g, "processing_seconds");
  gdouble sum = 0;

  fail_unless_equals_int (apm_test_member_int (g, "count"), count);
  fail_unless_equals_int (apm_test_member_int (g, "succeeded"), succeeded);
  CLOSE (json_object_get_double_member (g, "success_rate"),
      (gdouble) succeeded / count);
  fail_unless_equals_int (apm_test_member_int (t, "count"), times->len);
  for (guint i = 0; i < times->len; i++)
    sum += g_array_index (times, gdouble, i);
  CLOSE (json_object_get_double_member (t, "mean"), sum / times->len);
  CLOSE (json_object_get_double_member (t, "p50"), apm_quantile_sorted
      ((gdouble *) times->data, times->len, 0.5));
  CLOSE (json_object_get_double_member (t, "p95"), apm_quantile_sorted
      ((gdouble *) times->data, times->len, 0.95));
  /* jobs of the API transfer nothing the monitor saw */
  fail_unless (json_object_get_null_member (apm_test_member_object (g,
              "bytes_per_second"), "read"));
}

/* "a": 12 quick jobs, all succeed; "b": 10 jobs, 5 take 50 ms more and
 * succeed, 5 fail.  "a" is the baseline (the larger group). */
GST_START_TEST (test_compare_two_variants)
{
  JsonNode *doc, *jobs_doc;
  JsonObject *root, *ga, *gb, *cmp, *t, *s;
  GArray *ta, *tb;
  guint count_a, count_b, ok_a, ok_b;
  ApmMannWhitney mw;

  ensure_server ();
  for (guint i = 0; i < 12; i++)
    run_job ("cmp_variant", "a", i, 0, TRUE);
  for (guint i = 0; i < 10; i++)
    run_job ("cmp_variant", "b", i, i % 2 ? 50000 : 0, i % 2 == 1);
  /* a job without the label is counted apart */
  g_free (apm_monitor_start_job_tracking (monitor, "cmp-plain"));
  apm_monitor_complete_job_tracking (monitor, "cmp-plain", "success", NULL);

  doc = get_json ("/monitoring/jobs/compare?by=cmp_variant", 200);
  jobs_doc = get_json ("/monitoring/jobs?limit=0", 200);
  root = json_node_get_object (doc);
  fail_unless_equals_string (apm_test_member_string (root, "by"),
      "cmp_variant");
  fail_unless (json_object_get_null_member (root, "since"));
  fail_unless_equals_int (apm_test_member_int (root, "jobs"), 22);
  fail_unless (apm_test_member_int (root, "unlabelled") >= 1);
  fail_unless_equals_string (apm_test_member_string (root, "baseline"), "a");

  ta = times_of (jobs_doc, "cmp_variant", "a", &count_a, &ok_a);
  tb = times_of (jobs_doc, "cmp_variant", "b", &count_b, &ok_b);
  fail_unless (count_a == 12 && ok_a == 12 && count_b == 10 && ok_b == 5);
  ga = find_by (json_object_get_array_member (root, "groups"), "value", "a");
  gb = find_by (json_object_get_array_member (root, "groups"), "value", "b");
  fail_unless (ga && gb);
  /* the baseline comes first */
  fail_unless (json_array_get_object_element (json_object_get_array_member
          (root, "groups"), 0) == ga);
  check_group (ga, ta, 12, 12);
  check_group (gb, tb, 10, 5);

  fail_unless_equals_int (json_array_get_length (json_object_get_array_member
          (root, "comparisons")), 1);
  cmp = find_by (json_object_get_array_member (root, "comparisons"), "group",
      "b");
  fail_unless (cmp != NULL);
  fail_unless_equals_string (apm_test_member_string (cmp, "baseline"), "a");
  t = apm_test_member_object (cmp, "processing_seconds");
  fail_unless_equals_string (apm_test_member_string (t, "test"),
      "mann-whitney-u");
  /* every successful "b" job is slower than every "a" job: U of b is the
   * largest possible, 5 * 12, and the difference is significant */
  CLOSE (json_object_get_double_member (t, "u"), 60.0);
  apm_mann_whitney_u ((gdouble *) tb->data, tb->len, (gdouble *) ta->data,
      ta->len, &mw);
  CLOSE (json_object_get_double_member (t, "p_value"), mw.p_value);
  fail_unless_equals_string (apm_test_member_string (t, "method"),
      mw.exact ? "exact" : "normal");
  fail_unless (mw.p_value < 0.01, "p = %g", mw.p_value);
  fail_unless (json_object_get_boolean_member (t, "significant"));
  fail_unless (json_object_get_double_member (t, "difference_mean") > 0.04);
  CLOSE (json_object_get_double_member (t, "difference_p50"),
      apm_quantile_sorted ((gdouble *) tb->data, 5, 0.5) -
      apm_quantile_sorted ((gdouble *) ta->data, 12, 0.5));

  /* success: 5 of 10 against 12 of 12 (SciPy: z = -2.7865221840769436,
   * p = 0.005327697130745202) */
  s = apm_test_member_object (cmp, "success_rate");
  fail_unless_equals_string (apm_test_member_string (s, "test"),
      "two-proportion-z");
  CLOSE (json_object_get_double_member (s, "difference"), -0.5);
  CLOSE (json_object_get_double_member (s, "z"), -2.7865221840769436);
  CLOSE (json_object_get_double_member (s, "p_value"), 0.005327697130745202);
  fail_unless (json_object_get_boolean_member (s, "significant"));

  json_node_unref (doc);
  json_node_unref (jobs_doc);

  /* ?baseline=b turns it round */
  doc = get_json ("/monitoring/jobs/compare?by=cmp_variant&baseline=b", 200);
  root = json_node_get_object (doc);
  fail_unless_equals_string (apm_test_member_string (root, "baseline"), "b");
  cmp = find_by (json_object_get_array_member (root, "comparisons"), "group",
      "a");
  CLOSE (json_object_get_double_member (apm_test_member_object (cmp,
              "processing_seconds"), "u"), 0.0);
  CLOSE (json_object_get_double_member (apm_test_member_object (cmp,
              "success_rate"), "difference"), 0.5);
  json_node_unref (doc);
  g_array_unref (ta);
  g_array_unref (tb);
}

GST_END_TEST;

/* ?since= keeps the jobs that ended at or after it */
GST_START_TEST (test_compare_since)
{
  JsonNode *doc, *one;
  JsonObject *g;
  gint64 first_end, second_start;
  gchar *path;

  ensure_server ();
  run_job ("cmp_since", "x", 0, 0, TRUE);
  one = get_json ("/monitoring/jobs/cmp-cmp_since-x-0", 200);
  first_end = apm_test_parse_time (apm_test_member_string
      (json_node_get_object (one), "ended_at"));
  json_node_unref (one);
  /* the next jobs end at least 20 ms later: a since between them */
  run_job ("cmp_since", "x", 1, 20000, TRUE);
  run_job ("cmp_since", "x", 2, 0, TRUE);
  one = get_json ("/monitoring/jobs/cmp-cmp_since-x-1", 200);
  second_start = apm_test_parse_time (apm_test_member_string
      (json_node_get_object (one), "started_at"));
  json_node_unref (one);
  fail_unless (second_start >= first_end);

  doc = get_json ("/monitoring/jobs/compare?by=cmp_since", 200);
  g = json_array_get_object_element (json_object_get_array_member
      (json_node_get_object (doc), "groups"), 0);
  fail_unless_equals_int (apm_test_member_int (g, "count"), 3);
  json_node_unref (doc);

  path = g_strdup_printf ("/monitoring/jobs/compare?by=cmp_since&since=%.6f",
      (first_end + 10000) / 1e6);
  doc = get_json (path, 200);
  fail_unless (apm_test_str (json_node_get_object (doc), "since") != NULL);
  g = json_array_get_object_element (json_object_get_array_member
      (json_node_get_object (doc), "groups"), 0);
  fail_unless_equals_int (apm_test_member_int (g, "count"), 2);
  json_node_unref (doc);
  g_free (path);
}

GST_END_TEST;

static Suite *
jobs_compare_suite (void)
{
  Suite *s = suite_create ("apm_jobs_compare");
  TCase *tc = tcase_create ("general");

  tcase_add_test (tc, test_compare_bad_requests);
  tcase_add_test (tc, test_compare_two_variants);
  tcase_add_test (tc, test_compare_since);
  suite_add_tcase (s, tc);
  return s;
}

GST_CHECK_MAIN (jobs_compare);
