/* gst-apm tests: transfers of sources and sinks, and buffer pools
 *
 * Runs in-process with GST_TRACERS="apm(port=0,quiet=true)" and
 * CK_FORK=no: one service for every test here.
 */
#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <string.h>

#include "apmtestutil.h"

#define SECONDS(s) ((gint64) ((s) * G_USEC_PER_SEC))

static const gchar *url;
static SoupSession *session;
static gchar *tmp_dir;

static void
setup (void)
{
  session = apm_test_session_new ();
  url = apm_test_service_url ("xferstart");
  tmp_dir = g_dir_make_tmp ("apm-transfers-XXXXXX", NULL);
  fail_unless (tmp_dir != NULL);
}

static void
teardown (void)
{
  GDir *dir;
  const gchar *name;

  apm_test_stop_tracked ();
  g_clear_object (&session);
  if ((dir = g_dir_open (tmp_dir, 0, NULL))) {
    while ((name = g_dir_read_name (dir))) {
      gchar *p = g_build_filename (tmp_dir, name, NULL);

      g_remove (p);
      g_free (p);
    }
    g_dir_close (dir);
  }
  g_rmdir (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
}

static gint64
file_size (const gchar * path)
{
  GStatBuf st;

  fail_unless (g_stat (path, &st) == 0, "cannot stat %s", path);
  return st.st_size;
}

/* @size bytes that no block size divides, so the last buffer is short */
static gchar *
make_file (const gchar * name, gsize size)
{
  gchar *path = g_build_filename (tmp_dir, name, NULL);
  guint8 *data = g_malloc (size);
  GRand *rand = g_rand_new_with_seed (size);

  for (gsize i = 0; i < size; i++)
    data[i] = g_rand_int (rand) & 0xff;
  fail_unless (g_file_set_contents (path, (gchar *) data, size, NULL));
  g_rand_free (rand);
  g_free (data);
  return path;
}

static gdouble
element_metric (GHashTable * m, const gchar * name, const gchar * pipeline,
    const gchar * element, const gchar * factory)
{
  gdouble v = -1;

  fail_unless (apm_test_metric_value (m, &v, name, "pipeline", pipeline,
          "element", element, "factory", factory, NULL),
      "no %s{pipeline=\"%s\",element=\"%s\"}", name, pipeline, element);
  return v;
}

typedef struct
{
  const gchar *job_id;
  JsonObject *job;              /* borrowed from the document */
} JobWait;

static gboolean
job_finished (JsonNode * doc, gpointer user_data)
{
  JobWait *w = user_data;
  JsonArray *finished = json_object_get_array_member (json_node_get_object
      (doc), "finished");

  w->job = NULL;
  for (guint i = 0; finished && i < json_array_get_length (finished); i++) {
    JsonObject *j = json_array_get_object_element (finished, i);

    if (g_strcmp0 (apm_test_str (j, "job_id"), w->job_id) == 0)
      w->job = j;
  }
  return w->job != NULL;
}

/* the run's job says it read and wrote @size bytes */
static void
check_job_bytes (const gchar * job_id, gint64 size)
{
  JobWait w = { job_id, NULL };
  JsonNode *doc = apm_test_wait_json (session, url, "/monitoring/jobs",
      job_finished, &w, APM_TEST_SCALED (SECONDS (5)));

  fail_unless (w.job != NULL, "no finished job %s in /monitoring/jobs",
      job_id);
  fail_unless_equals_string (apm_test_str (w.job, "status"), "success");
  fail_unless (json_object_has_member (w.job, "bytes_read")
      && json_object_has_member (w.job, "bytes_written"),
      "job %s has no bytes_read/bytes_written", job_id);
  fail_unless_equals_int64 (json_object_get_int_member (w.job, "bytes_read"),
      size);
  fail_unless_equals_int64 (json_object_get_int_member (w.job,
          "bytes_written"), size);
  json_node_unref (doc);
}

typedef struct
{
  const gchar *pipeline;
} RateWait;

static gboolean
rates_present (GHashTable * m, gpointer user_data)
{
  RateWait *w = user_data;

  return apm_test_metric_value (m, NULL, "apm_transfer_bytes_per_second",
      "pipeline", w->pipeline, "element", "src", "direction", "read", NULL)
      && apm_test_metric_value (m, NULL, "apm_transfer_bytes_per_second",
      "pipeline", w->pipeline, "element", "sink", "direction", "write",
      NULL)
      && apm_test_metric_value (m, NULL, "apm_transfer_first_byte_seconds",
      "pipeline", w->pipeline, "element", "src", "direction", "read", NULL)
      && apm_test_metric_value (m, NULL, "apm_transfer_first_byte_seconds",
      "pipeline", w->pipeline, "element", "sink", "direction", "write",
      NULL);
}

/* filesrc ! filesink copies the file: the byte counts of the source and
 * the sink equal the file's size exactly, run after run */
GST_START_TEST (test_file_copy_bytes_equal_sizes)
{
  const gsize size = 1234567;
  gchar *in = make_file ("in.bin", size);
  gchar *out = g_build_filename (tmp_dir, "out.bin", NULL);
  gchar *desc = g_strdup_printf ("filesrc name=src location=\"%s\" ! queue ! "
      "filesink name=sink location=\"%s\"", in, out);
  GstElement *p = apm_test_parse_tracked (desc, "filecopy");
  RateWait rw = { "filecopy" };
  GHashTable *m;
  gchar *a = NULL, *b = NULL;
  gsize la = 0, lb = 0;

  /* the run's transfer rates exist while the pipeline does */
  gst_element_set_state (p, GST_STATE_PLAYING);
  apm_test_wait (p, FALSE, NULL, NULL, NULL);
  m = apm_test_wait_metrics (session, url, rates_present, &rw,
      APM_TEST_SCALED (SECONDS (5)));
  fail_unless (rates_present (m, &rw), "no apm_transfer_bytes_per_second "
      "and apm_transfer_first_byte_seconds for src (read) and sink (write)");
  {
    gdouble src_first = -1, sink_first = -1;

    /* counted from READY_TO_PAUSED: the source reads first, the sink
     * writes after it, both well within the run */
    apm_test_metric_value (m, &src_first, "apm_transfer_first_byte_seconds",
        "pipeline", "filecopy", "element", "src", "direction", "read", NULL);
    apm_test_metric_value (m, &sink_first,
        "apm_transfer_first_byte_seconds", "pipeline", "filecopy", "element",
        "sink", "direction", "write", NULL);
    fail_unless (src_first >= 0 && src_first <= sink_first
        && sink_first < APM_TEST_SCALED (5), "time to first byte: src %f s, "
        "sink %f s", src_first, sink_first);
  }
  g_hash_table_unref (m);
  gst_element_set_state (p, GST_STATE_NULL);

  fail_unless_equals_int64 (file_size (out), size);
  fail_unless (g_file_get_contents (in, &a, &la, NULL)
      && g_file_get_contents (out, &b, &lb, NULL));
  fail_unless (la == lb && memcmp (a, b, la) == 0, "the copy differs");

  m = apm_test_fetch_metrics (session, url);
  fail_unless_equals_int64 ((gint64) element_metric (m,
          "apm_element_bytes_out_total", "filecopy", "src", "filesrc"),
      size);
  fail_unless_equals_int64 ((gint64) element_metric (m,
          "apm_element_bytes_in_total", "filecopy", "sink", "filesink"),
      size);
  g_hash_table_unref (m);

  /* a second run: the counters add up */
  apm_test_run_to_eos (p, NULL, NULL);
  gst_element_set_state (p, GST_STATE_NULL);
  fail_unless_equals_int64 (file_size (out), size);
  m = apm_test_fetch_metrics (session, url);
  fail_unless_equals_int64 ((gint64) element_metric (m,
          "apm_element_bytes_out_total", "filecopy", "src", "filesrc"),
      2 * size);
  fail_unless_equals_int64 ((gint64) element_metric (m,
          "apm_element_bytes_in_total", "filecopy", "sink", "filesink"),
      2 * size);
  g_hash_table_unref (m);

  apm_test_stop_untrack (p);
  g_free (a);
  g_free (b);
  g_free (desc);
  g_free (out);
  g_free (in);
}

GST_END_TEST;

/* each run's job reads and writes the file's size, not what earlier runs
 * or the start of this one added to the counters */
GST_START_TEST (test_job_bytes_equal_file_size)
{
  const gsize size = 345679;
  gchar *in = make_file ("job.bin", size);
  gchar *out = g_build_filename (tmp_dir, "job-out.bin", NULL);
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! queue ! "
      "filesink location=\"%s\"", in, out);
  GstElement *p = apm_test_parse_tracked (desc, "jobcopy");

  for (guint run = 1; run <= 3; run++) {
    gchar *job_id = g_strdup_printf ("jobcopy#%u", run);

    apm_test_run_to_eos (p, NULL, NULL);
    gst_element_set_state (p, GST_STATE_NULL);
    fail_unless_equals_int64 (file_size (out), size);
    check_job_bytes (job_id, size);
    g_free (job_id);
  }
  apm_test_stop_untrack (p);
  g_free (desc);
  g_free (out);
  g_free (in);
}

