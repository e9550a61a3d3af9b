/* gst-apm tests: the tracer's counts and timings, read over HTTP
 *
 * Runs with GST_TRACERS="apm(port=0,quiet=true)" and CK_FORK=no: one service
 * per process, shared by every test here.  Each test runs uniquely named
 * pipelines whose counts are known in advance or whose timings have a lower
 * bound that holds by construction (a sleep inside the path, or buffers held
 * until the test has seen them all queued), then reads /metrics the way a
 * user would.
 */
#include <gst/check/gstcheck.h>
#include <gst/audio/audio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "apmtestutil.h"

#define PROC "apm_element_processing_seconds"
#define STAGE "apm_element_latency_seconds"
#define E2E "apm_pipeline_latency_seconds"
#define FLOWS "apm_pad_flow_errors_total"
#define MESSAGES "apm_element_messages_total"

/* generous: only bounds a failure, never reached when the code works */
#define METRICS_TIMEOUT_US APM_TEST_SCALED (10 * G_USEC_PER_SEC)

/* "name{a="x",b="y"}" for messages */
static gchar *
describe (const gchar * name, const gchar * const *labels)
{
  GString *s = g_string_new (name);

  g_string_append_c (s, '{');
  for (guint i = 0; labels[i]; i += 2)
    g_string_append_printf (s, "%s%s=\"%s\"", i ? "," : "", labels[i],
        labels[i + 1]);
  g_string_append_c (s, '}');
  return g_string_free (s, FALSE);
}

/* The value of a series that must exist. */
static gdouble
needv (GHashTable * m, const gchar * name, const gchar * const *labels)
{
  gdouble v = 0;

  if (!apm_test_metric_valuev (m, &v, name, labels)) {
    gchar *d = describe (name, labels);

    fail ("no series %s", d);
    g_free (d);
  }
  return v;
}

/* an element series: labels pipeline, element, factory */
static gdouble
el (GHashTable * m, const gchar * family, const gchar * pipeline,
    const gchar * element, const gchar * factory)
{
  const gchar *labels[] = { "pipeline", pipeline, "element", element,
    "factory", factory, NULL
  };

  return needv (m, family, labels);
}

static gdouble
pad (GHashTable * m, const gchar * family, const gchar * pipeline,
    const gchar * element, const gchar * pad_name)
{
  const gchar *labels[] = { "pipeline", pipeline, "element", element,
    "pad", pad_name, NULL
  };

  return needv (m, family, labels);
}

/* A histogram series read as a whole. */
typedef struct
{
  gdouble count, sum;
  GHashTable *m;
  const gchar *family;
  const gchar *labels[9];       /* without le */
} Hist;

static void
hist_read (Hist * h, GHashTable * m, const gchar * family)
{
  gchar *name;

  h->m = m;
  h->family = family;
  name = g_strconcat (family, "_count", NULL);
  h->count = needv (m, name, h->labels);
  g_free (name);
  name = g_strconcat (family, "_sum", NULL);
  h->sum = needv (m, name, h->labels);
  g_free (name);
}

/* cumulative count of the bucket le=@le ("0.01", "+Inf") */
static gdouble
hist_le (Hist * h, const gchar * le)
{
  const gchar *labels[11];
  gchar *name = g_strconcat (h->family, "_bucket", NULL);
  guint i;
  gdouble v;

  for (i = 0; h->labels[i]; i++)
    labels[i] = h->labels[i];
  labels[i++] = "le";
  labels[i++] = le;
  labels[i] = NULL;
  v = needv (h->m, name, labels);
  g_free (name);
  return v;
}

static void
hist_element (Hist * h, GHashTable * m, const gchar * family,
    const gchar * pipeline, const gchar * element, const gchar * factory)
{
  memset (h, 0, sizeof *h);
  h->labels[0] = "pipeline";
  h->labels[1] = pipeline;
  h->labels[2] = "element";
  h->labels[3] = element;
  h->labels[4] = "factory";
  h->labels[5] = factory;
  hist_read (h, m, family);
  /* +Inf is the count: a histogram_quantile() needs it */
  fail_unless (hist_le (h, "+Inf") == h->count);
}

static void
hist_path (Hist * h, GHashTable * m, const gchar * pipeline,
    const gchar * source, const gchar * sink)
{
  memset (h, 0, sizeof *h);
  h->labels[0] = "pipeline";
  h->labels[1] = pipeline;
  h->labels[2] = "source";
  h->labels[3] = source;
  h->labels[4] = "sink";
  h->labels[5] = sink;
  hist_read (h, m, E2E);
  fail_unless (hist_le (h, "+Inf") == h->count);
}

/* --- waiting for values that are final only after the bus message --- */

typedef struct
{
  const gchar *name;
  const gchar *labels[9];
  gdouble at_least;
} Want;

