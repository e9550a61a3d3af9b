/* gst-apm tests: the public C API (apm.h)
 *
 * Jobs and correlation ids, custom metrics exactly as /metrics serves them,
 * the spec's helpers, health checks, alert rules, the structured logger,
 * and concurrent use from many threads.  Everything goes through the
 * public API and is checked on the HTTP service, with the strict parser of
 * apmtestutil.  The monitor is one per process: the tests share it (no
 * fork) and use names of their own, or compare before and after.
 */
#include <gst/check/gstcheck.h>
#include <string.h>
#include <math.h>

#include <apm.h>
#include "apmtestutil.h"

#define DEADLINE (10 * G_USEC_PER_SEC)

/* The monitor's warnings ("apm: ...") are counted, not fatal: a refused
 * call must warn (EXPECT_WARNING), and an unexpected warning must fail
 * only its test (gst-check's own handler would abort the whole run from
 * inside g_log). */
static gint n_warnings;

#define EXPECT_WARNING(code)                                          \
G_STMT_START {                                                        \
  gint before_ = g_atomic_int_get (&n_warnings);                      \
  code;                                                               \
  fail_unless (g_atomic_int_get (&n_warnings) > before_,              \
      "no warning from: %s", #code);                                  \
} G_STMT_END

static gboolean
count_warning (const gchar * domain, GLogLevelFlags level,
    const gchar * message, gpointer user_data)
{
  g_atomic_int_inc (&n_warnings);
  return TRUE;                  /* handled */
}

static ApmMonitor *monitor;
static gchar *base_url;
static SoupSession *session;
static GThread *main_thread;

/* The service, started once for all the tests. */
static void
ensure_server (void)
{
  GError *error = NULL;

  if (base_url)
    return;
  monitor = apm_monitor_get_default ();
  fail_unless (APM_IS_MONITOR (monitor));
  fail_unless (apm_monitor_get_default () == monitor, "not a singleton");
  fail_unless (apm_monitor_start_server (monitor, NULL, 0, &error),
      "start_server: %s", error ? error->message : "?");
  base_url = apm_monitor_get_url (monitor);
  fail_unless (base_url != NULL, "no URL after start_server");
  session = apm_test_session_new ();
  main_thread = g_thread_self ();
}

/* What the tests give the monitor stays theirs.  libsoup's test utilities
 * check in teardown that the server is back to one reference; the same
 * habit here, at the end of each test (a failure in a teardown would have
 * nowhere to go with CK_FORK=no): the monitor holds only the process's
 * reference (no call kept one), and every label table a test made was
 * freed by the test's last unref (the monitor copies labels and keeps no
 * table).  Label tables count their keys as they are made and freed. */
static gint label_keys_made, label_keys_freed;

static void
label_key_freed (gpointer key)
{
  g_atomic_int_inc (&label_keys_freed);
}

static void
check_nothing_kept (void)
{
  fail_unless (G_OBJECT (monitor)->ref_count == 1, "the monitor has %u "
      "references, not the process's one only",
      G_OBJECT (monitor)->ref_count);
  fail_unless (g_atomic_int_get (&label_keys_freed) ==
      g_atomic_int_get (&label_keys_made), "%d label table keys made, %d "
      "freed: a label table outlived the test's last unref",
      g_atomic_int_get (&label_keys_made),
      g_atomic_int_get (&label_keys_freed));
}

/* a label table from NULL-terminated name, value pairs (not copied) */
static GHashTable *
labels_new (const gchar * first, ...)
{
  GHashTable *t = g_hash_table_new_full (g_str_hash, g_str_equal,
      label_key_freed, NULL);
  const gchar *k;
  va_list args;

  va_start (args, first);
  for (k = first; k; k = va_arg (args, const gchar *)) {
    g_atomic_int_inc (&label_keys_made);
    g_hash_table_insert (t, (gpointer) k, va_arg (args, gpointer));
  }
  va_end (args);
  return t;
}

/* the value of a series, or @absent; NULL-terminated label pairs */
static gdouble
value_or (GHashTable * metrics, gdouble absent, const gchar * name, ...)
{
  GPtrArray *labels = g_ptr_array_new ();
  const gchar *k;
  gdouble v = absent;
  va_list args;

  va_start (args, name);
  while ((k = va_arg (args, const gchar *))) {
    g_ptr_array_add (labels, (gpointer) k);
    g_ptr_array_add (labels, va_arg (args, gpointer));
  }
  va_end (args);
  g_ptr_array_add (labels, NULL);
  if (!apm_test_metric_valuev (metrics, &v, name,
          (const gchar * const *) labels->pdata))
    v = absent;
  g_ptr_array_unref (labels);
  return v;
}

static GHashTable *
fetch_metrics (void)
{
  return apm_test_fetch_metrics (session, base_url);
}

static gchar *
fetch_text (const gchar * path)
{
  return apm_test_http_text (session, base_url, path, 200);
}

static JsonNode *
get_json (const gchar * path, guint status)
{
  return apm_test_http_json (session, "GET", base_url, path, status);
}

static JsonObject *
find_job (JsonNode * doc, const gchar * list, const gchar * job_id)
{
  JsonArray *arr = json_object_get_array_member (json_node_get_object (doc),
      list);

  fail_unless (arr != NULL, "no \"%s\" in the jobs document", list);
  for (guint i = 0; i < json_array_get_length (arr); i++) {
    JsonObject *j = json_array_get_object_element (arr, i);

    if (g_strcmp0 (json_object_get_string_member (j, "job_id"), job_id) == 0)
      return j;
  }
  return NULL;
}

/* a W3C trace id: 32 lowercase hex digits, not all zeros */
static gboolean
is_trace_id (const gchar * s)
{
  gboolean nonzero = FALSE;

  if (!s || strlen (s) != 32)
    return FALSE;
  for (const gchar * c = s; *c; c++) {
    if (!g_ascii_isdigit (*c) && !(*c >= 'a' && *c <= 'f'))
      return FALSE;
    nonzero |= *c != '0';
  }
  return nonzero;
}

/* --- jobs --------------------------------------------------------------- */

GST_START_TEST (test_jobs_correlation_ids)
{
  const guint n = 6;
  gchar *cids[6];
  GHashTable *before, *after, *seen;
  JsonNode *doc;

  ensure_server ();
  before = fetch_metrics ();
  seen = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < n; i++) {
    gchar *id = g_strdup_printf ("api-job-%u", i);

    cids[i] = apm_monitor_start_job_tracking (monitor, id);
    fail_unless (is_trace_id (cids[i]), "correlation id '%s' is not a W3C "
        "trace id", cids[i]);
    fail_if (g_hash_table_contains (seen, cids[i]), "correlation id %s "
        "given twice", cids[i]);
    g_hash_table_add (seen, cids[i]);
    g_free (id);
  }
  g_hash_table_unref (seen);

  /* while active: found by job id and by correlation id, "running" */
  for (guint i = 0; i < n; i++) {
    gchar *id = g_strdup_printf ("api-job-%u", i);
    gchar *a = apm_monitor_get_job_json (monitor, id);
    gchar *b = apm_monitor_get_job_json (monitor, cids[i]);
    JsonNode *ja = json_from_string (a, NULL), *jb = json_from_string (b,
        NULL);

    fail_unless (ja && jb);
    fail_unless_equals_string (json_object_get_string_member
        (json_node_get_object (ja), "correlation_id"), cids[i]);
    fail_unless_equals_string (json_object_get_string_member
        (json_node_get_object (jb), "job_id"), id);
    fail_unless_equals_string (json_object_get_string_member
        (json_node_get_object (ja), "status"), "running");
    json_node_unref (ja);
    json_node_unref (jb);
    g_free (a);
    g_free (b);
    g_free (id);
  }
  doc = get_json ("/monitoring/jobs", 200);
  for (guint i = 0; i < n; i++) {
    gchar *id = g_strdup_printf ("api-job-%u", i);
    JsonObject *j = find_job (doc, "active", id);

    fail_unless (j != NULL, "%s not among the active jobs", id);
    fail_unless (json_object_get_null_member (j, "ended_at"));
    g_free (id);
  }
  json_node_unref (doc);

  /* complete: even ones succeed, odd ones fail with an error */
  for (guint i = 0; i < n; i++) {
    gchar *id = g_strdup_printf ("api-job-%u", i);
    gchar *err = g_strdup_printf ("boom %u", i);

    fail_unless (apm_monitor_complete_job_tracking (monitor, id,
            i % 2 ? "failed" : "success", i % 2 ? err : NULL));
    /* no longer active */
    fail_if (apm_monitor_complete_job_tracking (monitor, id, "success",
            NULL));
    g_free (err);
    g_free (id);
  }
  fail_if (apm_monitor_complete_job_tracking (monitor, "api-no-such-job",
          "success", NULL));

  doc = get_json ("/monitoring/jobs?limit=0", 200);
  for (guint i = 0; i < n; i++) {
    gchar *id = g_strdup_printf ("api-job-%u", i);
    JsonObject *j = find_job (doc, "finished", id);
    gchar *path;
    JsonNode *one;

    fail_unless (j != NULL, "%s not among the finished jobs", id);
    fail_if (find_job (doc, "active", id) != NULL);
    fail_unless_equals_string (json_object_get_string_member (j,
            "correlation_id"), cids[i]);
    fail_unless_equals_string (json_object_get_string_member (j, "status"),
        i % 2 ? "failed" : "success");
    if (i % 2) {
      gchar *err = g_strdup_printf ("boom %u", i);

      fail_unless_equals_string (json_object_get_string_member (j, "error"),
          err);
      g_free (err);
    } else {
      fail_unless (json_object_get_null_member (j, "error"));
    }
    fail_unless (apm_test_parse_time (json_object_get_string_member (j,
                "ended_at")) >= apm_test_parse_time
        (json_object_get_string_member (j, "started_at")));
    fail_unless (json_object_get_double_member (j, "processing_seconds")
        >= 0);

    /* GET /monitoring/jobs/{id} by correlation id and by job id */
    path = g_strconcat ("/monitoring/jobs/", cids[i], NULL);
    one = get_json (path, 200);
    fail_unless_equals_string (json_object_get_string_member
        (json_node_get_object (one), "job_id"), id);
    json_node_unref (one);
    g_free (path);
    path = g_strconcat ("/monitoring/jobs/", id, NULL);
    one = get_json (path, 200);
    fail_unless_equals_string (json_object_get_string_member
        (json_node_get_object (one), "correlation_id"), cids[i]);
    json_node_unref (one);
    g_free (path);
    g_free (id);
  }
  json_node_unref (doc);
  json_node_unref (get_json ("/monitoring/jobs/api-no-such-job", 404));
  fail_unless (apm_monitor_get_job_json (monitor, "api-no-such-job") ==
      NULL);

  /* the job metrics moved by exactly what we did */
  after = fetch_metrics ();
  fail_unless_equals_float (value_or (after, 0, "apm_jobs_started_total",
          NULL) - value_or (before, 0, "apm_jobs_started_total", NULL), n);
  fail_unless_equals_float (value_or (after, 0, "apm_jobs_completed_total",
          "status", "success", NULL) - value_or (before, 0,
          "apm_jobs_completed_total", "status", "success", NULL), n / 2);
  fail_unless_equals_float (value_or (after, 0, "apm_jobs_completed_total",
          "status", "failed", NULL) - value_or (before, 0,
          "apm_jobs_completed_total", "status", "failed", NULL), n / 2);
  fail_unless_equals_float (value_or (after, 0,
          "apm_job_processing_seconds_count", "success", "false", NULL) -
      value_or (before, 0, "apm_job_processing_seconds_count", "success",
          "false", NULL), n / 2);
  g_hash_table_unref (before);
  g_hash_table_unref (after);
  for (guint i = 0; i < n; i++)
    g_free (cids[i]);
  check_nothing_kept ();
}

