/* gst-apm tests: the apm tracer and the service it starts, end to end
 *
 * Runs with GST_TRACERS="apm(port=0,quiet=true)" and CK_FORK=no: the service
 * is one per process and shared by every test here.  Each test runs its own
 * uniquely named pipelines to EOS, then reads the service over HTTP with a
 * libsoup 3 client.
 */
#include <gst/check/gstcheck.h>
#include <gst/audio/audio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "apmtestutil.h"

#define BUFFERS "apm_pad_buffers_total"
#define BYTES "apm_pad_bytes_total"

static void
teardown (void)
{
  apm_test_stop_tracked ();
}

static void
check_service_url (const gchar * url, guint port)
{
  gchar *expected;

  fail_unless (url != NULL, "apm-service without a URL: not listening?");
  fail_unless (port > 0);
  expected = g_strdup_printf ("http://127.0.0.1:%u", port);
  fail_unless_equals_string (url, expected);
  g_free (expected);
  apm_test_url_of_run (g_strdup (url));
}

/* Checks every pad of every element in @pipeline: @n_buffers buffers and, when
 * @samples_per_buffer is not 0, bytes = n * samples * bytes-per-frame of the
 * pad's caps.  Returns the number of pads checked. */
static guint
check_all_pads (GHashTable * metrics, GstElement * pipeline, guint n_buffers,
    guint samples_per_buffer)
{
  GstIterator *elements = gst_bin_iterate_recurse (GST_BIN (pipeline));
  GValue ev = G_VALUE_INIT;
  guint n_pads = 0;
  GstIteratorResult res;

  while ((res = gst_iterator_next (elements, &ev)) == GST_ITERATOR_OK) {
    GstElement *element = g_value_get_object (&ev);
    gchar *path = apm_test_element_path (element);
    GstIterator *pads = gst_element_iterate_pads (element);
    GValue pv = G_VALUE_INIT;

    while (gst_iterator_next (pads, &pv) == GST_ITERATOR_OK) {
      GstPad *pad = g_value_get_object (&pv);
      gdouble n_bufs = apm_test_pad_get (metrics, BUFFERS,
          GST_OBJECT_NAME (pipeline), path, GST_OBJECT_NAME (pad));
      gdouble bytes = apm_test_pad_get (metrics, BYTES,
          GST_OBJECT_NAME (pipeline), path, GST_OBJECT_NAME (pad));

      fail_unless (n_bufs == n_buffers, "%s:%s counted %.0f buffers, "
          "expected %u", path, GST_OBJECT_NAME (pad), n_bufs, n_buffers);
      if (samples_per_buffer) {
        GstCaps *caps = gst_pad_get_current_caps (pad);
        GstAudioInfo info;

        fail_unless (caps != NULL, "%s:%s has no caps", path,
            GST_OBJECT_NAME (pad));
        fail_unless (gst_audio_info_from_caps (&info, caps));
        fail_unless (bytes == (gdouble) n_buffers * samples_per_buffer *
            GST_AUDIO_INFO_BPF (&info), "%s:%s counted %.0f bytes, expected"
            " %u x %u x %d (%" GST_PTR_FORMAT ")", path,
            GST_OBJECT_NAME (pad), bytes, n_buffers, samples_per_buffer,
            GST_AUDIO_INFO_BPF (&info), caps);
        gst_caps_unref (caps);
      }
      n_pads++;
      g_value_reset (&pv);
    }
    g_value_unset (&pv);
    gst_iterator_free (pads);
    g_free (path);
    g_value_reset (&ev);
  }
  fail_unless_equals_int (res, GST_ITERATOR_DONE);
  g_value_unset (&ev);
  gst_iterator_free (elements);
  return n_pads;
}