/* TRUE when every series of the {NULL}-terminated array has its value */
static gboolean
wants_met (GHashTable * m, gpointer user_data)
{
  for (const Want * w = user_data; w->name; w++) {
    gdouble v;

    if (!apm_test_metric_valuev (m, &v, w->name, w->labels)
        || v < w->at_least)
      return FALSE;
  }
  return TRUE;
}

/* --- 1. exact counts --- */

typedef struct
{
  const gchar *name, *factory;
  gdouble buffers_in, buffers_out, bytes_in, bytes_out, media;
} ElementCounts;

GST_START_TEST (test_exact_counts)
{
  const guint n = 25, spb = 480, rate = 48000;
  /* S16 stereo in, F32 stereo after audioconvert */
  const gdouble in_bytes = (gdouble) n * spb * 4, out_bytes = in_bytes * 2;
  const gdouble media = (gdouble) n * spb / rate;       /* 0.25 s */
  gchar *desc = g_strdup_printf ("audiotestsrc name=src num-buffers=%u "
      "samplesperbuffer=%u ! capsfilter name=cf1 "
      "caps=\"audio/x-raw,format=S16LE,channels=2,rate=%u\" "
      "! identity name=id ! audioconvert name=conv ! capsfilter name=cf2 "
      "caps=\"audio/x-raw,format=F32LE,channels=2\" "
      "! fakesink name=sink sync=false", n, spb, rate);
  const ElementCounts expected[] = {
    {"src", "audiotestsrc", 0, n, 0, in_bytes, 0},
    {"cf1", "capsfilter", n, n, in_bytes, in_bytes, media},
    {"id", "identity", n, n, in_bytes, in_bytes, media},
    {"conv", "audioconvert", n, n, in_bytes, out_bytes, media},
    {"cf2", "capsfilter", n, n, out_bytes, out_bytes, media},
    {"sink", "fakesink", n, 0, out_bytes, 0, media},
  };
  GstElement *pipeline = apm_test_parse_tracked (desc, "timing_counts");
  SoupSession *session = apm_test_session_new ();
  GHashTable *m;
  const gchar *url;
  gchar *u;

  apm_test_run_to_eos (pipeline, &u, NULL);
  url = apm_test_url_of_run (u);
  m = apm_test_fetch_metrics (session, url);

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++) {
    const ElementCounts *e = &expected[i];
    gdouble v;

#define CHECK(family, want) \
    v = el (m, family, "timing_counts", e->name, e->factory); \
    fail_unless (v == (want), "%s of %s: %.0f, expected %.0f", family, \
        e->name, v, (gdouble) (want));
    CHECK ("apm_element_buffers_in_total", e->buffers_in);
    CHECK ("apm_element_buffers_out_total", e->buffers_out);
    CHECK ("apm_element_bytes_in_total", e->bytes_in);
    CHECK ("apm_element_bytes_out_total", e->bytes_out);
#undef CHECK
    v = el (m, "apm_element_media_seconds_total", "timing_counts", e->name,
        e->factory);
    fail_unless (fabs (v - e->media) < 1e-9, "media seconds of %s: %.12g, "
        "expected %.12g", e->name, v, e->media);
  }
  /* the pad counters agree with the element counters */
  fail_unless (pad (m, "apm_pad_bytes_total", "timing_counts", "conv",
          "sink") == in_bytes);
  fail_unless (pad (m, "apm_pad_bytes_total", "timing_counts", "conv",
          "src") == out_bytes);

  g_hash_table_unref (m);
  g_object_unref (session);
  g_free (desc);
  apm_test_stop_untrack (pipeline);
}

GST_END_TEST;

/* --- 2. own processing time --- */