GST_END_TEST;

GST_START_TEST (test_job_stages_accumulate)
{
  GHashTable *mp3 = labels_new ("format", "mp3", "codec", "lame", NULL);
  GHashTable *before, *after;
  gchar *cid, *text;
  JsonNode *node;
  JsonObject *stages, *decode, *encode, *l;

  ensure_server ();
  before = fetch_metrics ();
  cid = apm_monitor_start_job_tracking (monitor, "api-stages");
  fail_unless (apm_monitor_record_job_stage (monitor, "api-stages", "decode",
          0.5, mp3));
  fail_unless (apm_monitor_record_job_stage (monitor, "api-stages", "decode",
          0.75, mp3));
  /* by correlation id too */
  fail_unless (apm_monitor_record_job_stage (monitor, cid, "encode", 1.25,
          NULL));
  /* refused: unknown job, negative or non-finite time */
  fail_if (apm_monitor_record_job_stage (monitor, "api-no-such-job",
          "decode", 1, NULL));
  fail_if (apm_monitor_record_job_stage (monitor, "api-stages", "decode",
          -1, NULL));
  fail_if (apm_monitor_record_job_stage (monitor, "api-stages", "decode",
          NAN, NULL));
  fail_if (apm_monitor_record_job_stage (monitor, "api-stages", "decode",
          INFINITY, NULL));
  fail_unless (apm_monitor_complete_job_tracking (monitor, "api-stages",
          "success", NULL));
  /* a recently finished job still takes stages */
  fail_unless (apm_monitor_record_job_stage (monitor, "api-stages", "encode",
          0.25, NULL));

  text = apm_monitor_get_job_json (monitor, "api-stages");
  node = json_from_string (text, NULL);
  fail_unless (node != NULL, "get_job_json is not JSON: %s", text);
  stages = json_object_get_object_member (json_node_get_object (node),
      "stages");
  fail_unless (stages != NULL);
  decode = json_object_get_object_member (stages, "decode");
  encode = json_object_get_object_member (stages, "encode");
  fail_unless (decode && encode, "stages: %s", text);
  fail_unless_equals_float (json_object_get_double_member (decode,
          "seconds"), 1.25);
  fail_unless_equals_int (json_object_get_int_member (decode, "count"), 2);
  l = json_object_get_object_member (decode, "labels");
  fail_unless (l != NULL);
  fail_unless_equals_int (json_object_get_size (l), 2);
  fail_unless_equals_string (json_object_get_string_member (l, "format"),
      "mp3");
  fail_unless_equals_string (json_object_get_string_member (l, "codec"),
      "lame");
  fail_unless_equals_float (json_object_get_double_member (encode,
          "seconds"), 1.5);
  fail_unless_equals_int (json_object_get_int_member (encode, "count"), 2);
  fail_if (json_object_has_member (encode, "labels"));
  json_node_unref (node);
  g_free (text);

  /* the same on the REST API */
  node = get_json ("/monitoring/jobs/api-stages", 200);
  stages = json_object_get_object_member (json_node_get_object (node),
      "stages");
  fail_unless_equals_float (json_object_get_double_member
      (json_object_get_object_member (stages, "decode"), "seconds"), 1.25);
  json_node_unref (node);

  after = fetch_metrics ();
  fail_unless_equals_float (value_or (after, 0,
          "apm_job_stage_seconds_count", "stage", "decode", NULL) -
      value_or (before, 0, "apm_job_stage_seconds_count", "stage", "decode",
          NULL), 2);
  fail_unless_equals_float (value_or (after, 0, "apm_job_stage_seconds_sum",
          "stage", "encode", NULL) - value_or (before, 0,
          "apm_job_stage_seconds_sum", "stage", "encode", NULL), 1.5);
  g_hash_table_unref (before);
  g_hash_table_unref (after);
  g_hash_table_unref (mp3);
  g_free (cid);
  check_nothing_kept ();
}

