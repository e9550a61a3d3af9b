/* gst-apm tests: stage spans between two apmonitor elements, and the
 * underrun tolerance
 *
 * A span (span-from) measures the wall-clock time media takes from one
 * monitor to the next: at least the sleep of an identity in between, the
 * frames a FLAC encoder gathers, through a resampler; nothing (and a
 * warning) when the upstream monitor does not exist.  The figures are
 * checked where a user reads them: the "span" structure of the bus
 * messages, the span-latency property and /metrics.
 *
 * Every pipeline belongs to the fixture: a test stops them with
 * stop_pipelines() before it ends (GST_END_TEST waits for every streaming
 * task), and the teardown stops what a failed test left running
 * (CK_FORK=no: the pipelines start the process-wide service).
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <math.h>
#include <string.h>

#include "apmtestutil.h"

#define MS GST_MSECOND

/* --- fixture: the pipelines of the running test --- */

static GPtrArray *pipelines;

static void
setup (void)
{
  pipelines = g_ptr_array_new ();
}

static void
stop_pipelines (void)
{
  for (guint i = 0; i < pipelines->len; i++) {
    GstElement *p = g_ptr_array_index (pipelines, i);

    gst_element_set_state (p, GST_STATE_NULL);
    gst_object_unref (p);
  }
  g_ptr_array_set_size (pipelines, 0);
}

static void
teardown (void)
{
  stop_pipelines ();
  g_ptr_array_unref (pipelines);
  pipelines = NULL;
}

static GstElement *
pipeline (const gchar * description, const gchar * name)
{
  GstElement *p = apm_test_parse (description, name);

  g_ptr_array_add (pipelines, p);
  return p;
}

/* --- a run to EOS, with what the monitors posted --- */

typedef struct
{
  gchar *url;                   /* from "apm-service" (first run only) */
  GPtrArray *warnings;          /* texts of WARNING messages */
  GPtrArray *messages;          /* "apmonitor" structures, all monitors */
} Run;

static void
run_clear (Run * run)
{
  g_free (run->url);
  g_ptr_array_unref (run->warnings);
  g_ptr_array_unref (run->messages);
  memset (run, 0, sizeof (*run));
}

/* Pops @p's bus until EOS (failing on ERROR or a hang), keeping the
 * monitors' messages and the warnings. */
static void
collect_to_eos (GstElement * p, Run * run)
{
  GstBus *bus = gst_element_get_bus (p);
  gboolean done = FALSE;

  if (!run->warnings) {
    run->warnings = g_ptr_array_new_with_free_func (g_free);
    run->messages = g_ptr_array_new_with_free_func ((GDestroyNotify)
        gst_structure_free);
  }
  while (!done) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, APM_TEST_BUS_TIMEOUT,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_WARNING |
        GST_MESSAGE_ELEMENT);
    const GstStructure *s;
    GError *err = NULL;
    gchar *dbg = NULL;

    fail_unless (msg != NULL, "%s: no EOS", GST_OBJECT_NAME (p));
    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_EOS:
        done = TRUE;
        break;
      case GST_MESSAGE_ERROR:
        gst_message_parse_error (msg, &err, &dbg);
        fail ("%s: ERROR from %s: %s (%s)", GST_OBJECT_NAME (p),
            GST_MESSAGE_SRC_NAME (msg), err->message, GST_STR_NULL (dbg));
        break;
      case GST_MESSAGE_WARNING:
        gst_message_parse_warning (msg, &err, &dbg);
        g_ptr_array_add (run->warnings, g_strdup_printf ("%s: %s",
                GST_MESSAGE_SRC_NAME (msg), err->message));
        break;
      case GST_MESSAGE_ELEMENT:
        s = gst_message_get_structure (msg);
        if (gst_structure_has_name (s, "apm-service") && !run->url)
          run->url = g_strdup (gst_structure_get_string (s, "url"));
        else if (gst_structure_has_name (s, "apmonitor")) {
          GstStructure *copy = gst_structure_copy (s);

          gst_structure_set (copy, "monitor", G_TYPE_STRING,
              GST_MESSAGE_SRC_NAME (msg), NULL);
          g_ptr_array_add (run->messages, copy);
        }
        break;
      default:
        break;
    }
    g_clear_error (&err);
    g_free (dbg);
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
}

