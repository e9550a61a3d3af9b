/* gst-apm tests: optimization advice
 *
 * The rules as pure functions (gst-plugin/gstapmadvice.c, compiled in):
 * a snapshot with the problem gets the recommendation, one without does
 * not.  Then the same through real pipelines: for each rule a pipeline
 * with the problem, where GET /monitoring/report recommends it, and one
 * without, where it does not.  In-process, GST_TRACERS="apm(port=0,
 * quiet=true)", CK_FORK=no.
 */
#include <gst/check/gstcheck.h>
#include <math.h>
#include <string.h>

#include "apmtestutil.h"
#include "gstapmadvice.h"

/* --- helpers --- */

/* the first recommendation @id (at @element unless NULL), or NULL */
static JsonObject *
find_rec (JsonArray * recs, const gchar * id, const gchar * element)
{
  for (guint i = 0; recs && i < json_array_get_length (recs); i++) {
    JsonObject *r = json_array_get_object_element (recs, i);

    if (g_strcmp0 (json_object_get_string_member (r, "id"), id) == 0
        && (!element || g_strcmp0 (json_object_get_string_member (r,
                    "element"), element) == 0))
      return r;
  }
  return NULL;
}

static gchar *
ids_of (JsonArray * recs)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; recs && i < json_array_get_length (recs); i++) {
    JsonObject *r = json_array_get_object_element (recs, i);

    g_string_append_printf (s, "%s%s@%s", i ? ", " : "",
        json_object_get_string_member (r, "id"),
        json_object_get_string_member (r, "element"));
  }
  return g_string_free (s, FALSE);
}

/* every recommendation has the documented members */
static void
check_shape (JsonArray * recs)
{
  for (guint i = 0; i < json_array_get_length (recs); i++) {
    JsonObject *r = json_array_get_object_element (recs, i);
    const gchar *sev = apm_test_member_string (r, "severity");

    apm_test_member_string (r, "id");
    apm_test_member_string (r, "element");
    fail_unless (strlen (apm_test_member_string (r, "advice")) > 20);
    fail_unless (json_object_get_size (apm_test_member_object (r,
                "evidence")) > 0, "a recommendation without evidence");
    fail_unless (g_strcmp0 (sev, "info") == 0
        || g_strcmp0 (sev, "warning") == 0
        || g_strcmp0 (sev, "critical") == 0, "severity %s", sev);
  }
}

#define assert_rec(recs, id, element) G_STMT_START { \
    gchar *_ids = ids_of (recs); \
    fail_unless (find_rec ((recs), (id), (element)) != NULL, \
        "no %s at %s; got: %s", (id), (element) ? (element) : "any", _ids); \
    g_free (_ids); \
  } G_STMT_END
#define assert_no_rec(recs, id) G_STMT_START { \
    gchar *_ids = ids_of (recs); \
    fail_unless (find_rec ((recs), (id), NULL) == NULL, \
        "unexpected %s; got: %s", (id), _ids); \
    g_free (_ids); \
  } G_STMT_END

/* --- the rules over hand-made snapshots --- */

/* a chain of @n elements on thread 1, linked in order */
static GstApmSnapshot *
chain (const gchar * const *names, const gchar * const *factories, guint n)
{
  GstApmSnapshot *snap = gst_apm_snapshot_new ("p");

  for (guint i = 0; i < n; i++) {
    guint idx = gst_apm_snapshot_add_element (snap, names[i], factories[i],
        i == 0 ? GST_APM_KIND_SOURCE : i == n - 1 ? GST_APM_KIND_SINK :
        GST_APM_KIND_FILTER);
    GstApmElementSnap *e = gst_apm_snapshot_element (snap, idx);

    e->tid = 1;
    e->buffers = 1000;
    e->media_s = 10;            /* 10 ms buffers */
    e->bytes_in = e->bytes_out = 1000 * 1764;
    if (i > 0)
      gst_apm_snapshot_add_link (snap, i - 1, i);
  }
  gst_apm_snapshot_element (snap, 0)->bytes_in = 0;
  snap->wall_s = 10;
  return snap;
}

static void
set_own (GstApmSnapshot * snap, guint i, gdouble total)
{
  GstApmElementSnap *e = gst_apm_snapshot_element (snap, i);

  e->has_own = TRUE;
  e->own_count = e->buffers;
  e->own_total_s = total;
  e->own_mean_s = total / e->buffers;
  e->own_p95_s = 1.5 * e->own_mean_s;
}

static const gchar *const names3[] = { "src", "work", "sink" };
static const gchar *const factories3[] = { "audiotestsrc", "identity",
  "fakesink"
};