GST_END_TEST;

/* --- custom metrics ----------------------------------------------------- */

GST_START_TEST (test_custom_metrics_exact)
{
  GHashTable *get200 = labels_new ("method", "GET", "code", "200", NULL);
  GHashTable *post500 = labels_new ("method", "POST", "code", "500", NULL);
  GHashTable *room = labels_new ("room", "studio a", NULL);
  GHashTable *odd = labels_new ("path", "say \"hi\"\\now\nthen", NULL);
  GHashTable *m;
  gchar *text;
  static const struct
  {
    const gchar *le;
    gdouble count;
  } buckets[] = {
    {"0.1", 1}, {"0.5", 1}, {"1", 2}, {"5", 2}, {"10", 2}, {"30", 3},
    {"60", 3}, {"300", 3}, {"600", 3}, {"1800", 3}, {"3600", 3},
    {"+Inf", 4},
  };

  ensure_server ();
  /* counters: labels in any order, fractions, a series per label set */
  fail_unless (apm_monitor_increment_counter (monitor,
          "api_requests_total", 1, get200));
  fail_unless (apm_monitor_increment_counter (monitor,
          "api_requests_total", 2.5, get200));
  fail_unless (apm_monitor_increment_counter (monitor,
          "api_requests_total", 0, post500));
  fail_unless (apm_monitor_increment_counter (monitor, "api_plain_total", 7,
          NULL));
  fail_unless (apm_monitor_increment_counter (monitor, "api_odd_total", 1,
          odd));
  /* gauges: last value wins, negative allowed */
  fail_unless (apm_monitor_set_gauge (monitor, "api_temperature_celsius",
          21.5, room));
  fail_unless (apm_monitor_set_gauge (monitor, "api_temperature_celsius",
          -3.25, room));
  fail_unless (apm_monitor_set_gauge (monitor, "api_queue_length", 12,
          NULL));
  /* histograms: _seconds -> 0.1 s .. 1 h buckets */
  fail_unless (apm_monitor_record_histogram (monitor, "api_wait_seconds",
          0.05, room));
  fail_unless (apm_monitor_record_histogram (monitor, "api_wait_seconds",
          0.7, room));
  fail_unless (apm_monitor_record_histogram (monitor, "api_wait_seconds",
          20, room));
  fail_unless (apm_monitor_record_histogram (monitor, "api_wait_seconds",
          7200, room));
  /* _bytes -> 1 KiB .. 1 GiB buckets */
  fail_unless (apm_monitor_record_histogram (monitor, "api_payload_bytes",
          2000, NULL));
  fail_unless (apm_monitor_record_histogram (monitor, "api_payload_bytes",
          5e6, NULL));
  /* other names -> 10 us .. 1 s buckets */
  fail_unless (apm_monitor_record_histogram (monitor, "api_ratio", 0.3,
          NULL));

  text = fetch_text ("/metrics");
  fail_unless (strstr (text, "\n# TYPE api_requests_total counter\n"));
  fail_unless (strstr (text, "\n# TYPE api_temperature_celsius gauge\n"));
  fail_unless (strstr (text, "\n# TYPE api_wait_seconds histogram\n"));
  g_free (text);

  m = fetch_metrics ();
  fail_unless_equals_float (value_or (m, -1, "api_requests_total",
          "code", "200", "method", "GET", NULL), 3.5);
  fail_unless_equals_float (value_or (m, -1, "api_requests_total",
          "method", "POST", "code", "500", NULL), 0);
  fail_unless_equals_float (value_or (m, -1, "api_plain_total", NULL), 7);
  fail_unless_equals_float (value_or (m, -1, "api_odd_total", "path",
          "say \"hi\"\\now\nthen", NULL), 1);
  fail_unless_equals_float (value_or (m, -1, "api_temperature_celsius",
          "room", "studio a", NULL), -3.25);
  fail_unless_equals_float (value_or (m, -1, "api_queue_length", NULL), 12);
  for (guint i = 0; i < G_N_ELEMENTS (buckets); i++)
    fail_unless_equals_float (value_or (m, -1, "api_wait_seconds_bucket",
            "room", "studio a", "le", buckets[i].le, NULL), buckets[i].count);
  fail_unless_equals_float (value_or (m, -1, "api_wait_seconds_count",
          "room", "studio a", NULL), 4);
  fail_unless_equals_float (value_or (m, -1, "api_wait_seconds_sum",
          "room", "studio a", NULL), 0.05 + 0.7 + 20 + 7200);
  fail_unless_equals_float (value_or (m, -1, "api_payload_bytes_bucket",
          "le", "1024", NULL), 0);
  fail_unless_equals_float (value_or (m, -1, "api_payload_bytes_bucket",
          "le", "16384", NULL), 1);
  /* bucket bounds are written exactly: 4 MiB, not 4.1943e+06 */
  fail_unless_equals_float (value_or (m, -1, "api_payload_bytes_bucket",
          "le", "4194304", NULL), 1);
  fail_unless_equals_float (value_or (m, -1, "api_payload_bytes_bucket",
          "le", "16777216", NULL), 2);
  fail_unless_equals_float (value_or (m, -1, "api_payload_bytes_bucket",
          "le", "1073741824", NULL), 2);
  fail_unless_equals_float (value_or (m, -1, "api_ratio_bucket", "le",
          "1e-05", NULL), 0);
  fail_unless_equals_float (value_or (m, -1, "api_ratio_bucket", "le",
          "0.5", NULL), 1);
  fail_unless_equals_float (value_or (m, -1, "api_ratio_bucket", "le",
          "+Inf", NULL), 1);
  g_hash_table_unref (m);

  /* the history API knows them too */
  json_node_unref (get_json ("/monitoring/metrics/api_requests_total", 200));

  g_hash_table_unref (get200);
  g_hash_table_unref (post500);
  g_hash_table_unref (room);
  g_hash_table_unref (odd);
  check_nothing_kept ();
}

GST_END_TEST;