GST_START_TEST (test_processing_time)
{
  const guint n = 20;
  GstElement *pipeline = apm_test_parse_tracked ("audiotestsrc name=src "
      "num-buffers=20 ! identity name=slow sleep-time=20000 "
      "! audioconvert name=conv ! fakesink name=sink sync=false",
      "timing_proc");
  SoupSession *session = apm_test_session_new ();
  GHashTable *m;
  Hist h;
  gchar *u;

  apm_test_run_to_eos (pipeline, &u, NULL);
  m = apm_test_fetch_metrics (session, apm_test_url_of_run (u));

  /* identity sleeps 20 ms per buffer before it pushes: own time >= 20 ms */
  hist_element (&h, m, PROC, "timing_proc", "slow", "identity");
  fail_unless_equals_int ((gint) h.count, n);
  fail_unless (h.sum / h.count >= 0.020, "identity's mean own time %.6f s "
      "< its 20 ms sleep", h.sum / h.count);
  fail_unless_equals_int ((gint) hist_le (&h, "0.01"), 0);
  fail_unless_equals_int ((gint) hist_le (&h, "+Inf"), n);

  /* downstream of it, the sleep is not counted again */
  hist_element (&h, m, PROC, "timing_proc", "conv", "audioconvert");
  fail_unless_equals_int ((gint) h.count, n);
  fail_unless (h.sum / h.count < 0.005, "audioconvert's mean own time "
      "%.6f s: the identity's sleep leaked into it", h.sum / h.count);
  hist_element (&h, m, PROC, "timing_proc", "sink", "fakesink");
  fail_unless_equals_int ((gint) h.count, n);
  fail_unless (h.sum / h.count < 0.005, "fakesink's mean own time %.6f s",
      h.sum / h.count);

  /* nor upstream: the source's time between its pushes excludes them */
  hist_element (&h, m, PROC, "timing_proc", "src", "audiotestsrc");
  fail_unless (h.count >= n - 1 && h.count <= n, "source timed %.0f times",
      h.count);
  fail_unless (h.sum < 0.020, "audiotestsrc's own time %.6f s in total "
      "includes the downstream sleeps", h.sum);

  g_hash_table_unref (m);
  g_object_unref (session);
  apm_test_stop_untrack (pipeline);
}

GST_END_TEST;

/* --- 3. latency through a held-back queue --- */

typedef struct
{
  GstElement *queue;
  guint expect_level;
  gint seen;                    /* handoffs */
  gint all_queued;              /* 1: saw them, -1: deadline passed */
} Hold;

/* identity's handoff, on the queue's streaming thread, before its sleep:
 * holds the first buffer until every other one sits in the queue, so that
 * they all entered before any of the sleeps below starts */
static void
hold_first_buffer (GstElement * identity, GstBuffer * buffer, Hold * hold)
{
  gint64 deadline;

  if (g_atomic_int_add (&hold->seen, 1) != 0)
    return;
  deadline = g_get_monotonic_time () + METRICS_TIMEOUT_US;
  for (;;) {
    guint level = 0;

    g_object_get (hold->queue, "current-level-buffers", &level, NULL);
    if (level >= hold->expect_level) {
      g_atomic_int_set (&hold->all_queued, 1);
      return;
    }
    if (g_get_monotonic_time () > deadline) {
      g_atomic_int_set (&hold->all_queued, -1);
      return;
    }
    g_usleep (500);
  }
}

GST_START_TEST (test_latency_through_queue)
{
  /* 20 buffers of 10 ms (200 ms: under the queue's 1 s limit); the
   * consumer sleeps D = 10 ms per buffer after the queue */
  const guint n = 20;
  const gdouble d = 0.010;
  GstElement *pipeline = apm_test_parse_tracked ("audiotestsrc name=src "
      "num-buffers=20 samplesperbuffer=441 ! audio/x-raw,rate=44100 "
      "! queue name=q ! identity name=slow sleep-time=10000 "
      "! fakesink name=sink sync=false", "timing_queue");
  SoupSession *session = apm_test_session_new ();
  Hold hold = { 0, };
  GstElement *slow;
  GHashTable *m;
  Hist h;
  gchar *u;

  hold.queue = gst_bin_get_by_name (GST_BIN (pipeline), "q");
  hold.expect_level = n - 1;
  slow = gst_bin_get_by_name (GST_BIN (pipeline), "slow");
  g_signal_connect (slow, "handoff", G_CALLBACK (hold_first_buffer), &hold);

  apm_test_run_to_eos (pipeline, &u, NULL);
  fail_unless (g_atomic_int_get (&hold.all_queued) == 1, "the queue never "
      "held the %u buffers behind the first one", n - 1);
  fail_unless_equals_int (g_atomic_int_get (&hold.seen), n);
  m = apm_test_fetch_metrics (session, apm_test_url_of_run (u));

  /* Let T be when the handoff saw all queued: every buffer was pushed by
   * the source before T, and buffer k reaches the sink after T + (k+1) D.
   * So each latency is >= D and the sum >= D n (n+1) / 2. */
  hist_path (&h, m, "timing_queue", "src", "sink");
  fail_unless_equals_int ((gint) h.count, n);
  fail_unless_equals_int ((gint) hist_le (&h, "0.005"), 0);
  fail_unless (h.sum >= d * n * (n + 1) / 2, "end-to-end latency sum "
      "%.4f s < %.4f s", h.sum, d * n * (n + 1) / 2);
  fail_unless (h.sum / h.count >= d);
  /* exactly one path in this pipeline */
  fail_unless_equals_int (apm_test_count_series (m, E2E "_count",
          "timing_queue"), 1);

  /* in the queue: buffer k leaves after T + k D, so only the first can
   * stay less than D, and the sum is >= D n (n-1) / 2 */
  hist_element (&h, m, STAGE, "timing_queue", "q", "queue");
  fail_unless_equals_int ((gint) h.count, n);
  fail_unless (hist_le (&h, "0.005") <= 1, "%.0f buffers stayed < 5 ms in "
      "the held-back queue", hist_le (&h, "0.005"));
  fail_unless (h.sum >= d * n * (n - 1) / 2, "queue latency sum %.4f s < "
      "%.4f s", h.sum, d * n * (n - 1) / 2);

  /* identity holds each buffer for its sleep */
  hist_element (&h, m, STAGE, "timing_queue", "slow", "identity");
  fail_unless_equals_int ((gint) h.count, n);
  fail_unless_equals_int ((gint) hist_le (&h, "0.005"), 0);
  fail_unless (h.sum / h.count >= d);

  g_hash_table_unref (m);
  g_object_unref (session);
  gst_object_unref (slow);
  gst_object_unref (hold.queue);
  apm_test_stop_untrack (pipeline);
}