GST_START_TEST (test_rule_bottleneck)
{
  GstApmSnapshot *snap = chain (names3, factories3, 3);
  JsonArray *recs;

  set_own (snap, 0, 0.5);
  set_own (snap, 1, 8.0);
  set_own (snap, 2, 0.5);
  recs = gst_apm_advise (snap);
  check_shape (recs);
  assert_rec (recs, "bottleneck", "work");
  json_array_unref (recs);

  /* the same shares on a thread that is mostly idle: holds nothing back */
  snap->wall_s = 100;
  recs = gst_apm_advise (snap);
  assert_no_rec (recs, "bottleneck");
  json_array_unref (recs);

  /* live: the lowest real-time factor, under 1.5 */
  snap->live = TRUE;
  set_own (snap, 1, 8.0);       /* 10 s of media in 8 s: 1.25 */
  recs = gst_apm_advise (snap);
  assert_rec (recs, "bottleneck", "work");
  json_array_unref (recs);
  set_own (snap, 1, 2.0);       /* 5.0 */
  recs = gst_apm_advise (snap);
  assert_no_rec (recs, "bottleneck");
  json_array_unref (recs);
  gst_apm_snapshot_free (snap);
}

GST_END_TEST;

GST_START_TEST (test_rule_small_buffers)
{
  GstApmSnapshot *snap = chain (names3, factories3, 3);
  JsonArray *recs;

  for (guint i = 0; i < 3; i++)
    gst_apm_snapshot_element (snap, i)->media_s = 2;    /* 2 ms buffers */
  recs = gst_apm_advise (snap);
  check_shape (recs);
  /* named where they are made, once */
  assert_rec (recs, "small-buffers", "src");
  fail_unless (find_rec (recs, "small-buffers", "work") == NULL);
  json_array_unref (recs);

  for (guint i = 0; i < 3; i++)
    gst_apm_snapshot_element (snap, i)->media_s = 10;
  recs = gst_apm_advise (snap);
  assert_no_rec (recs, "small-buffers");
  json_array_unref (recs);
  gst_apm_snapshot_free (snap);
}

GST_END_TEST;

GST_START_TEST (test_rule_queue_full)
{
  static const gchar *const names[] = { "src", "q", "slow", "sink" };
  static const gchar *const factories[] = { "audiotestsrc", "queue",
    "identity", "fakesink"
  };
  GstApmSnapshot *snap = chain (names, factories, 4);
  GstApmElementSnap *q = gst_apm_snapshot_element (snap, 1);
  JsonArray *recs;
  JsonObject *r;

  set_own (snap, 2, 5);
  q->is_queue = TRUE;
  q->fill_samples = 10;
  q->fill_high = 8;
  q->fill_mean_percent = 88;
  q->fill_max_percent = 100;
  recs = gst_apm_advise (snap);
  check_shape (recs);
  assert_rec (recs, "queue-full", "q");
  r = json_object_get_object_member (find_rec (recs, "queue-full", "q"),
      "evidence");
  fail_unless_equals_string (json_object_get_string_member (r,
          "slowest_downstream"), "slow");
  json_array_unref (recs);

  q->fill_high = 4;
  recs = gst_apm_advise (snap);
  assert_no_rec (recs, "queue-full");
  json_array_unref (recs);
  gst_apm_snapshot_free (snap);
}

GST_END_TEST;

GST_START_TEST (test_rule_late_sink)
{
  GstApmSnapshot *snap = chain (names3, factories3, 3);
  GstApmElementSnap *sink = gst_apm_snapshot_element (snap, 2);
  JsonArray *recs;

  set_own (snap, 1, 3);
  sink->sync = TRUE;
  sink->qos_messages = 30;
  sink->qos_dropped = 30;
  recs = gst_apm_advise (snap);
  check_shape (recs);
  assert_rec (recs, "late-sink", "sink");
  fail_unless_equals_string (json_object_get_string_member
      (json_object_get_object_member (find_rec (recs, "late-sink", "sink"),
              "evidence"), "suspect"), "work");
  json_array_unref (recs);

  sink->qos_messages = sink->qos_dropped = 0;
  recs = gst_apm_advise (snap);
  assert_no_rec (recs, "late-sink");
  json_array_unref (recs);

  /* one late buffer in a thousand: a hiccup, not advice */
  sink->qos_messages = sink->qos_dropped = 1;
  recs = gst_apm_advise (snap);
  assert_no_rec (recs, "late-sink");
  json_array_unref (recs);
  sink->qos_messages = sink->qos_dropped = 0;

  /* underruns an apmonitor counted before it */
  sink->underruns = 25;
  recs = gst_apm_advise (snap);
  assert_rec (recs, "late-sink", "sink");
  json_array_unref (recs);
  sink->underruns = 0;
  recs = gst_apm_advise (snap);
  assert_no_rec (recs, "late-sink");
  json_array_unref (recs);
  gst_apm_snapshot_free (snap);
}