GST_START_TEST (test_invalid_rejected)
{
  GHashTable *ok = labels_new ("kind", "x", NULL);
  GHashTable *other = labels_new ("sort", "x", NULL);
  GHashTable *bad = labels_new ("bad-label", "x", NULL);
  GHashTable *digit = labels_new ("1st", "x", NULL);
  /* apm_ is the monitor's own namespace: an application must not skew its
   * series (e.g. job counts) nor give its families other buckets */
  const gchar *bad_names[] = { "", "1abc", "has-dash", "has space",
    "dotted.name", "é_total", "apm_jobs_completed_total",
    "apm_element_processing_seconds"
  };
  GHashTable *m;

  ensure_server ();
  for (guint i = 0; i < G_N_ELEMENTS (bad_names); i++) {
    EXPECT_WARNING (fail_if (apm_monitor_increment_counter (monitor,
                bad_names[i], 1, NULL), "counter '%s' accepted",
            bad_names[i]));
    EXPECT_WARNING (fail_if (apm_monitor_set_gauge (monitor, bad_names[i],
                1, NULL), "gauge '%s' accepted", bad_names[i]));
    fail_if (apm_monitor_record_histogram (monitor, bad_names[i], 1, NULL),
        "histogram '%s' accepted", bad_names[i]);
  }
  EXPECT_WARNING (fail_if (apm_monitor_increment_counter (monitor,
              "api_badlabel_total", 1, bad)));
  EXPECT_WARNING (fail_if (apm_monitor_set_gauge (monitor, "api_badlabel",
              1, digit)));

  /* values: counters only go up, and only by finite amounts */
  fail_if (apm_monitor_increment_counter (monitor, "api_value_total", -1,
          NULL));
  fail_if (apm_monitor_increment_counter (monitor, "api_value_total", NAN,
          NULL));
  fail_if (apm_monitor_increment_counter (monitor, "api_value_total",
          INFINITY, NULL));
  fail_if (apm_monitor_record_histogram (monitor, "api_value_seconds", NAN,
          NULL));
  fail_if (apm_monitor_record_histogram (monitor, "api_value_seconds",
          -INFINITY, NULL));

  /* a name keeps its type and its label names */
  fail_unless (apm_monitor_increment_counter (monitor, "api_clash_total", 1,
          ok));
  EXPECT_WARNING (fail_if (apm_monitor_set_gauge (monitor,
              "api_clash_total", 1, ok)));
  EXPECT_WARNING (fail_if (apm_monitor_record_histogram (monitor,
              "api_clash_total", 1, ok)));
  EXPECT_WARNING (fail_if (apm_monitor_increment_counter (monitor,
              "api_clash_total", 1, other)));
  EXPECT_WARNING (fail_if (apm_monitor_increment_counter (monitor,
              "api_clash_total", 1, NULL)));
  fail_unless (apm_monitor_record_histogram (monitor, "api_clash_seconds",
          1, ok));
  EXPECT_WARNING (fail_if (apm_monitor_increment_counter (monitor,
              "api_clash_seconds", 1, ok)));
  /* nor can an application take over a name of the tracer */
  EXPECT_WARNING (fail_if (apm_monitor_set_gauge (monitor,
              "apm_jobs_started_total", 1, NULL)));

  /* the rejected calls left nothing behind */
  m = fetch_metrics ();
  fail_unless_equals_float (value_or (m, -1, "api_clash_total", "kind", "x",
          NULL), 1);
  fail_unless_equals_float (value_or (m, -1, "api_clash_seconds_count",
          "kind", "x", NULL), 1);
  fail_unless_equals_float (value_or (m, -1, "api_value_total", NULL), -1);
  fail_unless_equals_float (value_or (m, -1, "api_badlabel_total", NULL),
      -1);
  g_hash_table_unref (m);

  g_hash_table_unref (ok);
  g_hash_table_unref (other);
  g_hash_table_unref (bad);
  g_hash_table_unref (digit);
  check_nothing_kept ();
}

GST_END_TEST;

/* A histogram call refused for a bad label name must not reserve the name
 * with those labels. */
GST_START_TEST (test_rejected_histogram_leaves_no_family)
{
  GHashTable *bad = labels_new ("bad-label", "x", NULL);
  GHashTable *good = labels_new ("good", "x", NULL);
  GHashTable *m;

  ensure_server ();
  EXPECT_WARNING (fail_if (apm_monitor_record_histogram (monitor,
              "api_poison_seconds", 1, bad)));
  fail_unless (apm_monitor_record_histogram (monitor, "api_poison_seconds",
          2, good), "a valid call is refused after a refused one");
  m = fetch_metrics ();
  fail_unless_equals_float (value_or (m, -1, "api_poison_seconds_count",
          "good", "x", NULL), 1);
  g_hash_table_unref (m);
  g_hash_table_unref (bad);
  g_hash_table_unref (good);
  check_nothing_kept ();
}

GST_END_TEST;

/* Label names are [a-zA-Z_][a-zA-Z0-9_]*, not reserved (__*), and "le" is
 * the histograms' own.  Runs last: a label accepted here would make the
 * whole /metrics text invalid. */
GST_START_TEST (test_invalid_label_names)
{
  GHashTable *colon = labels_new ("a:b", "x", NULL);
  GHashTable *reserved = labels_new ("__name__", "x", NULL);
  GHashTable *le = labels_new ("le", "x", NULL);
  gchar *text;

  ensure_server ();
  EXPECT_WARNING (fail_if (apm_monitor_increment_counter (monitor,
              "api_colon_total", 1, colon), "label name a:b accepted"));
  EXPECT_WARNING (fail_if (apm_monitor_increment_counter (monitor,
              "api_reserved_total", 1, reserved),
          "label name __name__ accepted"));
  EXPECT_WARNING (fail_if (apm_monitor_record_histogram (monitor,
              "api_le_seconds", 1, le), "label le accepted on a histogram"));
  /* the strict parser accepts what is served */
  g_hash_table_unref (fetch_metrics ());
  text = fetch_text ("/metrics");
  fail_if (strstr (text, "le=\"x\",le="), "two le labels in a series");
  g_free (text);
  g_hash_table_unref (colon);
  g_hash_table_unref (reserved);
  g_hash_table_unref (le);
  check_nothing_kept ();
}

GST_END_TEST;

/* --- the spec's helpers ------------------------------------------------- */

GST_START_TEST (test_spec_helpers)
{
  GHashTable *before, *m;
  gchar *cid, *text;
  JsonNode *job;
  JsonObject *stage;

  ensure_server ();
  before = fetch_metrics ();
  cid = apm_monitor_start_job_tracking (monitor, "api-helpers");

  apm_monitor_record_audio_processing_metrics (monitor, "api-helpers",
      5000000, 12.5, TRUE);
  apm_monitor_record_audio_processing_metrics (monitor, NULL, 2000, 0.25,
      FALSE);
  apm_monitor_record_upload_metrics (monitor, 1048576, 2.0, TRUE);
  apm_monitor_record_upload_metrics (monitor, 10, 40.0, FALSE);
  apm_monitor_record_download_metrics (monitor, 3000, 0.5, TRUE);
  apm_monitor_record_cache_metrics (monitor, "api_cache", TRUE, 0.023);
  apm_monitor_record_cache_metrics (monitor, "api_cache", TRUE, 0.01);
  apm_monitor_record_cache_metrics (monitor, "api_cache", FALSE, 0.045);
  m = fetch_metrics ();

#define DELTA(name, ...) (value_or (m, 0, name, __VA_ARGS__) - \
    value_or (before, 0, name, __VA_ARGS__))
  /* pipeline_audio_processing_seconds and _file_size_bytes {success} */
  fail_unless_equals_float (DELTA ("pipeline_audio_processing_seconds_count",
          "success", "true", NULL), 1);
  fail_unless_equals_float (DELTA ("pipeline_audio_processing_seconds_sum",
          "success", "true", NULL), 12.5);
  fail_unless_equals_float (DELTA ("pipeline_audio_processing_seconds_bucket",
          "success", "true", "le", "10", NULL), 0);
  fail_unless_equals_float (DELTA ("pipeline_audio_processing_seconds_bucket",
          "success", "true", "le", "30", NULL), 1);
  fail_unless_equals_float (DELTA ("pipeline_audio_processing_seconds_count",
          "success", "false", NULL), 1);
  fail_unless_equals_float (DELTA ("pipeline_audio_file_size_bytes_count",
          "success", "true", NULL), 1);
  fail_unless_equals_float (DELTA ("pipeline_audio_file_size_bytes_sum",
          "success", "true", NULL), 5000000);
  fail_unless_equals_float (DELTA ("pipeline_audio_file_size_bytes_count",
          "success", "false", NULL), 1);
  /* pipeline_upload_size_bytes, _upload_seconds, _uploads_total */
  fail_unless_equals_float (DELTA ("pipeline_upload_size_bytes_count",
          "success", "true", NULL), 1);
  fail_unless_equals_float (DELTA ("pipeline_upload_size_bytes_sum",
          "success", "true", NULL), 1048576);
  fail_unless_equals_float (DELTA ("pipeline_upload_seconds_sum",
          "success", "true", NULL), 2.0);
  fail_unless_equals_float (DELTA ("pipeline_upload_seconds_count",
          "success", "false", NULL), 1);
  fail_unless_equals_float (DELTA ("pipeline_uploads_total",
          "success", "true", NULL), 1);
  fail_unless_equals_float (DELTA ("pipeline_uploads_total",
          "success", "false", NULL), 1);
  /* and the same for downloads */
  fail_unless_equals_float (DELTA ("pipeline_download_size_bytes_sum",
          "success", "true", NULL), 3000);
  fail_unless_equals_float (DELTA ("pipeline_download_seconds_count",
          "success", "true", NULL), 1);
  fail_unless_equals_float (DELTA ("pipeline_downloads_total",
          "success", "true", NULL), 1);
  /* cache: requests by result, lookup time by cache */
  fail_unless_equals_float (DELTA ("pipeline_cache_requests_total",
          "cache", "api_cache", "result", "hit", NULL), 2);
  fail_unless_equals_float (DELTA ("pipeline_cache_requests_total",
          "cache", "api_cache", "result", "miss", NULL), 1);
  fail_unless_equals_float (DELTA ("pipeline_cache_lookup_seconds_count",
          "cache", "api_cache", NULL), 3);
  fail_unless_equals_float (DELTA ("pipeline_cache_lookup_seconds_sum",
          "cache", "api_cache", NULL), 0.023 + 0.01 + 0.045);