GST_END_TEST;

/* --- an element that holds each buffer until the next one arrives (and
 * sends the last at EOS): on its chain's own thread, of a kind ("Filter")
 * that does not tell the tracer it holds buffers --- */

typedef struct
{
  GstElement parent;
  GstPad *srcpad;
  GstBuffer *held;
} ApmTestDelay;

typedef struct
{
  GstElementClass parent_class;
} ApmTestDelayClass;

GType apm_test_delay_get_type (void);
G_DEFINE_TYPE (ApmTestDelay, apm_test_delay, GST_TYPE_ELEMENT);

static GstStaticPadTemplate delay_sink_template =
GST_STATIC_PAD_TEMPLATE ("sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate delay_src_template =
GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS_ANY);

static GstFlowReturn
delay_chain (GstPad * pad, GstObject * parent, GstBuffer * buffer)
{
  ApmTestDelay *self = (ApmTestDelay *) parent;
  GstBuffer *previous = self->held;

  self->held = buffer;
  return previous ? gst_pad_push (self->srcpad, previous) : GST_FLOW_OK;
}

static gboolean
delay_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  ApmTestDelay *self = (ApmTestDelay *) parent;

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS && self->held) {
    GstBuffer *last = self->held;

    self->held = NULL;
    gst_pad_push (self->srcpad, last);
  } else if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP) {
    gst_buffer_replace (&self->held, NULL);
  }
  return gst_pad_event_default (pad, parent, event);
}

static void
apm_test_delay_finalize (GObject * object)
{
  gst_buffer_replace (&((ApmTestDelay *) object)->held, NULL);
  G_OBJECT_CLASS (apm_test_delay_parent_class)->finalize (object);
}

static void
apm_test_delay_class_init (ApmTestDelayClass * klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = apm_test_delay_finalize;
  gst_element_class_add_static_pad_template (element_class,
      &delay_sink_template);
  gst_element_class_add_static_pad_template (element_class,
      &delay_src_template);
  gst_element_class_set_static_metadata (element_class, "One-buffer delay",
      "Filter", "Sends each buffer when the next one arrives", "gst-apm");
}

static void
apm_test_delay_init (ApmTestDelay * self)
{
  GstPad *sinkpad = gst_pad_new_from_static_template (&delay_sink_template,
      "sink");

  self->srcpad = gst_pad_new_from_static_template (&delay_src_template,
      "src");
  gst_pad_set_chain_function (sinkpad, delay_chain);
  gst_pad_set_event_function (sinkpad, delay_event);
  GST_PAD_SET_PROXY_CAPS (sinkpad);
  GST_PAD_SET_PROXY_CAPS (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), sinkpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);
}

/* An element of no telling kind holding buffers on its own thread: the
 * tracer finds out at the first buffer it sends later than its chain got
 * it, and measures every buffer from there on: each waited for the next
 * one, which took identity's 10 ms sleep to arrive */