GST_END_TEST;

GST_START_TEST (test_rule_saturated_thread)
{
  static const gchar *const names[] = { "src", "a", "b", "c", "sink" };
  static const gchar *const factories[] = { "audiotestsrc", "identity",
    "identity", "identity", "fakesink"
  };
  GstApmSnapshot *snap = chain (names, factories, 5);
  JsonArray *recs;

  set_own (snap, 0, 1);
  set_own (snap, 1, 4);
  set_own (snap, 2, 1);
  set_own (snap, 3, 3.5);
  set_own (snap, 4, 0.4);       /* 9.9 of 10 s */
  recs = gst_apm_advise (snap);
  check_shape (recs);
  assert_rec (recs, "saturated-thread", NULL);
  /* half the work (5 s) is done once "a" is: the queue goes after it */
  fail_unless_equals_string (json_object_get_string_member
      (json_object_get_object_member (find_rec (recs, "saturated-thread",
                  NULL), "evidence"), "queue_before"), "b");
  json_array_unref (recs);

  snap->wall_s = 20;            /* busy half the time */
  recs = gst_apm_advise (snap);
  assert_no_rec (recs, "saturated-thread");
  json_array_unref (recs);
  gst_apm_snapshot_free (snap);
}

GST_END_TEST;

GST_START_TEST (test_rule_allocations)
{
  static const gchar *const names[] = { "src", "pass", "sink" };
  GstApmSnapshot *snap = chain (names, factories3, 3);
  JsonArray *recs;

  /* 10000 buffers in 10 s made by the source; the passthrough element
   * forwards them (same bytes in and out): not its allocations */
  gst_apm_snapshot_element (snap, 0)->allocated = 10000;
  gst_apm_snapshot_element (snap, 1)->allocated = 10000;
  recs = gst_apm_advise (snap);
  check_shape (recs);
  assert_rec (recs, "allocations", "src");
  fail_unless (find_rec (recs, "allocations", "pass") == NULL);
  json_array_unref (recs);

  /* 100 per second */
  gst_apm_snapshot_element (snap, 0)->allocated = 1000;
  recs = gst_apm_advise (snap);
  assert_no_rec (recs, "allocations");
  json_array_unref (recs);

  /* a pool that hands out mostly new buffers */
  gst_apm_snapshot_element (snap, 0)->pooled = 1000;
  gst_apm_snapshot_element (snap, 0)->pool_fresh = 900;
  recs = gst_apm_advise (snap);
  assert_rec (recs, "allocations", "src");
  json_array_unref (recs);
  gst_apm_snapshot_element (snap, 0)->pool_fresh = 8;
  recs = gst_apm_advise (snap);
  assert_no_rec (recs, "allocations");
  json_array_unref (recs);
  gst_apm_snapshot_free (snap);
}

GST_END_TEST;

GST_START_TEST (test_rule_redundant_conversion)
{
  static const gchar *const names[] = { "src", "conv0", "caps", "conv1",
    "sink"
  };
  static const gchar *const factories[] = { "audiotestsrc", "audioconvert",
    "capsfilter", "audioresample", "fakesink"
  };
  GstApmSnapshot *snap = chain (names, factories, 5);
  GstApmElementSnap *a = gst_apm_snapshot_element (snap, 1);
  GstApmElementSnap *b = gst_apm_snapshot_element (snap, 3);
  JsonArray *recs;

  a->caps_in = g_strdup ("F32LE 48000 Hz 2 ch");
  a->caps_out = g_strdup ("S16LE 48000 Hz 2 ch");
  b->caps_in = g_strdup ("S16LE 48000 Hz 2 ch");
  b->caps_out = g_strdup ("F32LE 48000 Hz 2 ch");
  recs = gst_apm_advise (snap);
  check_shape (recs);
  assert_rec (recs, "redundant-conversion", "conv0");
  json_array_unref (recs);

  /* a needed conversion, then one that does nothing (another kind) */
  g_free (b->caps_out);
  b->caps_out = g_strdup ("S16LE 48000 Hz 2 ch");
  recs = gst_apm_advise (snap);
  assert_no_rec (recs, "redundant-conversion");
  json_array_unref (recs);
  gst_apm_snapshot_free (snap);
}

GST_END_TEST;

/* --- real pipelines, through GET /monitoring/report --- */

static const gchar *url;
static SoupSession *session;

