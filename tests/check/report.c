/* gst-apm tests: the performance report
 *
 * GET /monitoring/report (JSON keys, charts from the history, the HTML
 * page: content type, escaping, balanced markup; bad parameters; the
 * dashboard's link) in this process, with GST_TRACERS="apm(port=0,
 * quiet=true)" and CK_FORK=no.  The summary= param: summary.c.
 */
#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "apmtestutil.h"

static const gchar *url;
static SoupSession *session;

static void
setup (void)
{
  session = apm_test_session_new ();
  url = apm_test_service_url ("reportstart");
}

static void
teardown (void)
{
  apm_test_stop_tracked ();
  g_clear_object (&session);
}

/* the report's pipeline @name, or NULL (borrowed from @doc) */
static JsonObject *
report_pipeline (JsonNode * doc, const gchar * name)
{
  JsonArray *pipelines = json_object_get_array_member (json_node_get_object
      (doc), "pipelines");

  for (guint i = 0; pipelines && i < json_array_get_length (pipelines); i++) {
    JsonObject *o = json_array_get_object_element (pipelines, i);

    if (g_strcmp0 (json_object_get_string_member (o, "name"), name) == 0)
      return o;
  }
  return NULL;
}

static void
check_pipeline_keys (JsonObject * p)
{
  static const gchar *const arrays[] = { "elements", "links", "paths",
    "queues", "threads", "recommendations", "charts", "alerts", "jobs", NULL
  };
  JsonArray *elements;

  for (guint i = 0; arrays[i]; i++)
    fail_unless (json_object_get_array_member (p, arrays[i]) != NULL,
        "no %s array", arrays[i]);
  apm_test_member_string (p, "state");
  elements = json_object_get_array_member (p, "elements");
  fail_unless (json_array_get_length (elements) > 0);
  for (guint i = 0; i < json_array_get_length (elements); i++) {
    JsonObject *e = json_array_get_object_element (elements, i);

    apm_test_member_string (e, "name");
    apm_test_member_string (e, "factory");
    apm_test_member_int (e, "buffers");
  }
}

GST_START_TEST (test_report_json)
{
  GstElement *p = apm_test_parse_tracked ("audiotestsrc name=src "
      "num-buffers=50 ! audioconvert ! queue ! fakesink sync=false",
      "repjson");
  JsonNode *doc;
  JsonObject *root, *pl, *window, *job;
  JsonArray *jobs, *paths;

  apm_test_run_to_eos (p, NULL, NULL);
  doc = apm_test_http_json (session, "GET", url, "/monitoring/report", 200);
  root = json_node_get_object (doc);
  apm_test_parse_time (apm_test_member_string (root, "generated_at"));
  window = apm_test_member_object (root, "window");
  fail_unless (apm_test_parse_time (apm_test_member_string (window,
              "since")) < apm_test_parse_time (apm_test_member_string (window,
              "until")));
  pl = report_pipeline (doc, "repjson");
  fail_unless (pl != NULL, "the pipeline is not in the report");
  check_pipeline_keys (pl);
  /* the run is a job of the window, and its path has a latency */
  jobs = json_object_get_array_member (pl, "jobs");
  fail_unless (json_array_get_length (jobs) >= 1);
  job = json_array_get_object_element (jobs, 0);
  fail_unless_equals_string (apm_test_member_string (job, "job_id"),
      "repjson#1");
  paths = json_object_get_array_member (pl, "paths");
  fail_unless (json_array_get_length (paths) == 1);
  fail_unless_equals_string (apm_test_member_string
      (json_array_get_object_element (paths, 0), "source"), "src");
  json_node_unref (doc);
  apm_test_stop_untrack (p);
}

GST_END_TEST;

static gboolean
latency_charted (JsonNode * doc, gpointer name)
{
  JsonObject *p = report_pipeline (doc, name);
  JsonArray *charts = p ? json_object_get_array_member (p, "charts") : NULL;

  for (guint i = 0; charts && i < json_array_get_length (charts); i++) {
    JsonObject *c = json_array_get_object_element (charts, i);
    JsonArray *series = json_object_get_array_member (c, "series");

    if (g_strcmp0 (json_object_get_string_member (c, "metric"),
            "apm_pipeline_latency_seconds") == 0 && series
        && json_array_get_length (series) > 0
        && json_array_get_length (json_object_get_array_member
            (json_array_get_object_element (series, 0), "points")) >= 2)
      return TRUE;
  }
  return FALSE;
}