GST_END_TEST;

/* --- buffer pools --- */

typedef struct
{
  GMutex lock;
  GHashTable *memories;         /* distinct GstMemory seen */
  GHashTable *buffers_seen;     /* distinct GstBuffer seen */
  guint buffers;
} PoolSeen;

static GstPadProbeReturn
count_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  PoolSeen *seen = user_data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);

  g_mutex_lock (&seen->lock);
  seen->buffers++;
  if (gst_buffer_n_memory (buffer) > 0)
    g_hash_table_add (seen->memories, gst_buffer_peek_memory (buffer, 0));
  g_hash_table_add (seen->buffers_seen, buffer);
  g_mutex_unlock (&seen->lock);
  return GST_PAD_PROBE_OK;
}

typedef struct
{
  const gchar *pipeline, *element;
} PoolWait;

static gboolean
pool_gauges_present (GHashTable * m, gpointer user_data)
{
  PoolWait *w = user_data;

  return apm_test_metric_value (m, NULL, "apm_pool_buffer_size_bytes",
      "pipeline", w->pipeline, "element", w->element, NULL);
}

#define POOL_BUFFERS 200
/* 64 x 48 RGB: 192-byte rows, already 4-aligned */
#define FRAME_BYTES (64 * 48 * 3)

/* videotestsrc allocates from a video buffer pool: every buffer it sends is
 * acquired from the pool, none allocated one by one, and the pool reuses
 * its few buffers (fewer distinct memories reach the sink than buffers) */