GST_START_TEST (test_latency_holding_element)
{
  const guint n = 20;
  const gdouble d = 0.010;
  GstElement *pipeline;
  SoupSession *session = apm_test_session_new ();
  GHashTable *m;
  Hist h;
  gchar *u;

  fail_unless (gst_element_register (NULL, "apmtestdelay", GST_RANK_NONE,
          apm_test_delay_get_type ()));
  pipeline = apm_test_parse_tracked ("audiotestsrc num-buffers=20 "
      "samplesperbuffer=441 ! audio/x-raw,rate=44100 ! identity "
      "sleep-time=10000 ! apmtestdelay name=hold ! identity name=after "
      "! fakesink sync=false", "timing_hold");
  apm_test_run_to_eos (pipeline, &u, NULL);
  m = apm_test_fetch_metrics (session, apm_test_url_of_run (u));

  /* n buffers sent; the first only showed the element holds them */
  hist_element (&h, m, STAGE, "timing_hold", "hold", "apmtestdelay");
  fail_unless_equals_int ((gint) h.count, n - 1);
  /* only the last, sent at EOS, did not wait for a sleep */
  fail_unless (hist_le (&h, "0.005") <= 1, "%.0f buffers held < 5 ms",
      hist_le (&h, "0.005"));
  fail_unless (h.sum >= d * (n - 2), "held %.4f s in all, < %.4f s", h.sum,
      d * (n - 2));
  /* the element after it sends what its chain got: every buffer, at once */
  hist_element (&h, m, STAGE, "timing_hold", "after", "identity");
  fail_unless_equals_int ((gint) h.count, n);
  fail_unless_equals_int ((gint) hist_le (&h, "0.005"), n);

  g_hash_table_unref (m);
  g_object_unref (session);
  apm_test_stop_untrack (pipeline);
}

GST_END_TEST;

/* A queue that stays 1000 buffers deep: the latency rings start at 256
 * entries and must grow to follow, missing only a few buffers meanwhile */
GST_START_TEST (test_latency_deep_queue)
{
  const guint n = 3000, depth = 1000;
  gchar *desc = g_strdup_printf ("audiotestsrc name=src num-buffers=%u "
      "samplesperbuffer=64 ! queue name=q max-size-buffers=%u "
      "max-size-time=0 max-size-bytes=0 ! identity name=slow "
      "sleep-time=200 ! fakesink name=sink sync=false", n, depth);
  GstElement *pipeline = apm_test_parse_tracked (desc, "timing_deep");
  SoupSession *session = apm_test_session_new ();
  GHashTable *m;
  Hist h;
  gchar *u;

  apm_test_run_to_eos (pipeline, &u, NULL);
  m = apm_test_fetch_metrics (session, apm_test_url_of_run (u));

  /* a fixed 256-entry ring would lose every buffer more than 256 behind
   * the source: all but about 256.  A growing one loses at most those
   * overwritten before it grew, fewer than the queue holds */
  hist_path (&h, m, "timing_deep", "src", "sink");
  fail_unless (h.count >= n - depth, "end-to-end latency of %.0f "
      "buffers out of %u", h.count, n);
  /* the deep ones waited behind ~1000 buffers of >= 200 us each */
  fail_unless (h.count - hist_le (&h, "0.1") > 0, "no buffer took over "
      "0.1 s through a queue %u deep", depth);
  hist_element (&h, m, STAGE, "timing_deep", "q", "queue");
  fail_unless (h.count >= n - depth, "queue latency of %.0f buffers "
      "out of %u", h.count, n);

  g_hash_table_unref (m);
  g_object_unref (session);
  g_free (desc);
  apm_test_stop_untrack (pipeline);
}

GST_END_TEST;

/* --- 4. fan-out and fan-in: one latency series per path --- */

