/* gst-apm tests: the tracer is invisible to the application
 *
 * Runs with GST_TRACERS="apm(port=0,quiet=true)" in gst-check's default
 * fork mode, as GStreamer's own suites run: the tracer is made at
 * gst_init() in the parent, and every test runs in a forked child, so each
 * test also checks that the child's service kept the parent's params.
 *
 * What an application would notice if the tracer showed itself: messages
 * on its bus that it did not ask for, a reference on its pipeline that
 * keeps it (and its devices) alive after the application let go, a type
 * registered that collides with one of its own.
 */
#include <gst/check/gstcheck.h>
#include <string.h>

#include "apmtestutil.h"
#include "apm-service.h"

#define WATCH_US (G_USEC_PER_SEC * 5 / 2)     /* > two collector ticks */

/* Messages that GStreamer itself posts for these pipelines; anything else
 * (ELEMENT, WARNING, INFO, ERROR...) came from somewhere else. */
static gboolean
own_message (GstMessage * msg)
{
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_STATE_CHANGED:
    case GST_MESSAGE_STREAM_STATUS:
    case GST_MESSAGE_STREAM_START:
    case GST_MESSAGE_ASYNC_DONE:
    case GST_MESSAGE_NEW_CLOCK:
    case GST_MESSAGE_LATENCY:
    case GST_MESSAGE_TAG:
    case GST_MESSAGE_EOS:
    case GST_MESSAGE_RESET_TIME:
    case GST_MESSAGE_NEED_CONTEXT:
    case GST_MESSAGE_HAVE_CONTEXT:
      return TRUE;
    default:
      return FALSE;
  }
}

/* Pops every message until EOS: fails on any the pipeline did not post
 * for itself. */
static void
run_checking_bus (GstElement * pipeline)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  gboolean eos = FALSE;

  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  while (!eos) {
    GstMessage *msg = gst_bus_timed_pop (bus, APM_TEST_BUS_TIMEOUT);

    fail_unless (msg != NULL, "no EOS within %" GST_TIME_FORMAT,
        GST_TIME_ARGS (APM_TEST_BUS_TIMEOUT));
    fail_unless (own_message (msg), "unexpected %s message from %s: %"
        GST_PTR_FORMAT, GST_MESSAGE_TYPE_NAME (msg),
        GST_MESSAGE_SRC_NAME (msg), gst_message_get_structure (msg));
    eos = GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS;
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
}

GST_START_TEST (test_nothing_on_the_bus)
{
  GstElement *pipeline = apm_test_parse ("audiotestsrc num-buffers=50 ! "
      "audioconvert ! queue ! fakesink", "quiet_bus");
  SoupSession *session = apm_test_session_new ();
  gchar *url;
  GHashTable *m;
  gdouble counted = 0;

  run_checking_bus (pipeline);
  /* and yet the tracer watched it */
  url = apm_service_get_url (apm_service_get_default ());
  fail_unless (url != NULL, "the service does not listen");
  m = apm_test_fetch_metrics (session, url);
  fail_unless (apm_test_pad_value (m, "apm_pad_buffers_total", "quiet_bus",
          "fakesink0", "sink", &counted), "the tracer did not count");
  fail_unless_equals_int ((gint) counted, 50);
  g_hash_table_unref (m);
  apm_test_stop (pipeline);
  g_free (url);
  g_object_unref (session);
}

GST_END_TEST;

static void
finalized (gpointer data, GObject * where_the_object_was)
{
  *(gboolean *) data = TRUE;
}

/* The tracer holds no reference on the pipeline or its elements, even for
 * a moment on the service thread while it collects (once a second) or
 * answers /metrics and /health: the refcounts stay what the application
 * made them, and the last unref frees the pipeline at once. */