GST_START_TEST (test_pool_reuse)
{
  GstElement *p = apm_test_parse_tracked ("videotestsrc name=vsrc num-buffers=200 ! "
      "video/x-raw,format=RGB,width=64,height=48,framerate=50/1 ! "
      "identity name=fwd ! fakesink name=sink", "poolreuse");
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  GstPad *pad = gst_element_get_static_pad (sink, "sink");
  PoolSeen seen = { {0}, g_hash_table_new (NULL, NULL),
    g_hash_table_new (NULL, NULL), 0
  };
  PoolWait pw = { "poolreuse", "vsrc" };
  GHashTable *m;
  gdouble acquired, allocated, size, fresh;
  guint distinct, distinct_buffers;
  JsonNode *doc;
  JsonObject *pool = NULL;
  gulong probe;

  g_mutex_init (&seen.lock);
  probe = gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_buffer,
      &seen, NULL);
  apm_test_run_to_eos (p, NULL, NULL);

  /* the pool's gauges are read once a second while the element exists */
  m = apm_test_wait_metrics (session, url, pool_gauges_present, &pw,
      APM_TEST_SCALED (SECONDS (5)));
  fail_unless (apm_test_metric_value (m, &size, "apm_pool_buffer_size_bytes",
          "pipeline", "poolreuse", "element", "vsrc", NULL),
      "no apm_pool_buffer_size_bytes for vsrc within 5 s");
  fail_unless_equals_int ((gint) size, FRAME_BYTES);
  acquired = element_metric (m, "apm_element_pool_buffers_total",
      "poolreuse", "vsrc", "videotestsrc");
  allocated = element_metric (m, "apm_element_allocated_buffers_total",
      "poolreuse", "vsrc", "videotestsrc");
  fresh = element_metric (m, "apm_element_pool_fresh_buffers_total",
      "poolreuse", "vsrc", "videotestsrc");
  /* identity sends on the buffers it gets: it allocated none of them */
  fail_unless_equals_int ((gint) element_metric (m,
          "apm_element_buffers_out_total", "poolreuse", "fwd", "identity"),
      POOL_BUFFERS);
  fail_unless_equals_int ((gint) element_metric (m,
          "apm_element_pool_buffers_total", "poolreuse", "fwd", "identity"),
      0);
  fail_unless_equals_int ((gint) element_metric (m,
          "apm_element_allocated_buffers_total", "poolreuse", "fwd",
          "identity"), 0);
  g_hash_table_unref (m);

  g_mutex_lock (&seen.lock);
  distinct = g_hash_table_size (seen.memories);
  distinct_buffers = g_hash_table_size (seen.buffers_seen);
  fail_unless_equals_int (seen.buffers, POOL_BUFFERS);
  g_mutex_unlock (&seen.lock);
  fail_unless_equals_int ((gint) acquired, POOL_BUFFERS);
  fail_unless_equals_int ((gint) allocated, 0);
  fail_unless (acquired > allocated);
  /* reuse: the pool made a few buffers and handed them out again */
  fail_unless (distinct > 0 && distinct < acquired / 4, "%u distinct "
      "memories for %.0f buffers acquired from the pool", distinct,
      acquired);
  /* the tracer's fresh allocations are the distinct buffers the sink got */
  fail_unless_equals_int ((gint) fresh, distinct_buffers);

  /* and the model says the same, with the reuse ratio */
  doc = apm_test_http_json (session, "GET", url,
      "/monitoring/pipelines/poolreuse", 200);
  {
    JsonArray *els = json_object_get_array_member (json_node_get_object (doc),
        "elements");

    for (guint i = 0; i < json_array_get_length (els); i++) {
      JsonObject *e = json_array_get_object_element (els, i);

      if (g_str_equal (json_object_get_string_member (e, "name"), "vsrc"))
        pool = json_object_get_object_member (e, "pool");
    }
  }
  fail_unless (pool != NULL, "no pool figures for vsrc in the model");
  fail_unless_equals_int (json_object_get_int_member (pool, "acquired"),
      POOL_BUFFERS);
  fail_unless_equals_int (json_object_get_int_member (pool, "fresh"),
      distinct_buffers);
  fail_unless_equals_int (json_object_get_int_member (pool, "reused"),
      POOL_BUFFERS - distinct_buffers);
  fail_unless (json_object_get_double_member (pool, "reuse_ratio") > 0.75);
  json_node_unref (doc);

  gst_pad_remove_probe (pad, probe);
  gst_object_unref (pad);
  gst_object_unref (sink);
  apm_test_stop_untrack (p);
  g_hash_table_unref (seen.memories);
  g_hash_table_unref (seen.buffers_seen);
  g_mutex_clear (&seen.lock);
}