#undef DELTA
  g_hash_table_unref (m);
  g_hash_table_unref (before);

  /* the processing was recorded as a stage of the job */
  text = apm_monitor_get_job_json (monitor, cid);
  job = json_from_string (text, NULL);
  stage = json_object_get_object_member (json_object_get_object_member
      (json_node_get_object (job), "stages"), "audio_processing");
  fail_unless (stage != NULL, "no audio_processing stage: %s", text);
  fail_unless_equals_float (json_object_get_double_member (stage,
          "seconds"), 12.5);
  json_node_unref (job);
  g_free (text);
  fail_unless (apm_monitor_complete_job_tracking (monitor, "api-helpers",
          "success", NULL));
  g_free (cid);
  check_nothing_kept ();
}

GST_END_TEST;

/* --- health checks ------------------------------------------------------ */

typedef struct
{
  gint runs;
  gint destroyed;
  gint not_main;                /* runs on another thread than the test's */
  ApmHealthStatus status;
} CheckData;

static ApmHealthStatus
api_check (gpointer user_data, gchar ** message, gchar ** details)
{
  CheckData *d = user_data;
  gint n = g_atomic_int_add (&d->runs, 1) + 1;

  if (g_thread_self () != main_thread)
    g_atomic_int_set (&d->not_main, 1);
  *message = g_strdup_printf ("run %d", n);
  *details = g_strdup_printf ("{\"runs\": %d, \"name\": \"api\"}", n);
  return d->status;
}

static void
check_data_destroy (gpointer user_data)
{
  g_atomic_int_inc (&((CheckData *) user_data)->destroyed);
}

typedef struct
{
  const gchar *name;
  gint min_runs;
} CheckWait;

static gboolean
check_has_run (JsonNode * doc, gpointer user_data)
{
  CheckWait *w = user_data;
  JsonObject *c = apm_test_health_check (doc, w->name);
  JsonObject *d;

  if (!c || !json_object_has_member (c, "last_run"))
    return FALSE;
  d = json_object_get_object_member (c, "details");
  return d && json_object_get_int_member (d, "runs") >= w->min_runs;
}

static gboolean
check_absent (JsonNode * doc, gpointer user_data)
{
  return apm_test_health_check (doc, user_data) == NULL;
}

GST_START_TEST (test_health_check)
{
  CheckData d = { 0, 0, 0, APM_HEALTH_DEGRADED };
  CheckData d2 = { 0, 0, 0, APM_HEALTH_HEALTHY };
  CheckWait w = { "api_check", 1 };
  JsonNode *doc;
  JsonObject *c, *details;
  gint64 deadline;

  ensure_server ();
  apm_monitor_add_check (monitor, "api_check", 1, api_check, &d,
      check_data_destroy);
  doc = apm_test_wait_json (session, base_url, "/health/monitoring",
      check_has_run, &w, DEADLINE);
  c = apm_test_health_check (doc, "api_check");
  fail_unless (c != NULL, "api_check not in /health/monitoring");
  fail_unless_equals_string (json_object_get_string_member (c, "status"),
      "degraded");
  fail_unless (g_str_has_prefix (json_object_get_string_member (c,
              "message"), "run "));
  details = json_object_get_object_member (c, "details");
  fail_unless (details != NULL);
  fail_unless_equals_string (json_object_get_string_member (details,
          "name"), "api");
  /* the worst status wins */
  fail_if (g_strcmp0 (json_object_get_string_member (json_node_get_object
              (doc), "status"), "healthy") == 0,
      "overall status healthy with a degraded check");
  json_node_unref (doc);
  fail_unless (g_atomic_int_get (&d.not_main), "the check ran on the "
      "caller's thread");

  /* it runs again at its interval (1 s) */
  w.min_runs = 2;
  doc = apm_test_wait_json (session, base_url, "/health/monitoring",
      check_has_run, &w, DEADLINE);
  fail_unless (check_has_run (doc, &w), "the check did not run again");
  json_node_unref (doc);

  /* a check of the same name replaces it; the old data is released */
  apm_monitor_add_check (monitor, "api_check", 1, api_check, &d2,
      check_data_destroy);
  deadline = g_get_monotonic_time () + DEADLINE;
  while (g_atomic_int_get (&d.destroyed) == 0
      && g_get_monotonic_time () < deadline)
    g_usleep (10000);
  fail_unless_equals_int (g_atomic_int_get (&d.destroyed), 1);
  w.min_runs = 1;
  doc = apm_test_wait_json (session, base_url, "/health/monitoring",
      check_has_run, &w, DEADLINE);
  c = apm_test_health_check (doc, "api_check");
  fail_unless (c && g_atomic_int_get (&d2.runs) > 0);
  fail_unless_equals_string (json_object_get_string_member (c, "status"),
      "healthy");
  json_node_unref (doc);

  /* removed: gone from the document, data released once */
  fail_unless (apm_monitor_remove_check (monitor, "api_check"));
  fail_if (apm_monitor_remove_check (monitor, "api_check"));
  fail_if (apm_monitor_remove_check (monitor, "api_no_such_check"));
  doc = apm_test_wait_json (session, base_url, "/health/monitoring",
      check_absent, (gpointer) "api_check", DEADLINE);
  fail_unless (check_absent (doc, (gpointer) "api_check"));
  json_node_unref (doc);
  deadline = g_get_monotonic_time () + DEADLINE;
  while (g_atomic_int_get (&d2.destroyed) == 0
      && g_get_monotonic_time () < deadline)
    g_usleep (10000);
  fail_unless_equals_int (g_atomic_int_get (&d2.destroyed), 1);
  fail_unless_equals_int (g_atomic_int_get (&d.destroyed), 1);
  check_nothing_kept ();
}

GST_END_TEST;

/* --- alert rules -------------------------------------------------------- */

typedef struct
{
  gint holds;
  gint evaluations;
  gint not_main;
  gint destroyed;
} RuleData;

static gboolean
api_condition (gpointer user_data, gdouble * value)
{
  RuleData *d = user_data;

  g_atomic_int_inc (&d->evaluations);
  if (g_thread_self () != main_thread)
    g_atomic_int_set (&d->not_main, 1);
  *value = 42;
  return g_atomic_int_get (&d->holds);
}