GST_START_TEST (test_counts_along_path)
{
  const guint n = 37, spb = 1024;
  gchar *desc = g_strdup_printf ("audiotestsrc name=src num-buffers=%u "
      "samplesperbuffer=%u ! audioconvert name=conv ! volume name=vol "
      "! fakesink name=sink", n, spb);
  GstElement *pipeline = apm_test_parse_tracked (desc, "apm_path");
  static const gchar *path[][2] = {
    {"src", "src"}, {"conv", "sink"}, {"conv", "src"}, {"vol", "sink"},
    {"vol", "src"}, {"sink", "sink"},
  };
  SoupSession *session = apm_test_session_new ();
  GHashTable *metrics;
  GstCaps *first_caps, *last_caps;
  gchar *url;
  guint port;

  apm_test_run_to_eos (pipeline, &url, &port);
  check_service_url (url, port);

  metrics = apm_test_fetch_metrics (session, url);
  for (guint i = 0; i < G_N_ELEMENTS (path); i++) {
    fail_unless_equals_int ((gint) apm_test_pad_get (metrics, BUFFERS,
            "apm_path", path[i][0], path[i][1]), n);
  }
  /* exactly one series per pad, none left over */
  fail_unless_equals_int (check_all_pads (metrics, pipeline, n, spb),
      G_N_ELEMENTS (path));
  fail_unless_equals_int (apm_test_count_series (metrics, BUFFERS,
          "apm_path"), G_N_ELEMENTS (path));
  fail_unless_equals_int (apm_test_count_series (metrics, BYTES, "apm_path"),
      G_N_ELEMENTS (path));

  /* the format does not change along this path: same bytes everywhere */
  {
    GstElement *src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
    GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
    GstPad *srcpad = gst_element_get_static_pad (src, "src");
    GstPad *sinkpad = gst_element_get_static_pad (sink, "sink");
    gdouble src_bytes =
        apm_test_pad_get (metrics, BYTES, "apm_path", "src", "src");

    first_caps = gst_pad_get_current_caps (srcpad);
    last_caps = gst_pad_get_current_caps (sinkpad);
    fail_unless (gst_caps_is_equal (first_caps, last_caps));
    fail_unless (src_bytes > 0);
    for (guint i = 0; i < G_N_ELEMENTS (path); i++) {
      fail_unless (apm_test_pad_get (metrics, BYTES, "apm_path", path[i][0],
              path[i][1]) == src_bytes, "%s:%s bytes differ from src:src",
          path[i][0], path[i][1]);
    }
    gst_caps_unref (first_caps);
    gst_caps_unref (last_caps);
    gst_object_unref (srcpad);
    gst_object_unref (sinkpad);
    gst_object_unref (src);
    gst_object_unref (sink);
  }

  g_hash_table_unref (metrics);
  g_free (url);
  g_free (desc);
  g_object_unref (session);
  apm_test_stop_untrack (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_nested_bin_label)
{
  const guint n = 13;
  GstElement *pipeline = apm_test_track (gst_pipeline_new ("apm_nested"));
  GstElement *src = gst_element_factory_make ("audiotestsrc", "src");
  GstElement *bin = gst_bin_new ("bin0");
  GstElement *identity = gst_element_factory_make ("identity", "identity0");
  GstElement *sink = gst_element_factory_make ("fakesink", "sink");
  SoupSession *session = apm_test_session_new ();
  GstPad *pad;
  GHashTable *metrics;
  gchar *url;
  guint port;

  fail_unless (src && identity && sink);
  g_object_set (src, "num-buffers", n, NULL);
  gst_bin_add (GST_BIN (bin), identity);
  pad = gst_element_get_static_pad (identity, "sink");
  gst_element_add_pad (bin, gst_ghost_pad_new ("sink", pad));
  gst_object_unref (pad);
  pad = gst_element_get_static_pad (identity, "src");
  gst_element_add_pad (bin, gst_ghost_pad_new ("src", pad));
  gst_object_unref (pad);
  gst_bin_add_many (GST_BIN (pipeline), src, bin, sink, NULL);
  fail_unless (gst_element_link_many (src, bin, sink, NULL));

  apm_test_run_to_eos (pipeline, &url, &port);
  check_service_url (url, port);

  metrics = apm_test_fetch_metrics (session, url);
  fail_unless_equals_int ((gint) apm_test_pad_get (metrics, BUFFERS,
          "apm_nested", "bin0/identity0", "sink"), n);
  fail_unless_equals_int ((gint) apm_test_pad_get (metrics, BUFFERS,
          "apm_nested", "bin0/identity0", "src"), n);
  /* the bin's ghost pads are pads of "bin0" */
  fail_unless_equals_int ((gint) apm_test_pad_get (metrics, BUFFERS,
          "apm_nested", "bin0", "sink"), n);
  fail_unless_equals_int ((gint) apm_test_pad_get (metrics, BUFFERS,
          "apm_nested", "bin0", "src"), n);
  /* no flat "identity0" label */
  fail_if (apm_test_pad_value (metrics, BUFFERS, "apm_nested", "identity0",
          "sink", NULL));
  fail_unless_equals_int (check_all_pads (metrics, pipeline, n, 1024), 6);
  fail_unless_equals_int (apm_test_count_series (metrics, BUFFERS,
          "apm_nested"), 6);

  g_hash_table_unref (metrics);
  g_free (url);
  g_object_unref (session);
  apm_test_stop_untrack (pipeline);
}

GST_END_TEST;

/* The health check of a pipeline, checked for its common shape. */
static JsonObject *
pipeline_check (JsonObject * root, const gchar * pipeline)
{
  JsonObject *checks =
      apm_test_member_object (apm_test_member_object (root, "monitoring"),
      "health_checks");
  gchar *name = g_strdup_printf ("pipeline:%s", pipeline);
  JsonObject *check = apm_test_member_object (checks, name);
  JsonObject *details;

  apm_test_member_string (check, "status");
  apm_test_member_string (check, "message");
  details = apm_test_member_object (check, "details");
  fail_unless_equals_string (apm_test_member_string (details, "pipeline"),
      pipeline);
  g_free (name);
  return check;
}

GST_START_TEST (test_two_pipelines_share_service)
{
  GstElement *a =
      apm_test_parse_tracked ("audiotestsrc name=src num-buffers=11 "
      "! fakesink name=sink", "apm_shared_a");
  GstElement *b =
      apm_test_parse_tracked ("audiotestsrc name=src num-buffers=23 "
      "! audioconvert name=conv ! fakesink name=sink", "apm_shared_b");
  SoupSession *session = apm_test_session_new ();
  GHashTable *metrics;
  JsonNode *root;
  gchar *url_a, *url_b;
  guint port_a, port_b;

  /* both running at once */
  fail_if (gst_element_set_state (a, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  fail_if (gst_element_set_state (b, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  apm_test_wait (a, FALSE, &url_a, &port_a, NULL);
  apm_test_wait (b, FALSE, &url_b, &port_b, NULL);
  check_service_url (url_a, port_a);
  check_service_url (url_b, port_b);
  fail_unless_equals_string (url_a, url_b);
  fail_unless_equals_int (port_a, port_b);

  metrics = apm_test_fetch_metrics (session, url_a);
  fail_unless_equals_int ((gint) apm_test_pad_get (metrics, BUFFERS,
          "apm_shared_a", "src", "src"), 11);
  fail_unless_equals_int ((gint) apm_test_pad_get (metrics, BUFFERS,
          "apm_shared_a", "sink", "sink"), 11);
  fail_unless_equals_int ((gint) apm_test_pad_get (metrics, BUFFERS,
          "apm_shared_b", "src", "src"), 23);
  fail_unless_equals_int ((gint) apm_test_pad_get (metrics, BUFFERS,
          "apm_shared_b", "sink", "sink"), 23);
  fail_unless_equals_int (check_all_pads (metrics, a, 11, 1024), 2);
  fail_unless_equals_int (check_all_pads (metrics, b, 23, 1024), 4);
  g_hash_table_unref (metrics);

  root = apm_test_http_json (session, "GET", url_b, "/health/monitoring", 200);
  fail_unless_equals_string (apm_test_member_string (pipeline_check
          (json_node_get_object (root), "apm_shared_a"), "status"),
      "healthy");
  fail_unless_equals_string (apm_test_member_string (pipeline_check
          (json_node_get_object (root), "apm_shared_b"), "status"),
      "healthy");
  json_node_unref (root);

  g_free (url_a);
  g_free (url_b);
  g_object_unref (session);
  apm_test_stop_untrack (a);
  apm_test_stop_untrack (b);
}

GST_END_TEST;

/* "name: status (message); ..." of the checks that are not healthy */
static gchar *
unhealthy_checks (JsonObject * root)
{
  JsonObject *checks =
      apm_test_member_object (apm_test_member_object (root, "monitoring"),
      "health_checks");
  GList *names = json_object_get_members (checks);
  GString *out = g_string_new (NULL);

  for (GList * l = names; l; l = l->next) {
    JsonObject *c = json_object_get_object_member (checks, l->data);

    if (g_strcmp0 (json_object_get_string_member (c, "status"), "healthy"))
      g_string_append_printf (out, "%s: %s (%s); ", (gchar *) l->data,
          json_object_get_string_member (c, "status"),
          json_object_get_string_member (c, "message"));
  }
  g_list_free (names);
  return g_string_free (out, FALSE);
}

GST_START_TEST (test_health_monitoring_shape)
{
  GstElement *pipeline = apm_test_parse_tracked ("audiotestsrc num-buffers=3 "
      "! fakesink", "apm_health");
  SoupSession *session = apm_test_session_new ();
  JsonObject *root, *monitoring, *system, *check, *details;
  JsonNode *node;
  JsonArray *alerts;
  const gchar *status;
  gchar *url, *not_healthy;
  guint port;

  apm_test_run_to_eos (pipeline, &url, &port);
  check_service_url (url, port);

  node = apm_test_http_json (session, "GET", url, "/health/monitoring", 200);
  root = json_node_get_object (node);
  status = apm_test_member_string (root, "status");
  /* the only pipeline alive is this PLAYING one: healthy, unless the
   * machine's own checks say otherwise (cpu is degraded while the box is
   * saturated, as under a sanitizer's slowdown) */
  not_healthy = unhealthy_checks (root);
  fail_unless (strstr (not_healthy, "pipeline:") == NULL, "status %s: %s",
      status, not_healthy);
  g_free (not_healthy);
  apm_test_check_overall_status (node);

  monitoring = apm_test_member_object (root, "monitoring");
  apm_test_member_object (monitoring, "health_checks");
  fail_unless (json_object_has_member (monitoring, "active_alerts"));
  fail_unless (JSON_NODE_HOLDS_ARRAY (json_object_get_member (monitoring,
              "active_alerts")));
  alerts = json_object_get_array_member (monitoring, "active_alerts");
  fail_unless_equals_int (json_array_get_length (alerts), 0);
  system = apm_test_member_object (monitoring, "system_metrics");
  fail_unless (apm_test_member_int (system, "active_jobs") >= 0);
  fail_unless (apm_test_member_int (system, "tracked_jobs") >= 0);
  fail_unless_equals_int (apm_test_member_int (system,
          "websocket_connections"), 0);

  check = pipeline_check (root, "apm_health");
  fail_unless_equals_string (apm_test_member_string (check, "status"),
      "healthy");
  fail_unless (strlen (apm_test_member_string (check, "message")) > 0);
  details = apm_test_member_object (check, "details");
  fail_unless_equals_string (apm_test_member_string (details, "state"),
      "PLAYING");
  json_node_unref (node);

  /* gone with its pipeline */
  apm_test_stop_untrack (pipeline);
  node = apm_test_http_json (session, "GET", url, "/health/monitoring", 200);
  fail_if (apm_test_health_check (node, "pipeline:apm_health") != NULL);
  json_node_unref (node);

  g_free (url);
  g_object_unref (session);
}

GST_END_TEST;

GST_START_TEST (test_health_reports_error)
{
  GstElement *pipeline = apm_test_parse_tracked ("filesrc "
      "name=missing location=/nonexistent/apm-test/missing.wav ! fakesink",
      "apm_failing");
  SoupSession *session = apm_test_session_new ();
  JsonObject *check;
  JsonNode *node;
  gchar *url;
  guint port;

  /* READY->PAUSED fails; the ERROR is on the bus */
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  apm_test_wait (pipeline, TRUE, &url, &port, NULL);
  check_service_url (url, port);

  node = apm_test_http_json (session, "GET", url, "/health/monitoring", 200);
  check = pipeline_check (json_node_get_object (node), "apm_failing");
  fail_unless_equals_string (apm_test_member_string (check, "status"),
      "unhealthy");
  fail_unless (strstr (apm_test_member_string (apm_test_member_object (check,
                  "details"), "error"), "missing") != NULL,
      "error detail does not name the element: %s",
      apm_test_member_string (apm_test_member_object (check, "details"),
          "error"));
  fail_unless_equals_string (apm_test_member_string (json_node_get_object
          (node), "status"), "unhealthy");
  json_node_unref (node);

  g_free (url);
  g_object_unref (session);
  apm_test_stop_untrack (pipeline);
}

GST_END_TEST;

static void
check_error_body (ApmTestResponse * r, guint code)
{
  JsonNode *node = apm_test_parse_json (r);

  apm_test_check_error_doc (node, code);
  json_node_unref (node);
}

GST_START_TEST (test_http_errors)
{
  GstElement *pipeline = apm_test_parse_tracked ("audiotestsrc num-buffers=1 "
      "! fakesink", "apm_http");
  SoupSession *session = apm_test_session_new ();
  ApmTestResponse *r;
  const gchar *allow;
  gchar *url;
  guint port;

  apm_test_run_to_eos (pipeline, &url, &port);
  check_service_url (url, port);

  r = apm_test_http (session, "GET", url, "/no/such/resource");
  fail_unless_equals_int (r->status, 404);
  check_error_body (r, 404);
  apm_test_response_free (r);

  r = apm_test_http (session, "GET", url, "/metrics/extra");
  fail_unless_equals_int (r->status, 404);
  check_error_body (r, 404);
  apm_test_response_free (r);

  r = apm_test_http (session, "POST", url, "/metrics");
  fail_unless_equals_int (r->status, 405);
  allow = soup_message_headers_get_one (r->headers, "Allow");
  fail_unless (allow != NULL, "405 without an Allow header");
  fail_unless (strstr (allow, "GET") != NULL, "Allow: %s", allow);
  fail_if (strstr (allow, "POST") != NULL, "Allow: %s", allow);
  check_error_body (r, 405);
  apm_test_response_free (r);

  r = apm_test_http (session, "DELETE", url, "/health/monitoring");
  fail_unless_equals_int (r->status, 405);
  allow = soup_message_headers_get_one (r->headers, "Allow");
  fail_unless (allow != NULL && strstr (allow, "GET") != NULL);
  check_error_body (r, 405);
  apm_test_response_free (r);

  /* the allowed methods still work on the same connection */
  r = apm_test_http (session, "HEAD", url, "/metrics");
  fail_unless_equals_int (r->status, 200);
  apm_test_response_free (r);
  r = apm_test_http (session, "GET", url, "/health");
  fail_unless_equals_int (r->status, 200);
  apm_test_response_free (r);

  g_free (url);
  g_object_unref (session);
  apm_test_stop_untrack (pipeline);
}

GST_END_TEST;

/* pull mode: filesrc ! wavparse; only the sink pad's hook runs, and it
 * counts both ends of the link */
GST_START_TEST (test_pull_mode_counts)
{
  const guint n = 20, spb = 1024, bpf = 4;
  gchar *file = g_strdup_printf ("%s/apm-test-%d.wav", g_get_tmp_dir (),
      (int) getpid ());
  gchar *desc = g_strdup_printf ("audiotestsrc num-buffers=%u "
      "samplesperbuffer=%u ! audio/x-raw,format=S16LE,channels=2,rate=48000 "
      "! wavenc ! filesink location=\"%s\"", n, spb, file);
  GstElement *writer = apm_test_parse_tracked (desc, "apm_pull_writer");
  SoupSession *session = apm_test_session_new ();
  GstElement *reader, *parse;
  GstPad *parse_sink;
  GHashTable *metrics;
  gdouble file_buffers, file_bytes;
  gchar *url;
  guint port;

  apm_test_run_to_eos (writer, &url, &port);
  check_service_url (url, port);
  apm_test_stop_untrack (writer);
  g_free (url);
  g_free (desc);

  desc = g_strdup_printf ("filesrc name=file location=\"%s\" "
      "! wavparse name=parse ! fakesink name=sink", file);
  reader = apm_test_parse_tracked (desc, "apm_pull_reader");
  apm_test_run_to_eos (reader, &url, &port);
  check_service_url (url, port);

  parse = gst_bin_get_by_name (GST_BIN (reader), "parse");
  parse_sink = gst_element_get_static_pad (parse, "sink");
  fail_unless_equals_int (GST_PAD_MODE (parse_sink), GST_PAD_MODE_PULL);

  metrics = apm_test_fetch_metrics (session, url);
  file_buffers = apm_test_pad_get (metrics, BUFFERS, "apm_pull_reader", "file",
      "src");
  file_bytes =
      apm_test_pad_get (metrics, BYTES, "apm_pull_reader", "file", "src");
  fail_unless (file_buffers > 0);
  /* both ends of the pulled link see the same */
  fail_unless (apm_test_pad_get (metrics, BUFFERS, "apm_pull_reader", "parse",
          "sink") == file_buffers);
  fail_unless (apm_test_pad_get (metrics, BYTES, "apm_pull_reader", "parse",
          "sink") == file_bytes);
  fail_unless (file_bytes >= (gdouble) n * spb * bpf, "pulled %.0f bytes",
      file_bytes);
  /* pushed downstream: all the audio, once */
  fail_unless (apm_test_pad_get (metrics, BYTES, "apm_pull_reader", "parse",
          "src") == (gdouble) n * spb * bpf);
  fail_unless (apm_test_pad_get (metrics, BYTES, "apm_pull_reader", "sink",
          "sink") == (gdouble) n * spb * bpf);
  fail_unless (apm_test_pad_get (metrics, BUFFERS, "apm_pull_reader", "parse",
          "src") == apm_test_pad_get (metrics, BUFFERS, "apm_pull_reader",
          "sink", "sink"));

  g_hash_table_unref (metrics);
  gst_object_unref (parse_sink);
  gst_object_unref (parse);
  apm_test_stop_untrack (reader);
  g_unlink (file);
  g_free (file);
  g_free (desc);
  g_free (url);
  g_object_unref (session);
}

GST_END_TEST;

static Suite *
apm_tracer_suite (void)
{
  Suite *s = suite_create ("apm_tracer");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, NULL, teardown);
  tcase_add_test (tc, test_counts_along_path);
  tcase_add_test (tc, test_nested_bin_label);
  tcase_add_test (tc, test_two_pipelines_share_service);
  tcase_add_test (tc, test_health_monitoring_shape);
  tcase_add_test (tc, test_health_reports_error);
  tcase_add_test (tc, test_http_errors);
  tcase_add_test (tc, test_pull_mode_counts);
  return s;
}

int
main (int argc, char **argv)
{
  /* params are read at gst_init(); the service is one per process, so the
   * tests must share it: no forking */
  apm_test_prepare_env ("apm(port=0,quiet=true)");
  g_setenv ("CK_FORK", "no", TRUE);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (apm_tracer_suite (), "apm_tracer", __FILE__);
}