/* the charts read the history: a live pipeline's latency gets points */
GST_START_TEST (test_report_charts)
{
  GstElement *p = apm_test_parse_tracked ("audiotestsrc is-live=true "
      "samplesperbuffer=441 ! audioconvert ! fakesink", "repchart");
  JsonNode *doc;
  gchar *u = apm_test_play_live (p);

  g_free (u);
  doc = apm_test_wait_json (session, url, "/monitoring/report?since=-60",
      latency_charted, "repchart", APM_TEST_SCALED (10 * G_USEC_PER_SEC));
  fail_unless (latency_charted (doc, "repchart"),
      "no latency points in the report's chart after 10 s");
  json_node_unref (doc);
  apm_test_stop_untrack (p);
}

GST_END_TEST;

static guint
count (const gchar * text, const gchar * needle)
{
  guint n = 0;

  for (const gchar * at = text; (at = strstr (at, needle)); at++)
    n++;
  return n;
}

/* what a browser and a printer need: the doctype, balanced blocks, no
 * script; and every name escaped */
static void
check_html (const gchar * html)
{
  static const gchar *const blocks[] = { "table", "svg", "section", "ol",
    "figure", "dl", NULL
  };

  fail_unless (g_str_has_prefix (html, "<!DOCTYPE html>"));
  fail_unless (strstr (html, "</html>") != NULL);
  fail_unless (strstr (html, "<script") == NULL, "a script in the report");
  for (guint i = 0; blocks[i]; i++) {
    gchar *open = g_strdup_printf ("<%s", blocks[i]);
    gchar *close = g_strdup_printf ("</%s>", blocks[i]);

    fail_unless_equals_int (count (html, open), count (html, close));
    g_free (open);
    g_free (close);
  }
}

GST_START_TEST (test_report_html)
{
  GstElement *p = apm_test_parse_tracked ("audiotestsrc num-buffers=50 ! "
      "identity name=\"id<i>&amp\" ! fakesink sync=false", "rep<b>\"x");
  ApmTestResponse *r;
  gchar *html;

  apm_test_run_to_eos (p, NULL, NULL);
  r = apm_test_http (session, "GET", url, "/monitoring/report?format=html");
  fail_unless_equals_int (r->status, 200);
  fail_unless (g_str_has_prefix (r->content_type, "text/html"),
      "content type %s", r->content_type);
  html = g_strndup (g_bytes_get_data (r->body, NULL),
      g_bytes_get_size (r->body));
  check_html (html);
  fail_unless (strstr (html, "<svg") != NULL, "no inline SVG");
  fail_unless (strstr (html, "rep&lt;b&gt;&quot;x") != NULL ||
      strstr (html, "rep&lt;b&gt;&#34;x") != NULL,
      "the pipeline's name is not there, escaped");
  fail_unless (strstr (html, "id&lt;i&gt;&amp;amp") != NULL,
      "the element's name is not there, escaped");
  fail_unless (strstr (html, "<b>\"x") == NULL && strstr (html,
          "id<i>") == NULL, "a name reached the page unescaped");
  g_free (html);
  apm_test_response_free (r);
  apm_test_stop_untrack (p);
}

GST_END_TEST;

/* the dashboard links to the printable report */
GST_START_TEST (test_dashboard_links_report)
{
  gchar *page = apm_test_http_text (session, url, "/monitoring/dashboard",
      200);

  fail_unless (strstr (page, "href=\"/monitoring/report?format=html\"") !=
      NULL, "the dashboard has no link to the report");
  g_free (page);
}

GST_END_TEST;

GST_START_TEST (test_report_bad_params)
{
  static const gchar *const bad[] = { "/monitoring/report?since=abc",
    "/monitoring/report?since=-1e99", "/monitoring/report?format=xml",
    "/monitoring/report?format=html&since=yesterday", NULL
  };

  for (guint i = 0; bad[i]; i++) {
    JsonNode *doc = apm_test_http_json (session, "GET", url, bad[i], 400);

    apm_test_check_error_doc (doc, 400);
    json_node_unref (doc);
  }
  json_node_unref (apm_test_http_json (session, "GET", url,
          "/monitoring/report?since=-60&format=json", 200));
}

GST_END_TEST;

static Suite *
report_suite (void)
{
  Suite *s = suite_create ("apm_report");
  TCase *tc = tcase_create ("report");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_report_json);
  tcase_add_test (tc, test_report_charts);
  tcase_add_test (tc, test_report_html);
  tcase_add_test (tc, test_report_bad_params);
  tcase_add_test (tc, test_dashboard_links_report);
  return s;
}

int
main (int argc, char **argv)
{
  apm_test_prepare_env ("apm(port=0,quiet=true)");
  g_setenv ("CK_FORK", "no", TRUE);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (report_suite (), "apm_report", __FILE__);
}