static void
run_to_eos (GstElement * p, Run * run)
{
  fail_if (gst_element_set_state (p, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  collect_to_eos (p, run);
}

/* What the "span" structures of @monitor's messages add up to. */
typedef struct
{
  guint messages, with_span;
  guint64 buffers, monitor_buffers, matched;
  GstClockTime min, max;        /* over the intervals that matched */
  gchar *name;
} SpanSummary;

static guint64
u64 (const GstStructure * s, const gchar * field)
{
  guint64 v;

  fail_unless (gst_structure_get_uint64 (s, field, &v), "no %s in %"
      GST_PTR_FORMAT, field, s);
  return v;
}

static SpanSummary
summarize (Run * run, const gchar * monitor)
{
  SpanSummary sum = { 0, 0, 0, 0, 0, GST_CLOCK_TIME_NONE, 0, NULL };

  for (guint i = 0; i < run->messages->len; i++) {
    const GstStructure *s = g_ptr_array_index (run->messages, i);
    const GValue *v;
    const GstStructure *sp;

    if (g_strcmp0 (gst_structure_get_string (s, "monitor"), monitor))
      continue;
    sum.messages++;
    sum.monitor_buffers += u64 (s, "buffers");
    v = gst_structure_get_value (s, "span");
    if (!v)
      continue;
    fail_unless (GST_VALUE_HOLDS_STRUCTURE (v));
    sp = gst_value_get_structure (v);
    sum.with_span++;
    g_free (sum.name);
    sum.name = g_strdup (gst_structure_get_string (sp, "name"));
    sum.buffers += u64 (sp, "buffers");
    if (u64 (sp, "matched") == 0) {
      fail_unless_equals_uint64 (u64 (sp, "latency-max"),
          GST_CLOCK_TIME_NONE);
      continue;
    }
    sum.matched += u64 (sp, "matched");
    /* the figures of one interval agree with each other */
    fail_unless (u64 (sp, "latency-min") <= u64 (sp, "latency-mean"));
    fail_unless (u64 (sp, "latency-mean") <= u64 (sp, "latency-max"));
    fail_unless (u64 (sp, "latency-p95") <= u64 (sp, "latency-max"));
    fail_unless (u64 (sp, "latency-p95") >= u64 (sp, "latency-min"));
    sum.min = MIN (sum.min, u64 (sp, "latency-min"));
    sum.max = MAX (sum.max, u64 (sp, "latency-max"));
  }
  return sum;
}

static gdouble
span_metric (GHashTable * metrics, const gchar * name, const gchar * pl,
    const gchar * span, const gchar * from, const gchar * to)
{
  gdouble v = -1;

  fail_unless (apm_test_metric_value (metrics, &v, name, "pipeline", pl,
          "span", span, "from", from, "to", to, NULL), "no %s{span=%s}",
      name, span);
  return v;
}

static GstClockTime
span_latency_property (GstElement * p, const gchar * monitor)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (p), monitor);
  guint64 v;

  fail_unless (e != NULL);
  g_object_get (e, "span-latency", &v, NULL);
  gst_object_unref (e);
  return v;
}

/* --- tests --- */

/* 50 ms buffers of a live source through a queue and an identity that
 * sleeps 20 ms per buffer: every buffer takes at least 20 ms, and (the
 * queue staying empty) not much more. */