GST_START_TEST (test_latency_tee_paths)
{
  const guint n = 30;
  GstElement *pipeline = apm_test_parse_tracked ("audiotestsrc name=src "
      "num-buffers=30 ! tee name=t "
      "t. ! queue name=qa ! fakesink name=a sync=false "
      "t. ! queue name=qb ! fakesink name=b sync=false", "timing_tee");
  SoupSession *session = apm_test_session_new ();
  GHashTable *m;
  Hist h;
  gchar *u;

  apm_test_run_to_eos (pipeline, &u, NULL);
  m = apm_test_fetch_metrics (session, apm_test_url_of_run (u));

  hist_path (&h, m, "timing_tee", "src", "a");
  fail_unless_equals_int ((gint) h.count, n);
  hist_path (&h, m, "timing_tee", "src", "b");
  fail_unless_equals_int ((gint) h.count, n);
  fail_unless_equals_int (apm_test_count_series (m, E2E "_count",
          "timing_tee"), 2);
  /* the tee pushed each buffer twice */
  fail_unless (el (m, "apm_element_buffers_out_total", "timing_tee", "t",
          "tee") == 2 * n);
  fail_unless (el (m, "apm_element_buffers_in_total", "timing_tee", "t",
          "tee") == n);

  g_hash_table_unref (m);
  g_object_unref (session);
  apm_test_stop_untrack (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_latency_mixer_paths)
{
  GstElement *pipeline = apm_test_parse_tracked ("audiomixer name=mix "
      "! fakesink name=sink sync=false "
      "audiotestsrc name=s1 num-buffers=20 ! mix. "
      "audiotestsrc name=s2 num-buffers=20 freq=880 ! mix.", "timing_mix");
  SoupSession *session = apm_test_session_new ();
  GHashTable *m;
  Hist h1, h2;
  gdouble sink_buffers;
  gchar *u;

  apm_test_run_to_eos (pipeline, &u, NULL);
  m = apm_test_fetch_metrics (session, apm_test_url_of_run (u));

  sink_buffers = el (m, "apm_element_buffers_in_total", "timing_mix",
      "sink", "fakesink");
  fail_unless (sink_buffers > 0);
  /* both sources are upstream of the sink: one series each, neither
   * overwriting the other */
  hist_path (&h1, m, "timing_mix", "s1", "sink");
  hist_path (&h2, m, "timing_mix", "s2", "sink");
  fail_unless (h1.count > 0, "no latency observed from s1");
  fail_unless (h2.count > 0, "no latency observed from s2");
  fail_unless (h1.count <= sink_buffers && h2.count <= sink_buffers);
  fail_unless_equals_int (apm_test_count_series (m, E2E "_count",
          "timing_mix"), 2);

  g_hash_table_unref (m);
  g_object_unref (session);
  apm_test_stop_untrack (pipeline);
}

GST_END_TEST;

/* --- 5. flow errors and error messages --- */

GST_START_TEST (test_flow_error_counted)
{
  /* identity fails its 5th buffer: its chain returns ERROR to the source's
   * push; identity posts an ERROR, then basesrc posts its own */
  GstElement *pipeline = apm_test_parse_tracked ("audiotestsrc name=src "
      "num-buffers=20 ! identity name=id error-after=5 "
      "! fakesink name=sink sync=false", "timing_flow_err");
  SoupSession *session = apm_test_session_new ();
  Want want[] = {
    {FLOWS, {"pipeline", "timing_flow_err", "element", "src", "pad", "src",
            "reason", "error", NULL}, 1},
    {MESSAGES, {"pipeline", "timing_flow_err", "element", "id", "type",
            "error", NULL}, 1},
    {MESSAGES, {"pipeline", "timing_flow_err", "element", "src", "type",
            "error", NULL}, 1},
    {NULL}
  };
  const gchar *lab[] = { "pipeline", "timing_flow_err", "element", "src",
    "pad", "src", "reason", "error", NULL
  };
  const gchar *id_msg[] = { "pipeline", "timing_flow_err", "element", "id",
    "type", "error", NULL
  };
  const gchar *src_msg[] = { "pipeline", "timing_flow_err", "element", "src",
    "type", "error", NULL
  };
  GHashTable *m;
  gchar *u;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  apm_test_wait (pipeline, TRUE, &u, NULL, NULL);
  m = apm_test_wait_metrics (session, apm_test_url_of_run (u), wants_met, want,
      METRICS_TIMEOUT_US);

  fail_unless_equals_int ((gint) needv (m, FLOWS, lab), 1);
  fail_unless_equals_int ((gint) needv (m, MESSAGES, id_msg), 1);
  fail_unless_equals_int ((gint) needv (m, MESSAGES, src_msg), 1);
  /* no error on pads that did not see one */
  fail_unless_equals_int (apm_test_count_series (m, FLOWS,
          "timing_flow_err"), 1);
  /* 4 buffers got through */
  fail_unless_equals_int ((gint) pad (m, "apm_pad_buffers_total",
          "timing_flow_err", "sink", "sink"), 4);
  fail_unless_equals_int ((gint) pad (m, "apm_pad_buffers_total",
          "timing_flow_err", "id", "sink"), 5);

  g_hash_table_unref (m);
  g_object_unref (session);
  apm_test_stop_untrack (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_flow_not_linked_counted)
{
  /* identity's source pad is linked to nothing: its push returns
   * NOT_LINKED, which it returns to the source's push */
  GstElement *pipeline = apm_test_parse_tracked ("audiotestsrc name=src "
      "num-buffers=20 ! identity name=id", "timing_not_linked");
  SoupSession *session = apm_test_session_new ();
  Want want[] = {
    {FLOWS, {"pipeline", "timing_not_linked", "element", "id", "pad", "src",
            "reason", "not-linked", NULL}, 1},
    {FLOWS, {"pipeline", "timing_not_linked", "element", "src", "pad", "src",
            "reason", "not-linked", NULL}, 1},
    {MESSAGES, {"pipeline", "timing_not_linked", "element", "src", "type",
            "error", NULL}, 1},
    {NULL}
  };
  GHashTable *m;
  gchar *u;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  apm_test_wait (pipeline, TRUE, &u, NULL, NULL);
  m = apm_test_wait_metrics (session, apm_test_url_of_run (u), wants_met, want,
      METRICS_TIMEOUT_US);

  for (guint i = 0; want[i].name; i++)
    fail_unless_equals_int ((gint) needv (m, want[i].name, want[i].labels),
        1);
  fail_unless_equals_int (apm_test_count_series (m, FLOWS,
          "timing_not_linked"), 2);
  /* identity posted nothing */
  fail_if (apm_test_metric_value (m, NULL, MESSAGES, "pipeline",
          "timing_not_linked", "element", "id", "type", "error", NULL));

  g_hash_table_unref (m);
  g_object_unref (session);
  apm_test_stop_untrack (pipeline);
}

GST_END_TEST;

/* --- 6. decodebin: elements and pads that appear while running --- */

static GstElement *
find_by_factory (GstElement * bin, const gchar * factory)
{
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (bin));
  GValue v = G_VALUE_INIT;
  GstElement *found = NULL;

  while (!found && gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&v);
    GstElementFactory *f = gst_element_get_factory (e);

    if (f && g_str_equal (GST_OBJECT_NAME (f), factory))
      found = gst_object_ref (e);
    g_value_reset (&v);
  }
  g_value_unset (&v);
  gst_iterator_free (it);
  fail_unless (found != NULL, "no %s in %s", factory, GST_OBJECT_NAME (bin));
  return found;
}