static void
rule_data_destroy (gpointer user_data)
{
  g_atomic_int_inc (&((RuleData *) user_data)->destroyed);
}

static gboolean
alert_present (JsonNode * doc, gpointer user_data)
{
  return apm_test_find_alert (doc, user_data, NULL, NULL) != NULL;
}

static gboolean
alert_absent (JsonNode * doc, gpointer user_data)
{
  return !alert_present (doc, user_data);
}

/* the active alerts of the monitor as a document */
static JsonNode *
active_alerts (void)
{
  gchar *text = apm_monitor_get_active_alerts (monitor);
  JsonNode *node = json_from_string (text, NULL);

  fail_unless (node != NULL, "get_active_alerts is not JSON: %s", text);
  g_free (text);
  return node;
}

GST_START_TEST (test_alert_rule)
{
  RuleData d = { 0 };
  JsonNode *doc;
  JsonObject *a, *rule = NULL;
  JsonArray *rules;
  gint64 deadline;
  gint evals;

  ensure_server ();
  apm_monitor_add_alert_rule (monitor, "api_alert", APM_SEVERITY_CRITICAL,
      "api value is {{value}}", api_condition, &d, rule_data_destroy);

  /* listed among the rules */
  doc = get_json ("/monitoring/alerts/rules", 200);
  rules = json_object_get_array_member (json_node_get_object (doc), "rules");
  for (guint i = 0; i < json_array_get_length (rules); i++)
    if (g_strcmp0 (json_object_get_string_member
            (json_array_get_object_element (rules, i), "name"),
            "api_alert") == 0)
      rule = json_array_get_object_element (rules, i);
  fail_unless (rule != NULL, "api_alert not in /monitoring/alerts/rules");
  fail_unless_equals_string (json_object_get_string_member (rule,
          "severity"), "critical");
  json_node_unref (doc);

  /* evaluated (every second here: alert-interval=1), not holding yet */
  deadline = g_get_monotonic_time () + DEADLINE;
  while (g_atomic_int_get (&d.evaluations) < 2
      && g_get_monotonic_time () < deadline)
    g_usleep (10000);
  fail_unless (g_atomic_int_get (&d.evaluations) >= 2,
      "the rule was not evaluated");
  fail_unless (g_atomic_int_get (&d.not_main));
  doc = active_alerts ();
  fail_if (alert_present (doc, (gpointer) "api_alert"));
  json_node_unref (doc);

  /* holds: fires (no pending time for custom rules) */
  g_atomic_int_set (&d.holds, 1);
  deadline = g_get_monotonic_time () + DEADLINE;
  for (;;) {
    doc = active_alerts ();
    if (alert_present (doc, (gpointer) "api_alert")
        || g_get_monotonic_time () >= deadline)
      break;
    json_node_unref (doc);
    g_usleep (20000);
  }
  a = apm_test_find_alert (doc, "api_alert", NULL, NULL);
  fail_unless (a != NULL, "api_alert did not fire");
  fail_unless_equals_string (json_object_get_string_member (a, "state"),
      "firing");
  fail_unless_equals_string (json_object_get_string_member (a, "severity"),
      "critical");
  fail_unless_equals_float (json_object_get_double_member (a, "value"), 42);
  fail_unless_equals_string (json_object_get_string_member (a, "message"),
      "api value is 42");
  json_node_unref (doc);
  fail_unless (apm_monitor_get_n_active_alerts (monitor) >= 1);
  doc = get_json ("/monitoring/alerts", 200);
  fail_unless (alert_present (doc, (gpointer) "api_alert"));
  json_node_unref (doc);
  doc = get_json ("/health/monitoring", 200);
  {
    JsonArray *active = json_object_get_array_member
        (json_object_get_object_member (json_node_get_object (doc),
            "monitoring"), "active_alerts");
    gboolean found = FALSE;

    for (guint i = 0; i < json_array_get_length (active); i++)
      found |= g_strcmp0 (json_object_get_string_member
          (json_array_get_object_element (active, i), "rule"),
          "api_alert") == 0;
    fail_unless (found, "api_alert not in /health/monitoring");
  }
  json_node_unref (doc);

  /* no longer holds: resolved, into the history */
  g_atomic_int_set (&d.holds, 0);
  doc = apm_test_wait_json (session, base_url, "/monitoring/alerts",
      alert_absent, (gpointer) "api_alert", DEADLINE);
  fail_unless (alert_absent (doc, (gpointer) "api_alert"));
  json_node_unref (doc);
  doc = get_json ("/monitoring/alerts/history", 200);
  a = apm_test_find_alert (doc, "api_alert", NULL, NULL);
  fail_unless (a != NULL, "api_alert not in the history");
  fail_unless_equals_string (json_object_get_string_member (a, "state"),
      "resolved");
  json_node_unref (doc);

  /* removed: its data is released at once, and it is no longer run */
  fail_unless (apm_monitor_remove_alert_rule (monitor, "api_alert"));
  fail_unless_equals_int (g_atomic_int_get (&d.destroyed), 1);
  fail_if (apm_monitor_remove_alert_rule (monitor, "api_alert"));
  evals = g_atomic_int_get (&d.evaluations);
  g_usleep (1500 * 1000);
  fail_unless_equals_int (g_atomic_int_get (&d.evaluations), evals);

  /* replacing a rule releases the old one */
  {
    RuleData d1 = { 0 }, d2 = { 0 };

    apm_monitor_add_alert_rule (monitor, "api_alert2", APM_SEVERITY_INFO,
        "x", api_condition, &d1, rule_data_destroy);
    apm_monitor_add_alert_rule (monitor, "api_alert2", APM_SEVERITY_INFO,
        "y", api_condition, &d2, rule_data_destroy);
    fail_unless_equals_int (g_atomic_int_get (&d1.destroyed), 1);
    fail_unless (apm_monitor_remove_alert_rule (monitor, "api_alert2"));
    fail_unless_equals_int (g_atomic_int_get (&d2.destroyed), 1);
  }
  check_nothing_kept ();
}

GST_END_TEST;

/* --- concurrency -------------------------------------------------------- */

#define N_THREADS 8
#define N_ITER 5000

typedef struct
{
  guint index;
  GPtrArray *cids;              /* this thread's correlation ids */
} Hammer;

static gpointer
hammer (gpointer data)
{
  Hammer *h = data;
  gchar *mine = g_strdup_printf ("t%u", h->index);
  GHashTable *all = labels_new ("worker", "all", NULL);
  GHashTable *own = labels_new ("worker", mine, NULL);

  for (guint i = 0; i < N_ITER; i++) {
    apm_monitor_increment_counter (monitor, "api_hammer_total", 1, all);
    apm_monitor_increment_counter (monitor, "api_hammer_total", 0.5, own);
    apm_monitor_record_histogram (monitor, "api_hammer_seconds", 0.25, all);
    apm_monitor_set_gauge (monitor, "api_hammer_gauge", h->index, own);
    if (i % 50 == 0) {
      gchar *id = g_strdup_printf ("api-hammer-%u-%u", h->index, i);

      g_ptr_array_add (h->cids, apm_monitor_start_job_tracking (monitor,
              id));
      apm_monitor_record_job_stage (monitor, "api-hammer-shared", "work",
          0.25, NULL);
      apm_monitor_complete_job_tracking (monitor, id, "success", NULL);
      g_free (id);
    }
  }
  g_hash_table_unref (all);
  g_hash_table_unref (own);
  g_free (mine);
  return NULL;
}