GST_START_TEST (test_span_queue_sleep)
{
  GstElement *p = pipeline ("audiotestsrc is-live=true samplesperbuffer=2205 "
      "num-buffers=8 ! audio/x-raw,format=S16LE,rate=44100,channels=1 "
      "! apmonitor name=pre port=0 quiet=true ! queue "
      "! identity sleep-time=20000 ! apmonitor name=post span-from=pre "
      "! fakesink", "span_queue");
  SoupSession *session = apm_test_session_new ();
  GHashTable *metrics;
  Run run = { 0 };
  SpanSummary sum;
  GstClockTime high = APM_TEST_SCALED (20 * MS + 50 * MS + 50 * MS);
  gdouble count, total;

  run_to_eos (p, &run);
  fail_unless (run.url != NULL);
  fail_unless_equals_int (run.warnings->len, 0);

  sum = summarize (&run, "post");
  fail_unless (sum.with_span > 0 && sum.with_span == sum.messages);
  fail_unless_equals_string (sum.name, "pre->post");
  fail_unless_equals_uint64 (sum.buffers, 8);
  fail_unless_equals_uint64 (sum.matched, 8);
  fail_unless (sum.min >= 20 * MS, "latency %" GST_TIME_FORMAT
      " below the 20 ms sleep", GST_TIME_ARGS (sum.min));
  fail_unless (sum.max < high, "latency %" GST_TIME_FORMAT " over %"
      GST_TIME_FORMAT, GST_TIME_ARGS (sum.max), GST_TIME_ARGS (high));
  fail_unless (span_latency_property (p, "post") >= 20 * MS);
  /* the upstream end measures no span of its own */
  fail_unless_equals_int (summarize (&run, "pre").with_span, 0);
  fail_unless_equals_uint64 (span_latency_property (p, "pre"),
      GST_CLOCK_TIME_NONE);

  metrics = apm_test_fetch_metrics (session, run.url);
  count = span_metric (metrics, "apm_span_latency_seconds_count",
      "span_queue", "pre->post", "pre", "post");
  total = span_metric (metrics, "apm_span_latency_seconds_sum",
      "span_queue", "pre->post", "pre", "post");
  fail_unless_equals_int ((gint) count, 8);
  fail_unless (total / count >= 0.020);
  fail_unless (span_metric (metrics, "apm_span_current_latency_seconds",
          "span_queue", "pre->post", "pre", "post") >= 0.020);
  fail_unless_equals_int ((gint) span_metric (metrics,
          "apm_span_buffers_total", "span_queue", "pre->post", "pre",
          "post"), 8);
  fail_unless_equals_int ((gint) span_metric (metrics,
          "apm_span_bytes_total", "span_queue", "pre->post", "pre",
          "post"), 8 * 2205 * 2);
  fail_unless (fabs (span_metric (metrics, "apm_span_media_seconds_total",
              "span_queue", "pre->post", "pre", "post") - 0.4) < 1e-6);
  g_hash_table_unref (metrics);

  /* the pipeline model shows the span on its downstream end */
  {
    JsonNode *doc = apm_test_http_json (session, "GET", run.url,
        "/monitoring/pipelines/span_queue", 200);
    JsonArray *elements = json_object_get_array_member (json_node_get_object
        (doc), "elements");
    JsonObject *span = NULL, *latency;

    for (guint i = 0; i < json_array_get_length (elements); i++) {
      JsonObject *e = json_array_get_object_element (elements, i);

      if (g_str_has_suffix (json_object_get_string_member (e, "name"),
              "post"))
        span = json_object_get_object_member (e, "span");
      else
        fail_if (json_object_has_member (e, "span"));
    }
    fail_unless (span != NULL, "no span on post in the pipeline model");
    fail_unless_equals_string (json_object_get_string_member (span, "name"),
        "pre->post");
    fail_unless_equals_int (json_object_get_int_member (span, "matched"), 8);
    latency = json_object_get_object_member (span, "latency");
    fail_unless_equals_int (json_object_get_int_member (latency, "count"), 8);
    fail_unless (json_object_get_double_member (latency,
            "mean_seconds") >= 0.020);
    json_node_unref (doc);
  }

  g_free (sum.name);
  run_clear (&run);
  g_object_unref (session);
  stop_pipelines ();
}

GST_END_TEST;

/* FLAC in between makes new buffers of 4608 samples from the source's
 * 1024: matched on running time, a frame's latency counts from when its
 * first sample passed, so it includes the time the encoder waited for the
 * rest (at least 3 of the live source's 23 ms buffers). */
GST_START_TEST (test_span_flac)
{
  GstElement *p = pipeline ("audiotestsrc is-live=true num-buffers=24 "
      "! audio/x-raw,format=S16LE,rate=44100,channels=1 "
      "! apmonitor name=enc_in port=0 quiet=true ! flacenc ! flacparse "
      "! flacdec ! apmonitor name=dec_out span-from=enc_in ! fakesink",
      "span_flac");
  SoupSession *session = apm_test_session_new ();
  GHashTable *metrics;
  Run run = { 0 };
  SpanSummary sum;
  gdouble media;

  run_to_eos (p, &run);
  fail_unless_equals_int (run.warnings->len, 0);
  sum = summarize (&run, "dec_out");
  fail_unless (sum.with_span > 0);
  /* every decoded buffer has its latency */
  fail_unless (sum.buffers >= 5, "%" G_GUINT64_FORMAT " buffers",
      sum.buffers);
  fail_unless_equals_uint64 (sum.buffers, sum.monitor_buffers);
  fail_unless_equals_uint64 (sum.matched, sum.buffers);
  fail_unless (sum.max >= 3 * 1024 * GST_SECOND / 44100, "latency %"
      GST_TIME_FORMAT " shorter than the encoder's frame",
      GST_TIME_ARGS (sum.max));
  fail_unless (sum.max < (GstClockTime) APM_TEST_SCALED (GST_SECOND));

  /* throughput out of the span: all that went in, decoded */
  metrics = apm_test_fetch_metrics (session, run.url);
  fail_unless_equals_int ((gint) span_metric (metrics,
          "apm_span_bytes_total", "span_flac", "enc_in->dec_out", "enc_in",
          "dec_out"), 24 * 1024 * 2);
  media = span_metric (metrics, "apm_span_media_seconds_total", "span_flac",
      "enc_in->dec_out", "enc_in", "dec_out");
  fail_unless (fabs (media - 24 * 1024 / 44100.0) < 0.001, "media %f",
      media);
  fail_unless_equals_int ((gint) span_metric (metrics,
          "apm_span_latency_seconds_count", "span_flac", "enc_in->dec_out",
          "enc_in", "dec_out"), sum.matched);
  g_hash_table_unref (metrics);

  g_free (sum.name);
  run_clear (&run);
  g_object_unref (session);
  stop_pipelines ();
}