GST_END_TEST;

/* audiotestsrc allocates each buffer itself: the opposite figures */
GST_START_TEST (test_no_pool_allocations)
{
  GstElement *p = apm_test_parse_tracked ("audiotestsrc name=asrc num-buffers=50 "
      "samplesperbuffer=256 ! audio/x-raw,format=S16LE,channels=1 ! "
      "fakesink", "nopool");
  GHashTable *m;

  apm_test_run_to_eos (p, NULL, NULL);
  m = apm_test_fetch_metrics (session, url);
  fail_unless_equals_int ((gint) element_metric (m,
          "apm_element_pool_buffers_total", "nopool", "asrc", "audiotestsrc"),
      0);
  fail_unless_equals_int ((gint) element_metric (m,
          "apm_element_allocated_buffers_total", "nopool", "asrc",
          "audiotestsrc"), 50);
  fail_unless_equals_int ((gint) element_metric (m,
          "apm_element_allocated_bytes_total", "nopool", "asrc",
          "audiotestsrc"), 50 * 256 * 2);
  fail_if (apm_test_metric_value (m, NULL, "apm_pool_buffer_size_bytes",
          "pipeline", "nopool", "element", "asrc", NULL),
      "pool gauges for an element that uses no pool");
  g_hash_table_unref (m);
  apm_test_stop_untrack (p);
}