static void
write_file (const gchar * encoder, const gchar * file, guint n, guint spb)
{
  gchar *desc = g_strdup_printf ("audiotestsrc num-buffers=%u "
      "samplesperbuffer=%u ! audio/x-raw,format=S16LE,channels=2,rate=44100 "
      "! %s ! filesink location=\"%s\"", n, spb, encoder, file);
  gchar *name = g_strdup_printf ("timing_write_%s", encoder);
  GstElement *writer = apm_test_parse_tracked (desc, name);

  apm_test_run_to_eos (writer, NULL, NULL);
  apm_test_stop_untrack (writer);
  g_free (name);
  g_free (desc);
}

/* Decodes @file with decodebin; checks series of the elements it plugged
 * (@factories, all with a "src" pad) and of the pads it added. */
static void
check_decodebin (const gchar * pipeline_name, const gchar * file,
    const gchar * const *factories, guint n, guint spb)
{
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! decodebin "
      "! audioconvert name=conv ! fakesink name=sink sync=false", file);
  GstElement *pipeline = apm_test_parse_tracked (desc, pipeline_name);
  SoupSession *session = apm_test_session_new ();
  GstElement *decodebin = find_by_factory (pipeline, "decodebin");
  GstElement *conv = gst_bin_get_by_name (GST_BIN (pipeline), "conv");
  GstPad *conv_sink = gst_element_get_static_pad (conv, "sink");
  gchar *db_path = apm_test_element_path (decodebin);
  gdouble conv_buffers;
  GHashTable *m;
  GstPad *ghost;
  gchar *u;

  apm_test_run_to_eos (pipeline, &u, NULL);
  m = apm_test_fetch_metrics (session, apm_test_url_of_run (u));

  /* audioconvert's sink pad, linked once decodebin exposed its pad */
  conv_buffers = pad (m, "apm_pad_buffers_total", pipeline_name, "conv",
      "sink");
  fail_unless (conv_buffers > 0);
  fail_unless (pad (m, "apm_pad_bytes_total", pipeline_name, "conv",
          "sink") == (gdouble) n * spb * 4, "%s: decoded %.0f bytes, expected"
      " %u x %u x 4", pipeline_name, pad (m, "apm_pad_bytes_total",
          pipeline_name, "conv", "sink"), n, spb);

  /* decodebin's exposed (ghost) pad counts for decodebin */
  ghost = gst_pad_get_peer (conv_sink);
  fail_unless (ghost != NULL);
  fail_unless (pad (m, "apm_pad_buffers_total", pipeline_name, db_path,
          GST_OBJECT_NAME (ghost)) == conv_buffers);

  for (guint i = 0; factories[i]; i++) {
    GstElement *e = find_by_factory (decodebin, factories[i]);
    gchar *path = apm_test_element_path (e);
    gchar *want = g_strdup_printf ("%s/%s", db_path, GST_OBJECT_NAME (e));

    /* "decodebin0/wavparse0" */
    fail_unless_equals_string (path, want);
    fail_unless (pad (m, "apm_pad_buffers_total", pipeline_name, path,
            "src") > 0, "no buffers counted on %s:src", path);
    fail_unless (el (m, "apm_element_buffers_in_total", pipeline_name, path,
            factories[i]) > 0, "no buffers into %s", path);
    g_free (want);
    g_free (path);
    gst_object_unref (e);
  }

  g_hash_table_unref (m);
  g_object_unref (session);
  gst_object_unref (ghost);
  gst_object_unref (conv_sink);
  gst_object_unref (conv);
  gst_object_unref (decodebin);
  g_free (db_path);
  g_free (desc);
  apm_test_stop_untrack (pipeline);
}