GST_END_TEST;

/* 44.1 kHz in, 48 kHz out: other sizes, other timestamps, the same
 * running time. */
GST_START_TEST (test_span_resample)
{
  GstElement *p = pipeline ("audiotestsrc num-buffers=20 "
      "! audio/x-raw,rate=44100 ! apmonitor name=rs_in port=0 quiet=true "
      "! audioresample ! audio/x-raw,rate=48000 "
      "! apmonitor name=rs_out span-from=rs_in span-name=resampling "
      "! fakesink", "span_resample");
  Run run = { 0 };
  SpanSummary sum;

  run_to_eos (p, &run);
  fail_unless_equals_int (run.warnings->len, 0);
  sum = summarize (&run, "rs_out");
  fail_unless_equals_string (sum.name, "resampling");
  fail_unless (sum.buffers >= 20);
  fail_unless_equals_uint64 (sum.matched, sum.buffers);
  fail_unless (sum.max < (GstClockTime) APM_TEST_SCALED (GST_SECOND));
  g_free (sum.name);
  run_clear (&run);
  stop_pipelines ();
}

GST_END_TEST;

/* span-from naming nothing, a non-monitor, or the monitor itself: one
 * warning each, no span, the stream flows. */
GST_START_TEST (test_span_missing_origin)
{
  GstElement *p = pipeline ("audiotestsrc name=src num-buffers=5 "
      "! apmonitor name=a span-from=nosuch port=0 quiet=true "
      "! apmonitor name=b span-from=src ! apmonitor name=c span-from=c "
      "! fakesink", "span_missing");
  SoupSession *session = apm_test_session_new ();
  GHashTable *metrics;
  Run run = { 0 };
  /* monitor, what its warning names */
  static const gchar *const expect[][2] = {
    {"a", "'nosuch'"}, {"b", "'src'"}, {"c", "'c'"}
  };

  run_to_eos (p, &run);
  fail_unless_equals_int (run.warnings->len, 3);
  for (guint i = 0; i < G_N_ELEMENTS (expect); i++) {
    gboolean found = FALSE;

    for (guint j = 0; j < run.warnings->len; j++) {
      const gchar *w = g_ptr_array_index (run.warnings, j);

      found |= g_str_has_prefix (w, expect[i][0]) && w[1] == ':'
          && strstr (w, expect[i][1]) && strstr (w, "span-from");
    }
    fail_unless (found, "no warning from %s naming %s", expect[i][0],
        expect[i][1]);
  }
  for (guint i = 0; i < G_N_ELEMENTS (expect); i++) {
    const gchar *name = expect[i][0];
    SpanSummary sum = summarize (&run, name);

    fail_unless (sum.messages > 0);
    fail_unless_equals_uint64 (sum.monitor_buffers, 5);
    fail_unless_equals_int (sum.with_span, 0);
    fail_unless_equals_uint64 (span_latency_property (p, name),
        GST_CLOCK_TIME_NONE);
  }
  metrics = apm_test_fetch_metrics (session, run.url);
  fail_unless_equals_int (apm_test_count_series (metrics,
          "apm_span_buffers_total", "span_missing"), 0);
  fail_unless_equals_int (apm_test_count_series (metrics,
          "apm_span_latency_seconds_count", "span_missing"), 0);
  g_hash_table_unref (metrics);
  run_clear (&run);
  g_object_unref (session);
  stop_pipelines ();
}