GST_END_TEST;

/* A funnel sends the buffers of two pools in turns: they are its sources'
 * (each acquired all of its own from its pool and reused them), none the
 * funnel's own */
#define FUNNEL_CAPS "video/x-raw,format=RGB,width=64,height=48,framerate=50/1"
GST_START_TEST (test_funnel_forwards_two_pools)
{
  GstElement *p = apm_test_parse_tracked ("funnel name=f ! fakesink "
      "videotestsrc name=va num-buffers=100 ! " FUNNEL_CAPS " ! f. "
      "videotestsrc name=vb num-buffers=100 ! " FUNNEL_CAPS " ! f.",
      "funnel2");
  const gchar *sources[] = { "va", "vb" };
  GHashTable *m;

  apm_test_run_to_eos (p, NULL, NULL);
  m = apm_test_fetch_metrics (session, url);
  for (guint i = 0; i < G_N_ELEMENTS (sources); i++) {
    fail_unless_equals_int ((gint) element_metric (m,
            "apm_element_pool_buffers_total", "funnel2", sources[i],
            "videotestsrc"), 100);
    fail_unless (element_metric (m, "apm_element_pool_fresh_buffers_total",
            "funnel2", sources[i], "videotestsrc") < 100 / 4,
        "%s's pool reused few of its buffers", sources[i]);
  }
  fail_unless_equals_int ((gint) element_metric (m,
          "apm_element_buffers_out_total", "funnel2", "f", "funnel"), 200);
  fail_unless_equals_int ((gint) element_metric (m,
          "apm_element_pool_buffers_total", "funnel2", "f", "funnel"), 0);
  fail_unless_equals_int ((gint) element_metric (m,
          "apm_element_allocated_buffers_total", "funnel2", "f", "funnel"),
      0);
  g_hash_table_unref (m);
  apm_test_stop_untrack (p);
}

GST_END_TEST;

static Suite *
transfers_suite (void)
{
  Suite *s = suite_create ("apm_transfers");
  TCase *tc = tcase_create ("transfers");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_file_copy_bytes_equal_sizes);
  tcase_add_test (tc, test_job_bytes_equal_file_size);
  tcase_add_test (tc, test_pool_reuse);
  tcase_add_test (tc, test_no_pool_allocations);
  tcase_add_test (tc, test_funnel_forwards_two_pools);
  return s;
}

int
main (int argc, char **argv)
{
  apm_test_prepare_env ("apm(port=0,quiet=true)");
  g_setenv ("CK_FORK", "no", TRUE);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (transfers_suite (), "apm_transfers", __FILE__);
}