GST_START_TEST (test_thread_safety)
{
  GThread *threads[N_THREADS];
  Hammer h[N_THREADS];
  GHashTable *m, *cids;
  gchar *text;
  JsonNode *job;
  JsonObject *work;
  guint n_jobs = 0;

  ensure_server ();
  g_free (apm_monitor_start_job_tracking (monitor, "api-hammer-shared"));
  for (guint t = 0; t < N_THREADS; t++) {
    h[t].index = t;
    h[t].cids = g_ptr_array_new_with_free_func (g_free);
    threads[t] = g_thread_new ("hammer", hammer, &h[t]);
  }
  for (guint t = 0; t < N_THREADS; t++)
    g_thread_join (threads[t]);

  m = fetch_metrics ();
  fail_unless_equals_float (value_or (m, -1, "api_hammer_total", "worker",
          "all", NULL), N_THREADS * N_ITER);
  for (guint t = 0; t < N_THREADS; t++) {
    gchar *mine = g_strdup_printf ("t%u", t);

    fail_unless_equals_float (value_or (m, -1, "api_hammer_total", "worker",
            mine, NULL), N_ITER * 0.5);
    fail_unless_equals_float (value_or (m, -1, "api_hammer_gauge", "worker",
            mine, NULL), t);
    g_free (mine);
  }
  fail_unless_equals_float (value_or (m, -1, "api_hammer_seconds_count",
          "worker", "all", NULL), N_THREADS * N_ITER);
  fail_unless_equals_float (value_or (m, -1, "api_hammer_seconds_sum",
          "worker", "all", NULL), N_THREADS * N_ITER * 0.25);
  g_hash_table_unref (m);

  /* every job got its own correlation id */
  cids = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint t = 0; t < N_THREADS; t++) {
    for (guint i = 0; i < h[t].cids->len; i++) {
      const gchar *cid = g_ptr_array_index (h[t].cids, i);

      fail_unless (is_trace_id (cid), "'%s' is not a trace id", cid);
      fail_if (g_hash_table_contains (cids, cid), "duplicate id %s", cid);
      g_hash_table_add (cids, (gpointer) cid);
      n_jobs++;
    }
  }
  fail_unless_equals_int (n_jobs, N_THREADS * (N_ITER / 50));
  g_hash_table_unref (cids);

  /* the shared job's stage got every record */
  text = apm_monitor_get_job_json (monitor, "api-hammer-shared");
  job = json_from_string (text, NULL);
  work = json_object_get_object_member (json_object_get_object_member
      (json_node_get_object (job), "stages"), "work");
  fail_unless (work != NULL, "%s", text);
  fail_unless_equals_int (json_object_get_int_member (work, "count"),
      N_THREADS * (N_ITER / 50));
  fail_unless_equals_float (json_object_get_double_member (work, "seconds"),
      N_THREADS * (N_ITER / 50) * 0.25);
  json_node_unref (job);
  g_free (text);
  apm_monitor_complete_job_tracking (monitor, "api-hammer-shared", "success",
      NULL);
  for (guint t = 0; t < N_THREADS; t++)
    g_ptr_array_unref (h[t].cids);
  check_nothing_kept ();
}

GST_END_TEST;

/* --- the structured logger ---------------------------------------------- */

static JsonObject *
find_log (JsonNode * doc, const gchar * message)
{
  JsonArray *logs = json_object_get_array_member (json_node_get_object (doc),
      "logs");

  fail_unless (logs != NULL);
  for (guint i = 0; i < json_array_get_length (logs); i++) {
    JsonObject *l = json_array_get_object_element (logs, i);

    if (g_strcmp0 (json_object_get_string_member (l, "message"),
            message) == 0)
      return l;
  }
  return NULL;
}

GST_START_TEST (test_logger)
{
  ApmLogger *logger = apm_logger_new ("api_component");
  gchar *cid, *path, *other;
  JsonNode *doc;
  JsonObject *l, *ctx;
  gchar *component = NULL;

  ensure_server ();
  fail_unless_equals_string (apm_logger_get_component (logger),
      "api_component");
  g_object_get (logger, "component", &component, NULL);
  fail_unless_equals_string (component, "api_component");
  g_free (component);

  cid = apm_monitor_start_job_tracking (monitor, "api-logged");
  other = apm_monitor_start_job_tracking (monitor, "api-not-logged");
  apm_logger_info (logger, "Operation completed", cid,
      "{\"job_id\": \"api-logged\", \"duration\": 1.23}");
  apm_logger_warning (logger, "Slow step", cid, NULL);
  apm_logger_error (logger, "Step failed", cid, "not json");
  apm_logger_log (logger, APM_LOG_CRITICAL, "Gave up", cid, NULL);
  apm_logger_debug (logger, "Debug detail", cid, NULL);
  apm_logger_info (logger, "Unrelated", other, NULL);
  apm_monitor_log (monitor, APM_LOG_INFO, "api_direct", "Direct line", cid,
      "{\"k\": [1, 2]}");

  path = g_strconcat ("/monitoring/logs?correlation_id=", cid, NULL);
  doc = get_json (path, 200);
  /* the job's own start line is there too */
  fail_unless (find_log (doc, "job api-logged started") != NULL);
  fail_if (find_log (doc, "Unrelated") != NULL, "filter by correlation id");
  l = find_log (doc, "Operation completed");
  fail_unless (l != NULL, "logger line not found by correlation id");
  fail_unless_equals_string (json_object_get_string_member (l, "level"),
      "info");
  fail_unless_equals_string (json_object_get_string_member (l, "component"),
      "api_component");
  fail_unless_equals_string (json_object_get_string_member (l,
          "correlation_id"), cid);
  apm_test_parse_time (json_object_get_string_member (l, "timestamp"));
  ctx = json_object_get_object_member (l, "context");
  fail_unless_equals_string (json_object_get_string_member (ctx, "job_id"),
      "api-logged");
  fail_unless_equals_float (json_object_get_double_member (ctx, "duration"),
      1.23);
  l = find_log (doc, "Slow step");
  fail_unless (l != NULL);
  fail_unless_equals_string (json_object_get_string_member (l, "level"),
      "warning");
  fail_unless_equals_int (json_object_get_size (json_object_get_object_member
          (l, "context")), 0);
  /* a context that is not a JSON object is kept as text */
  l = find_log (doc, "Step failed");
  fail_unless (l != NULL);
  fail_unless_equals_string (json_object_get_string_member (l, "level"),
      "error");
  fail_unless_equals_string (json_object_get_string_member
      (json_object_get_object_member (l, "context"), "raw"), "not json");
  l = find_log (doc, "Gave up");
  fail_unless (l != NULL);
  fail_unless_equals_string (json_object_get_string_member (l, "level"),
      "critical");
  /* below the default level (info) */
  fail_if (find_log (doc, "Debug detail") != NULL);
  l = find_log (doc, "Direct line");
  fail_unless (l != NULL);
  fail_unless_equals_string (json_object_get_string_member (l, "component"),
      "api_direct");
  json_node_unref (doc);
  g_free (path);

  /* filters combine: component and minimum level */
  path = g_strconcat ("/monitoring/logs?component=api_component&level=error"
      "&correlation_id=", cid, NULL);
  doc = get_json (path, 200);
  fail_unless_equals_int (json_array_get_length
      (json_object_get_array_member (json_node_get_object (doc), "logs")),
      2);
  fail_unless (find_log (doc, "Step failed") && find_log (doc, "Gave up"));
  json_node_unref (doc);
  g_free (path);

  apm_monitor_complete_job_tracking (monitor, "api-logged", "success", NULL);
  apm_monitor_complete_job_tracking (monitor, "api-not-logged", "success",
      NULL);
  /* the monitor keeps no reference to a logger: this is the last */
  fail_unless (G_OBJECT (logger)->ref_count == 1, "the logger has %u "
      "references before the application's last unref",
      G_OBJECT (logger)->ref_count);
  g_object_unref (logger);
  g_free (cid);
  g_free (other);
  check_nothing_kept ();
}