GST_END_TEST;

/* Two spans from one monitor (a short one inside a long one), measured
 * again after the pipeline is set to NULL and played again. */
GST_START_TEST (test_span_shared_origin_replay)
{
  GstElement *p = pipeline ("audiotestsrc is-live=true samplesperbuffer=2205 "
      "num-buffers=4 ! apmonitor name=origin port=0 quiet=true "
      "! identity sleep-time=5000 ! apmonitor name=mid span-from=origin "
      "! queue ! identity sleep-time=20000 "
      "! apmonitor name=end span-from=origin span-name=whole ! fakesink",
      "span_shared");
  SoupSession *session = apm_test_session_new ();
  GHashTable *metrics;
  Run run = { 0 };

  for (guint round = 0; round < 2; round++) {
    SpanSummary mid, end;

    if (run.messages)
      g_ptr_array_set_size (run.messages, 0);
    run_to_eos (p, &run);
    fail_unless_equals_int (run.warnings->len, 0);
    mid = summarize (&run, "mid");
    end = summarize (&run, "end");
    fail_unless_equals_string (mid.name, "origin->mid");
    fail_unless_equals_string (end.name, "whole");
    fail_unless_equals_uint64 (mid.matched, 4);
    fail_unless_equals_uint64 (end.matched, 4);
    fail_unless (mid.min >= 5 * MS, "round %u: mid %" GST_TIME_FORMAT,
        round, GST_TIME_ARGS (mid.min));
    fail_unless (end.min >= 25 * MS, "round %u: end %" GST_TIME_FORMAT,
        round, GST_TIME_ARGS (end.min));
    fail_unless (end.max < (GstClockTime) APM_TEST_SCALED (25 * MS + 50 * MS
            + 50 * MS));
    g_free (mid.name);
    g_free (end.name);
    fail_unless_equals_int (gst_element_set_state (p, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
  }

  /* one series per span (the parser fails on duplicates) */
  metrics = apm_test_fetch_metrics (session, run.url);
  fail_unless_equals_int (apm_test_count_series (metrics,
          "apm_span_latency_seconds_count", "span_shared"), 2);
  g_hash_table_unref (metrics);
  run_clear (&run);
  g_object_unref (session);
  stop_pipelines ();
}

GST_END_TEST;

/* A flushing seek back to the start: running time starts over, and the
 * span goes on measuring the new positions, not the old ones. */
GST_START_TEST (test_span_flushing_seek)
{
  GstElement *p = pipeline ("audiotestsrc samplesperbuffer=441 "
      "! audio/x-raw,rate=44100 ! apmonitor name=sk_in port=0 quiet=true "
      "! queue max-size-buffers=2 ! apmonitor name=sk_out span-from=sk_in "
      "! fakesink sync=true", "span_seek");
  GstClockTime bound = APM_TEST_SCALED (200 * MS);
  gint64 deadline = g_get_monotonic_time () +
      APM_TEST_BUS_TIMEOUT / GST_USECOND;
  GstBus *bus = gst_element_get_bus (p);
  GstClockTime played = 0;
  GstMessage *msg;
  Run run = { 0 };
  SpanSummary sum;

  fail_if (gst_element_set_state (p, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  /* play (in real time: the sink syncs) past the bound first */
  while (played < bound + 300 * MS) {
    msg = gst_bus_timed_pop_filtered (bus, 100 * MS, GST_MESSAGE_ELEMENT |
        GST_MESSAGE_ERROR);
    fail_unless (g_get_monotonic_time () < deadline, "no progress");
    if (!msg)
      continue;
    fail_if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR);
    if (gst_message_has_name (msg, "apmonitor")
        && !strcmp (GST_MESSAGE_SRC_NAME (msg), "sk_out"))
      played = u64 (gst_message_get_structure (msg), "running-time");
    gst_message_unref (msg);
  }
  fail_unless (gst_element_seek (p, 1.0, GST_FORMAT_TIME,
          GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE, GST_SEEK_TYPE_SET, 0,
          GST_SEEK_TYPE_SET, 300 * MS));
  /* what was posted before the seek */
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT)))
    gst_message_unref (msg);
  gst_object_unref (bus);

  collect_to_eos (p, &run);
  sum = summarize (&run, "sk_out");
  fail_unless (sum.matched > 0);
  fail_unless (sum.max < bound, "latency %" GST_TIME_FORMAT " after the "
      "seek: matched to before it?", GST_TIME_ARGS (sum.max));
  g_free (sum.name);
  run_clear (&run);
  stop_pipelines ();
}