GST_START_TEST (test_no_reference_kept)
{
  GstElement *pipeline = apm_test_parse ("audiotestsrc is-live=true "
      "samplesperbuffer=480 ! queue name=q ! fakesink sync=true", "refs");
  GstElement *queue = gst_bin_get_by_name (GST_BIN (pipeline), "q");
  SoupSession *session = apm_test_session_new ();
  gboolean gone = FALSE;
  gint64 end;
  gchar *url;
  guint polls = 0;

  url = apm_test_play_live (pipeline);
  /* messages waiting on the bus hold their sources: drop them */
  {
    GstBus *bus = gst_element_get_bus (pipeline);

    gst_bus_set_flushing (bus, TRUE);
    gst_object_unref (bus);
  }
  /* GStreamer's own thread that completed the change to PLAYING holds the
   * pipeline until it returns: let it, within a deadline */
  end = g_get_monotonic_time () + APM_TEST_SCALED (5 * G_USEC_PER_SEC);
  while (GST_OBJECT_REFCOUNT_VALUE (pipeline) != 1
      && g_get_monotonic_time () < end)
    g_usleep (1000);
  end = g_get_monotonic_time () + WATCH_US;
  while (g_get_monotonic_time () < end) {
    /* (not the elements': GStreamer refs an element during each chain) */
    fail_unless_equals_int (GST_OBJECT_REFCOUNT_VALUE (pipeline), 1);
    /* polled without sleeping: a reference held for a microsecond shows */
    if (polls++ % 200000 == 0) {
      apm_test_response_free (apm_test_http (session, "GET", url,
              "/metrics"));
      apm_test_response_free (apm_test_http (session, "GET", url,
              "/health"));
    }
  }
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  /* after the stop too: two more collector ticks */
  end = g_get_monotonic_time () + WATCH_US;
  while (g_get_monotonic_time () < end) {
    fail_unless_equals_int (GST_OBJECT_REFCOUNT_VALUE (pipeline), 1);
    /* the bin's and ours */
    fail_unless_equals_int (GST_OBJECT_REFCOUNT_VALUE (queue), 2);
  }
  gst_object_unref (queue);
  g_object_weak_ref (G_OBJECT (pipeline), finalized, &gone);
  gst_object_unref (pipeline);
  fail_unless (gone, "the last unref did not free the pipeline");
  g_free (url);
  g_object_unref (session);
}

GST_END_TEST;

/* The child of a fork keeps the tracer's params: port=0 picked a free
 * port (not the default 9464), quiet stays quiet. */
GST_START_TEST (test_params_survive_fork)
{
  GstElement *pipeline = apm_test_parse ("audiotestsrc num-buffers=5 ! "
      "fakesink", "forked");
  ApmService *service;
  guint port;

  apm_test_run_to_eos (pipeline, NULL, NULL);
  service = apm_service_get_default ();
  fail_unless (apm_service_is_running (service));
  port = apm_service_get_port (service);
  fail_unless (port > 0 && port != APM_DEFAULT_PORT,
      "the forked child serves on port %u, not a free one (port=0)", port);
  fail_unless (apm_service_is_quiet (service), "quiet=true was lost");
  apm_test_stop (pipeline);
}

GST_END_TEST;

/* GStreamer's collectpads test registers its own type named
 * GstAggregator: the tracer must not make libgstbase's exist first. */
GST_START_TEST (test_no_aggregator_type_registered)
{
  GstElement *pipeline = apm_test_parse ("audiotestsrc num-buffers=5 ! "
      "audioconvert ! fakesink", "no_aggregator");

  apm_test_run_to_eos (pipeline, NULL, NULL);
  fail_unless (g_type_from_name ("GstAggregator") == 0,
      "GstAggregator was registered by a pipeline without aggregators");
  apm_test_stop (pipeline);
}

GST_END_TEST;

static Suite *
apm_invisible_suite (void)
{
  Suite *s = suite_create ("apm_tracer_invisible");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_nothing_on_the_bus);
  tcase_add_test (tc, test_no_reference_kept);
  tcase_add_test (tc, test_params_survive_fork);
  tcase_add_test (tc, test_no_aggregator_type_registered);
  return s;
}

/* Threads of this process, from /proc */
static guint
count_threads (void)
{
  GDir *dir = g_dir_open ("/proc/self/task", 0, NULL);
  guint n = 0;

  g_assert (dir);
  while (g_dir_read_name (dir))
    n++;
  g_dir_close (dir);
  return n;
}

int
main (int argc, char **argv)
{
  apm_test_prepare_env ("apm(port=0,quiet=true)");
  gst_check_init (&argc, &argv);
  /* the tracer is made now; it starts no thread before a pipeline needs
   * it (a thread, or GLib's shared pool spawner, in the parent breaks
   * GStreamer in forked children).  The deadline watchdog is the one
   * thread the tests add. */
  if (count_threads () > 2) {
    g_printerr ("the tracer started threads at gst_init(): %u threads\n",
        count_threads ());
    return 1;
  }
  return gst_check_run_suite (apm_invisible_suite (), "apm_tracer_invisible",
      __FILE__);
}