GST_END_TEST;

/* --- the server --------------------------------------------------------- */

GST_START_TEST (test_start_server_first_wins)
{
  GError *error = NULL;
  gchar *url;

  ensure_server ();
  fail_unless (g_str_has_prefix (base_url, "http://127.0.0.1:"), "%s",
      base_url);
  /* already serving: TRUE, and it stays where it is */
  fail_unless (apm_monitor_start_server (monitor, "127.0.0.1", 1, &error));
  fail_unless (error == NULL);
  url = apm_monitor_get_url (monitor);
  fail_unless_equals_string (url, base_url);
  g_free (url);
  json_node_unref (get_json ("/health", 200));
  check_nothing_kept ();
}

GST_END_TEST;

/* a job continues a remote trace as a child of its span, with labels; a
 * malformed traceparent starts a new trace and is logged */
GST_START_TEST (test_jobs_trace_context)
{
  const gchar *remote =
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  GHashTable *labels = g_hash_table_new (g_str_hash, g_str_equal);
  gchar *cid, *tp, *text, *path, *bad_cid;
  JsonNode *node, *doc;
  JsonObject *j, *l;
  GString *long_value = g_string_new (NULL);

  ensure_server ();
  g_hash_table_insert (labels, "variant", "b");
  g_hash_table_insert (labels, "region", "eu");
  cid = apm_monitor_start_job_tracking_full (monitor, "api-traced", remote,
      labels);
  fail_unless_equals_string (cid, "0af7651916cd43dd8448eb211c80319c");
  tp = apm_monitor_get_traceparent (monitor, "api-traced");
  fail_unless (tp != NULL);
  fail_unless (g_str_has_prefix (tp, "00-0af7651916cd43dd8448eb211c80319c-"),
      "traceparent %s is not in the remote trace", tp);
  fail_unless (g_str_has_suffix (tp, "-01"));
  fail_unless_equals_int (strlen (tp), 55);
  fail_if (strstr (tp, "b7ad6b7169203331") != NULL, "the job's span is the "
      "remote one: %s", tp);

  text = apm_monitor_get_job_json (monitor, "api-traced");
  node = json_from_string (text, NULL);
  j = json_node_get_object (node);
  fail_unless_equals_string (json_object_get_string_member (j, "trace_id"),
      cid);
  fail_unless_equals_string (json_object_get_string_member (j,
          "correlation_id"), cid);
  fail_unless_equals_string (json_object_get_string_member (j,
          "parent_span_id"), "b7ad6b7169203331");
  fail_unless_equals_string (json_object_get_string_member (j,
          "traceparent"), tp);
  fail_unless (g_str_has_suffix (tp, json_object_get_string_member (j,
              "span_id")) == FALSE);
  fail_unless (strstr (tp, json_object_get_string_member (j, "span_id")));
  l = json_object_get_object_member (j, "labels");
  fail_unless_equals_int (json_object_get_size (l), 2);
  fail_unless_equals_string (json_object_get_string_member (l, "variant"),
      "b");
  fail_unless_equals_string (json_object_get_string_member (l, "region"),
      "eu");
  json_node_unref (node);
  g_free (text);

  /* also by span id and on /monitoring/jobs/{id} */
  doc = get_json ("/monitoring/jobs/api-traced", 200);
  j = json_node_get_object (doc);
  fail_unless_equals_string (json_object_get_string_member (j,
          "traceparent"), tp);
  path = g_strconcat ("/monitoring/jobs/", json_object_get_string_member (j,
          "span_id"), NULL);
  json_node_unref (get_json (path, 200));
  g_free (path);
  json_node_unref (doc);
  fail_unless (apm_monitor_complete_job_tracking (monitor, "api-traced",
          "success", NULL));
  /* finished jobs keep it */
  text = apm_monitor_get_traceparent (monitor, "api-traced");
  fail_unless_equals_string (text, tp);
  g_free (text);
  fail_unless (apm_monitor_get_traceparent (monitor, "api-no-such-job") ==
      NULL);

  /* a root job: no parent, a new trace; a plain job has no labels */
  bad_cid = apm_monitor_start_job_tracking (monitor, "api-root");
  doc = get_json ("/monitoring/jobs/api-root", 200);
  j = json_node_get_object (doc);
  fail_unless (json_object_get_null_member (j, "parent_span_id"));
  fail_unless_equals_int (json_object_get_size
      (json_object_get_object_member (j, "labels")), 0);
  fail_if (g_strcmp0 (bad_cid, cid) == 0);
  json_node_unref (doc);
  apm_monitor_complete_job_tracking (monitor, "api-root", "success", NULL);
  g_free (bad_cid);

  /* malformed (uppercase): the job runs, in a new trace, and it is logged;
   * a label too long is cut */
  for (guint i = 0; i < 300; i++)
    g_string_append_c (long_value, 'x');
  g_hash_table_insert (labels, "long", long_value->str);
  bad_cid = apm_monitor_start_job_tracking_full (monitor, "api-bad-parent",
      "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", labels);
  fail_unless (bad_cid != NULL);
  fail_unless_equals_int (strlen (bad_cid), 32);
  fail_if (g_strcmp0 (bad_cid, cid) == 0);
  doc = get_json ("/monitoring/jobs/api-bad-parent", 200);
  j = json_node_get_object (doc);
  fail_unless (json_object_get_null_member (j, "parent_span_id"));
  fail_unless_equals_int (strlen (json_object_get_string_member
          (json_object_get_object_member (j, "labels"), "long")), 256);
  json_node_unref (doc);
  doc = get_json ("/monitoring/logs?component=jobs&level=warning", 200);
  l = find_log (doc, "job api-bad-parent: traceparent "
      "'00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01' is not "
      "valid (the trace id is not 32 lowercase hex digits): the job starts "
      "a new trace");
  fail_unless (l != NULL, "no warning logged for a malformed traceparent");
  json_node_unref (doc);
  apm_monitor_complete_job_tracking (monitor, "api-bad-parent", "success",
      NULL);

  g_string_free (long_value, TRUE);
  g_free (bad_cid);
  g_free (tp);
  g_free (cid);
  g_hash_table_unref (labels);
}

GST_END_TEST;

static Suite *
apm_api_suite (void)
{
  Suite *s = suite_create ("apm_api");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_start_server_first_wins);
  tcase_add_test (tc, test_jobs_correlation_ids);
  tcase_add_test (tc, test_jobs_trace_context);
  tcase_add_test (tc, test_job_stages_accumulate);
  tcase_add_test (tc, test_custom_metrics_exact);
  tcase_add_test (tc, test_invalid_rejected);
  tcase_add_test (tc, test_rejected_histogram_leaves_no_family);
  tcase_add_test (tc, test_spec_helpers);
  tcase_add_test (tc, test_health_check);
  tcase_add_test (tc, test_alert_rule);
  tcase_add_test (tc, test_thread_safety);
  tcase_add_test (tc, test_logger);
  /* last: what it tries could spoil /metrics for the others */
  tcase_add_test (tc, test_invalid_label_names);
  return s;
}

int
main (int argc, char **argv)
{
  /* the tracer's params set the alert interval (1 s instead of 30 s): an
   * application has no other way; the service is one per process, so the
   * tests share it: no forking */
  apm_test_prepare_env ("apm(port=0,quiet=true,alert-interval=1)");
  g_setenv ("CK_FORK", "no", TRUE);
  gst_check_init (&argc, &argv);
  gst_check_add_log_filter (NULL, G_LOG_LEVEL_WARNING,
      g_regex_new ("^apm: ", 0, 0, NULL), count_warning, NULL, NULL);
  return gst_check_run_suite (apm_api_suite (), "apm_api", __FILE__);
}