static void
setup (void)
{
  session = apm_test_session_new ();
  url = apm_test_service_url ("advicestart");
}

static void
teardown (void)
{
  apm_test_stop_tracked ();
  g_clear_object (&session);
}

/* runs @description to EOS as @name, reports, stops: the pipeline's
 * recommendations (json_array_unref() them) */
static JsonArray *
advice_for (const gchar * description, const gchar * name)
{
  GstElement *p = apm_test_parse_tracked (description, name);
  JsonNode *doc;
  JsonArray *pipelines, *recs = NULL;

  apm_test_run_to_eos (p, NULL, NULL);
  doc = apm_test_http_json (session, "GET", url, "/monitoring/report", 200);
  pipelines = json_object_get_array_member (json_node_get_object (doc),
      "pipelines");
  for (guint i = 0; pipelines && i < json_array_get_length (pipelines); i++) {
    JsonObject *o = json_array_get_object_element (pipelines, i);

    if (g_strcmp0 (json_object_get_string_member (o, "name"), name) == 0)
      recs = json_array_ref (json_object_get_array_member (o,
              "recommendations"));
  }
  fail_unless (recs != NULL, "pipeline %s not in the report", name);
  check_shape (recs);
  json_node_unref (doc);
  apm_test_stop_untrack (p);
  return recs;
}

#define TONE "audiotestsrc samplesperbuffer=441"
#define LIVE "audiotestsrc is-live=true samplesperbuffer=441"

GST_START_TEST (test_pipeline_bottleneck)
{
  JsonArray *recs;

  /* 2 ms of sleep per buffer: most of the thread's time */
  recs = advice_for (TONE " num-buffers=200 ! identity name=heavy "
      "sleep-time=2000 ! audioconvert ! fakesink sync=false", "bneck");
  assert_rec (recs, "bottleneck", "heavy");
  json_array_unref (recs);
  recs = advice_for (LIVE " num-buffers=30 ! audioconvert ! fakesink",
      "nobneck");
  assert_no_rec (recs, "bottleneck");
  json_array_unref (recs);
}

GST_END_TEST;

GST_START_TEST (test_pipeline_small_buffers)
{
  JsonArray *recs;

  recs = advice_for ("audiotestsrc name=tiny num-buffers=500 "
      "samplesperbuffer=32 ! audioconvert ! fakesink sync=false", "small");
  assert_rec (recs, "small-buffers", "tiny");
  json_array_unref (recs);
  recs = advice_for (TONE " num-buffers=100 ! audioconvert ! "
      "fakesink sync=false", "nosmall");
  assert_no_rec (recs, "small-buffers");
  json_array_unref (recs);
}

GST_END_TEST;

GST_START_TEST (test_pipeline_queue_full)
{
  JsonArray *recs;
  JsonObject *r;

  /* a non-live source fills the queue; the sink syncs at real time (3.5 s
   * of audio: samples once a second) */
  recs = advice_for (TONE " num-buffers=350 ! queue name=q "
      "max-size-buffers=10 max-size-time=0 max-size-bytes=0 ! "
      "fakesink name=paced sync=true", "qfull");
  assert_rec (recs, "queue-full", "q");
  r = json_object_get_object_member (find_rec (recs, "queue-full", "q"),
      "evidence");
  fail_unless_equals_string (json_object_get_string_member (r,
          "slowest_downstream"), "paced");
  json_array_unref (recs);
  /* a live source: the queue stays near empty */
  recs = advice_for (LIVE " num-buffers=250 ! queue name=q ! fakesink "
      "sync=true", "qempty");
  assert_no_rec (recs, "queue-full");
  json_array_unref (recs);
}

GST_END_TEST;

GST_START_TEST (test_pipeline_late_sink)
{
  JsonArray *recs;

  /* 15 ms of work per 10 ms buffer before a sink that drops what is more
   * than 20 ms late (a margin for a loaded machine's scheduling) */
  recs = advice_for (TONE " num-buffers=80 ! identity name=slow "
      "sleep-time=15000 ! fakesink name=out sync=true qos=true "
      "max-lateness=20000000", "late");
  assert_rec (recs, "late-sink", "out");
  fail_unless_equals_string (json_object_get_string_member
      (json_object_get_object_member (find_rec (recs, "late-sink", "out"),
              "evidence"), "suspect"), "slow");
  json_array_unref (recs);
  recs = advice_for (TONE " num-buffers=40 ! identity ! fakesink sync=true "
      "qos=true max-lateness=20000000", "ontime");
  assert_no_rec (recs, "late-sink");
  json_array_unref (recs);
  /* live: an apmonitor before the sink counts the late buffers as
   * underruns */
  recs = advice_for (LIVE " num-buffers=50 ! identity name=slow "
      "sleep-time=15000 ! apmonitor tolerance=20000000 ! fakesink name=out",
      "underrun");
  assert_rec (recs, "late-sink", "out");
  json_array_unref (recs);
  recs = advice_for (LIVE " num-buffers=30 ! apmonitor tolerance=20000000 ! "
      "fakesink", "nounderrun");
  assert_no_rec (recs, "late-sink");
  json_array_unref (recs);
}