GST_START_TEST (test_decodebin_dynamic_pads)
{
  const guint n = 20, spb = 1024;
  const gchar *wav_factories[] = { "wavparse", NULL };
  const gchar *flac_factories[] = { "flacparse", "flacdec", NULL };
  GError *error = NULL;
  gchar *dir = g_dir_make_tmp ("apm-timing-XXXXXX", &error);
  gchar *wav, *flac;

  fail_unless (dir != NULL, "%s", error ? error->message : "?");
  wav = g_build_filename (dir, "tone.wav", NULL);
  flac = g_build_filename (dir, "tone.flac", NULL);
  write_file ("wavenc", wav, n, spb);
  write_file ("flacenc", flac, n, spb);

  check_decodebin ("timing_decode_wav", wav, wav_factories, n, spb);
  check_decodebin ("timing_decode_flac", flac, flac_factories, n, spb);

  g_unlink (wav);
  g_unlink (flac);
  g_rmdir (dir);
  g_free (wav);
  g_free (flac);
  g_free (dir);
}

GST_END_TEST;

/* --- 7. QoS: a late sink posts a message per buffer it drops --- */

typedef struct
{
  gint messages;                /* atomic */
  guint64 dropped;              /* the last message's count */
} QosSeen;

static void
count_qos (GstBus * bus, GstMessage * message, QosSeen * seen)
{
  GstFormat format;
  guint64 processed, dropped;

  gst_message_parse_qos_stats (message, &format, &processed, &dropped);
  __atomic_store_n (&seen->dropped, dropped, __ATOMIC_RELAXED);
  g_atomic_int_inc (&seen->messages);
}

/* every message counted (the first makes the sink's series, the others
 * find them in its stats), and the running total of drops */
GST_START_TEST (test_qos_messages_counted)
{
  GstElement *pipeline = apm_test_parse_tracked ("audiotestsrc "
      "num-buffers=30 samplesperbuffer=441 ! audio/x-raw,rate=44100 ! "
      "identity sleep-time=15000 ! fakesink name=late sync=true qos=true "
      "max-lateness=1000000", "timing_qos");
  const gchar *labels[] = { "pipeline", "timing_qos", "element", "late",
    NULL
  };
  GstBus *bus = gst_element_get_bus (pipeline);
  SoupSession *session = apm_test_session_new ();
  QosSeen seen = { 0, 0 };
  GHashTable *m;
  gchar *u;

  gst_bus_enable_sync_message_emission (bus);
  g_signal_connect (bus, "sync-message::qos", G_CALLBACK (count_qos), &seen);
  apm_test_run_to_eos (pipeline, &u, NULL);
  fail_unless (g_atomic_int_get (&seen.messages) > 1, "the sink posted "
      "%d QoS messages", g_atomic_int_get (&seen.messages));
  m = apm_test_fetch_metrics (session, apm_test_url_of_run (u));
  fail_unless_equals_int ((gint) needv (m, "apm_element_qos_messages_total",
          labels), g_atomic_int_get (&seen.messages));
  fail_unless_equals_int ((gint) needv (m,
          "apm_element_qos_dropped_buffers_total", labels),
      (gint) __atomic_load_n (&seen.dropped, __ATOMIC_RELAXED));
  fail_unless (needv (m, "apm_element_lateness_seconds", labels) > 0);

  g_hash_table_unref (m);
  g_object_unref (session);
  gst_bus_disable_sync_message_emission (bus);
  gst_object_unref (bus);
  apm_test_stop_untrack (pipeline);
}

GST_END_TEST;

static Suite *
apm_tracer_timing_suite (void)
{
  Suite *s = suite_create ("apm_tracer_timing");
  TCase *tc = tcase_create ("timing");

  suite_add_tcase (s, tc);
  /* a failing test's pipelines are stopped here: one left PLAYING would
   * hang the next test's task cleanup */
  tcase_add_checked_fixture (tc, NULL, apm_test_stop_tracked);
  tcase_add_test (tc, test_exact_counts);
  tcase_add_test (tc, test_processing_time);
  tcase_add_test (tc, test_latency_through_queue);
  tcase_add_test (tc, test_latency_deep_queue);
  tcase_add_test (tc, test_latency_holding_element);
  tcase_add_test (tc, test_latency_tee_paths);
  tcase_add_test (tc, test_latency_mixer_paths);
  tcase_add_test (tc, test_flow_error_counted);
  tcase_add_test (tc, test_flow_not_linked_counted);
  tcase_add_test (tc, test_decodebin_dynamic_pads);
  tcase_add_test (tc, test_qos_messages_counted);
  return s;
}

int
main (int argc, char **argv)
{
  apm_test_prepare_env ("apm(port=0,quiet=true)");
  g_setenv ("CK_FORK", "no", TRUE);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (apm_tracer_timing_suite (), "apm_tracer_timing",
      __FILE__);
}
