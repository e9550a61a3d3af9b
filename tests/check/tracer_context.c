/* gst-apm tests: pipeline runs join the trace of the process's environment
 *
 * A program started with TRACEPARENT in its environment (OpenTelemetry's
 * carrier for processes) and GST_TRACERS="apm(labels=...)": every run of
 * its pipelines is a job in that trace, a child of the TRACEPARENT span,
 * with the labels of the param.
 *
 * Runs with CK_FORK=no (one service per process).
 */
#include <gst/check/gstcheck.h>
#include <string.h>

#include "apmtestutil.h"

#define REMOTE_TRACE "0af7651916cd43dd8448eb211c80319c"
#define REMOTE_SPAN "b7ad6b7169203331"
#define REMOTE_TRACEPARENT "00-" REMOTE_TRACE "-" REMOTE_SPAN "-01"

static JsonNode *
get_jobs (void)
{
  SoupSession *session = apm_test_session_new ();
  JsonNode *doc = apm_test_http_json (session, "GET",
      apm_test_service_url ("ctx-first"), "/monitoring/jobs?limit=0", 200);

  g_object_unref (session);
  return doc;
}

GST_START_TEST (test_runs_are_children_of_traceparent)
{
  GstElement *pipeline;
  JsonNode *doc;
  JsonArray *finished;
  GHashTable *spans = g_hash_table_new (g_str_hash, g_str_equal);
  guint n = 0;

  apm_test_service_url ("ctx-first");
  /* two runs of one pipeline: two jobs, one trace */
  pipeline = apm_test_parse_tracked ("audiotestsrc num-buffers=20 ! "
      "fakesink", "ctx-run");
  apm_test_run_to_eos (pipeline, NULL, NULL);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_NULL) ==
      GST_STATE_CHANGE_SUCCESS);
  apm_test_run_to_eos (pipeline, NULL, NULL);
  apm_test_stop_untrack (pipeline);

  doc = get_jobs ();
  finished = json_object_get_array_member (json_node_get_object (doc),
      "finished");
  for (guint i = 0; i < json_array_get_length (finished); i++) {
    JsonObject *j = json_array_get_object_element (finished, i);
    JsonObject *labels = json_object_get_object_member (j, "labels");
    const gchar *span = json_object_get_string_member (j, "span_id");
    gchar *traceparent;

    if (g_strcmp0 (json_object_get_string_member (j, "pipeline"),
            "ctx-run") != 0)
      continue;
    n++;
    fail_unless_equals_string (json_object_get_string_member (j, "trace_id"),
        REMOTE_TRACE);
    fail_unless_equals_string (json_object_get_string_member (j,
            "correlation_id"), REMOTE_TRACE);
    fail_unless_equals_string (json_object_get_string_member (j,
            "parent_span_id"), REMOTE_SPAN);
    fail_unless (span && strlen (span) == 16);
    fail_if (strcmp (span, REMOTE_SPAN) == 0, "the run reuses the parent's "
        "span id");
    fail_if (g_hash_table_contains (spans, span), "two runs share span %s",
        span);
    g_hash_table_add (spans, (gpointer) span);
    traceparent = g_strdup_printf ("00-%s-%s-01", REMOTE_TRACE, span);
    fail_unless_equals_string (json_object_get_string_member (j,
            "traceparent"), traceparent);
    g_free (traceparent);
    fail_unless_equals_int (json_object_get_size (labels), 2);
    fail_unless_equals_string (json_object_get_string_member (labels,
            "variant"), "b");
    fail_unless_equals_string (json_object_get_string_member (labels,
            "region"), "eu");
  }
  fail_unless_equals_int (n, 2);
  g_hash_table_unref (spans);
  json_node_unref (doc);

  /* the labelled runs compare by variant, with what their sources read */
  {
    SoupSession *session = apm_test_session_new ();
    JsonObject *group;

    doc = apm_test_http_json (session, "GET", apm_test_service_url
        ("ctx-first"), "/monitoring/jobs/compare?by=variant", 200);
    group = json_array_get_object_element (json_object_get_array_member
        (json_node_get_object (doc), "groups"), 0);
    fail_unless_equals_string (apm_test_member_string (group, "value"), "b");
    /* ctx-first's run and the two of ctx-run */
    fail_unless_equals_int (apm_test_member_int (group, "count"), 3);
    fail_unless_equals_int (apm_test_member_int (group, "succeeded"), 3);
    fail_unless (json_object_get_double_member (apm_test_member_object
            (group, "bytes_per_second"), "read") > 0);
    json_node_unref (doc);
    g_object_unref (session);
  }
}

GST_END_TEST;

static Suite *
apm_context_suite (void)
{
  Suite *s = suite_create ("apm_tracer_context");
  TCase *tc = tcase_create ("general");

  tcase_add_checked_fixture (tc, NULL, apm_test_stop_tracked);
  tcase_add_test (tc, test_runs_are_children_of_traceparent);
  suite_add_tcase (s, tc);
  return s;
}

int
main (int argc, char **argv)
{
  apm_test_prepare_env ("apm(port=0,quiet=true,"
      "labels=\"variant:b, region:eu\")");
  g_setenv ("TRACEPARENT", REMOTE_TRACEPARENT, TRUE);
  g_setenv ("CK_FORK", "no", TRUE);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (apm_context_suite (), "apm_tracer_context",
      __FILE__);
}