GST_END_TEST;

/* --- the underrun tolerance --- */

static GstBuffer *
silence (GstClockTime pts, GstClockTime duration)
{
  gsize frames = gst_util_uint64_scale (duration, 48000, GST_SECOND);
  GstBuffer *buf = gst_buffer_new_allocate (NULL, frames * 2, NULL);

  gst_buffer_memset (buf, 0, 0, frames * 2);
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = duration;
  return buf;
}

static guint64
underruns (GstHarness * h)
{
  guint64 v;

  g_object_get (h->element, "underruns", &v, NULL);
  return v;
}

/* A live stream on a test clock, deadline = running time + 20 ms latency:
 * by default a buffer may be late by half its duration (a source waking
 * once per buffer is that late by its scheduling); an explicit tolerance
 * is used as given. */
GST_START_TEST (test_underrun_tolerance)
{
  for (guint explicit = 0; explicit < 2; explicit++) {
    GstElement *e = gst_element_factory_make ("apmonitor", NULL);
    GstHarness *h;

    /* set before it starts the service: not the default port, other
     * tests may run at the same time */
    g_object_set (e, "port", 0, "quiet", TRUE, NULL);
    if (explicit)
      g_object_set (e, "tolerance", (guint64) MS, NULL);
    h = gst_harness_new_with_element (e, "sink", "src");
    gst_object_unref (e);
    gst_harness_use_testclock (h);
    gst_harness_set_upstream_latency (h, 20 * MS);
    gst_harness_set_src_caps_str (h, "audio/x-raw,format=S16LE,"
        "layout=interleaved,rate=48000,channels=1");

    /* 10 ms buffer, 3 ms late: within half a buffer */
    fail_unless (gst_harness_set_time (h, 23 * MS));
    gst_harness_push (h, silence (0, 10 * MS));
    fail_unless_equals_uint64 (underruns (h), explicit ? 1 : 0);
    /* 10 ms buffer, 6 ms late: over half a buffer */
    fail_unless (gst_harness_set_time (h, 36 * MS));
    gst_harness_push (h, silence (10 * MS, 10 * MS));
    fail_unless_equals_uint64 (underruns (h), explicit ? 2 : 1);
    /* 100 ms buffer, 40 ms late: within half of it */
    fail_unless (gst_harness_set_time (h, 80 * MS));
    gst_harness_push (h, silence (20 * MS, 100 * MS));
    fail_unless_equals_uint64 (underruns (h), explicit ? 3 : 1);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* span-from naming a monitor downstream, past a queue that lets the
 * upstream end run ahead: hardly anything matches, and the monitor says so
 * once instead of measuring nothing in silence */
GST_START_TEST (test_span_origin_downstream)
{
  GstElement *p = pipeline ("audiotestsrc num-buffers=80 "
      "samplesperbuffer=441 ! apmonitor name=early span-from=late "
      "port=0 quiet=true ! queue max-size-buffers=200 max-size-time=0 "
      "max-size-bytes=0 ! apmonitor name=late ! fakesink sync=true",
      "span_backwards");
  Run run = { 0 };
  guint found = 0;

  run_to_eos (p, &run);
  for (guint j = 0; j < run.warnings->len; j++) {
    const gchar *w = g_ptr_array_index (run.warnings, j);

    if (g_str_has_prefix (w, "early:") && strstr (w, "late->early")
        && strstr (w, "upstream"))
      found++;
  }
  fail_unless_equals_int (found, 1);
  fail_unless_equals_int (run.warnings->len, 1);
  run_clear (&run);
  stop_pipelines ();
}

GST_END_TEST;

static Suite *
apmonitor_span_suite (void)
{
  Suite *s = suite_create ("apmonitor_span");
  TCase *tc = tcase_create ("span");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_underrun_tolerance);
  tcase_add_test (tc, test_span_missing_origin);
  tcase_add_test (tc, test_span_origin_downstream);
  tcase_add_test (tc, test_span_queue_sleep);
  tcase_add_test (tc, test_span_flac);
  tcase_add_test (tc, test_span_resample);
  tcase_add_test (tc, test_span_shared_origin_replay);
  tcase_add_test (tc, test_span_flushing_seek);
  return s;
}

int
main (int argc, char **argv)
{
  g_unsetenv ("GST_TRACERS");
  apm_test_prepare_env (NULL);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (apmonitor_span_suite (), "apmonitor_span",
      __FILE__);
}