GST_END_TEST;

GST_START_TEST (test_pipeline_saturated_thread)
{
  JsonArray *recs;

  /* a non-live pipeline works flat out on one thread */
  recs = advice_for (TONE " num-buffers=60000 wave=white-noise ! "
      "audioconvert ! audio/x-raw,format=S16LE ! audioresample ! "
      "audio/x-raw,rate=22050 ! fakesink sync=false", "busy");
  assert_rec (recs, "saturated-thread", NULL);
  json_array_unref (recs);
  recs = advice_for (LIVE " num-buffers=30 ! audioconvert ! fakesink",
      "idle");
  assert_no_rec (recs, "saturated-thread");
  json_array_unref (recs);
}

GST_END_TEST;

GST_START_TEST (test_pipeline_allocations)
{
  JsonArray *recs;

  /* audiotestsrc allocates each buffer (no pool), here thousands a second */
  recs = advice_for ("audiotestsrc name=maker num-buffers=3000 "
      "samplesperbuffer=64 ! fakesink sync=false", "allocs");
  assert_rec (recs, "allocations", "maker");
  json_array_unref (recs);
  /* the same, 43 a second */
  recs = advice_for ("audiotestsrc is-live=true num-buffers=20 ! fakesink",
      "fewallocs");
  assert_no_rec (recs, "allocations");
  json_array_unref (recs);
}

GST_END_TEST;

GST_START_TEST (test_pipeline_redundant_conversion)
{
  JsonArray *recs;

  /* caps force S16 -> F32 -> S16 */
  recs = advice_for ("audiotestsrc num-buffers=50 ! "
      "audio/x-raw,format=S16LE ! audioconvert name=up ! "
      "audio/x-raw,format=F32LE ! audioconvert name=down ! "
      "audio/x-raw,format=S16LE ! fakesink sync=false", "roundtrip");
  assert_rec (recs, "redundant-conversion", "up");
  json_array_unref (recs);
  /* audioconvert ! audioconvert */
  recs = advice_for ("audiotestsrc num-buffers=50 ! audioconvert name=one ! "
      "audioconvert ! fakesink sync=false", "twice");
  assert_rec (recs, "redundant-conversion", "one");
  json_array_unref (recs);
  /* one conversion the sink's caps need */
  recs = advice_for ("audiotestsrc num-buffers=50 ! "
      "audio/x-raw,format=S16LE ! audioconvert ! audioresample ! "
      "audio/x-raw,format=F32LE ! fakesink sync=false", "needed");
  assert_no_rec (recs, "redundant-conversion");
  json_array_unref (recs);
}

GST_END_TEST;

static Suite *
advice_suite (void)
{
  Suite *s = suite_create ("apm_advice");
  TCase *rules = tcase_create ("rules");
  TCase *pipes = tcase_create ("pipelines");

  suite_add_tcase (s, rules);
  tcase_add_test (rules, test_rule_bottleneck);
  tcase_add_test (rules, test_rule_small_buffers);
  tcase_add_test (rules, test_rule_queue_full);
  tcase_add_test (rules, test_rule_late_sink);
  tcase_add_test (rules, test_rule_saturated_thread);
  tcase_add_test (rules, test_rule_allocations);
  tcase_add_test (rules, test_rule_redundant_conversion);
  suite_add_tcase (s, pipes);
  tcase_add_checked_fixture (pipes, setup, teardown);
  tcase_add_test (pipes, test_pipeline_bottleneck);
  tcase_add_test (pipes, test_pipeline_small_buffers);
  tcase_add_test (pipes, test_pipeline_queue_full);
  tcase_add_test (pipes, test_pipeline_late_sink);
  tcase_add_test (pipes, test_pipeline_saturated_thread);
  tcase_add_test (pipes, test_pipeline_allocations);
  tcase_add_test (pipes, test_pipeline_redundant_conversion);
  return s;
}

int
main (int argc, char **argv)
{
  apm_test_prepare_env ("apm(port=0,quiet=true)");
  g_setenv ("CK_FORK", "no", TRUE);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (advice_suite (), "apm_advice", __FILE__);
}
