/* gst-apm tests: the log summary (issue 16): message templates, counts per
 * minute, the cap on templates, and GET /monitoring/logs/summary.
 *
 * Runs with GST_TRACERS="apm(port=0,quiet=true)" and CK_FORK=no (one
 * service per process).
 */
#include <gst/check/gstcheck.h>
#include <string.h>

#include "apmtestutil.h"
#include "apm-log-summary.h"
#include "apm-monitor.h"
#include "apm-service.h"

#define MIN_US ((gint64) 60 * G_USEC_PER_SEC)
/* deadlines (upper bounds) stretch under valgrind and sanitizers */
#define T (APM_TEST_SCALED (G_USEC_PER_SEC))

static SoupSession *session;
static gchar *base_url;

static void
setup (void)
{
  if (base_url)
    return;
  base_url = apm_test_start_service ();
  session = apm_test_session_new ();
}

static void
check_template (const gchar * message, const gchar * expected)
{
  gchar *got = apm_log_template (message);

  fail_unless_equals_string (got, expected);
  g_free (got);
}

GST_START_TEST (test_placeholders)
{
  /* numbers: integers, decimals, signs, exponents, in words and units */
  check_template ("took 12 ms", "took <n> ms");
  check_template ("latency 1.25 s, drift -3, rate 2e-6", "latency <n> s, "
      "drift <n>, rate <n>");
  check_template ("queue0 is 85% full at 48000Hz",
      "queue<n> is <n>% full at <n>Hz");
  check_template ("range 10-20", "range <n>-<n>");
  /* ids: UUIDs, 0x..., long hex with digits and letters */
  check_template ("job 0a1b2c3d-4e5f-6789-abcd-ef0123456789 done",
      "job <id> done");
  check_template ("trace 4bf92f3577b34da6a3ce929d0e0e4736 ptr 0x7ffd1234",
      "trace <id> ptr <id>");
  check_template ("deadbeef stays a word, cafe12 is short",
      "deadbeef stays a word, cafe<n> is short");
  /* paths, with what ends a sentence or a clause left out */
  check_template ("cannot open /var/lib/apm/x.wav: No such file",
      "cannot open <path>: No such file");
  check_template ("wrote ./out/a.raw and ~/b.raw.", "wrote <path> and "
      "<path>.");
  check_template ("(see ../logs/apm.jsonl)", "(see <path>)");
  check_template ("read / written, and/or 1/2", "read / written, and/or "
      "<n>/<n>");
  /* URLs */
  check_template ("POST http://127.0.0.1:9093/api/v2/alerts failed",
      "POST <url> failed");
  /* quoted text, double and single quotes; an apostrophe is not a quote */
  check_template ("element \"my src 2\" changed", "element <str> changed");
  check_template ("name 'a b' isn't known", "name <str> isn't known");
  check_template ("escaped \"a \\\" b\" ok", "escaped <str> ok");
  check_template ("unclosed \"quote 5", "unclosed \"quote <n>");
  /* times */
  check_template ("since 2026-11-24T05:04:36.123456Z (2026-11-24)",
      "since <time> (<time>)");
  check_template ("at 2026-11-24 05:04:36+01:00", "at <time>");
  /* nothing variable: unchanged; UTF-8 kept */
  check_template ("service started", "service started");
  check_template ("élément 3 prêt", "élément <n> prêt");
  check_template ("", "");
}

GST_END_TEST;

/* Only the first APM_LOG_SUMMARY_MAX_MESSAGE bytes count, cut on a
 * character boundary. */
GST_START_TEST (test_long_message)
{
  GString *msg = g_string_new ("x");
  gchar *tpl;

  while (msg->len < APM_LOG_SUMMARY_MAX_MESSAGE - 1)
    g_string_append (msg, "a");
  /* a two-byte character across the limit */
  g_string_append (msg, "é and more 42");
  tpl = apm_log_template (msg->str);
  fail_unless_equals_int (strlen (tpl), APM_LOG_SUMMARY_MAX_MESSAGE - 1);
  fail_unless (g_utf8_validate (tpl, -1, NULL));
  g_free (tpl);
  g_string_free (msg, TRUE);
}

GST_END_TEST;

static JsonObject *
find_template (JsonObject * doc, const gchar * tpl)
{
  JsonArray *arr = json_object_get_array_member (doc, "templates");

  for (guint i = 0; i < json_array_get_length (arr); i++) {
    JsonObject *o = json_array_get_object_element (arr, i);

    if (g_strcmp0 (json_object_get_string_member (o, "template"), tpl) == 0)
      return o;
  }
  return NULL;
}

/* Counts by minute, level and component, and templates ranked by count
 * within the window, on times the test chooses. */
GST_START_TEST (test_counts)
{
  ApmLogSummary *s = apm_log_summary_new (0);
  gint64 t0 = 1700000000 * (gint64) G_USEC_PER_SEC;
  gint64 base = t0 - t0 % MIN_US;       /* a minute's start */
  JsonNode *node;
  JsonObject *doc, *o, *levels;
  JsonArray *minutes;

  /* minute 0: 3 x "job <n> done" (jobs, info), 1 warning; minute 2: 2 x
   * "job <n> done", 1 error from net */
  for (guint i = 0; i < 3; i++) {
    gchar *m = g_strdup_printf ("job %u done", i);

    apm_log_summary_add (s, base + i * G_USEC_PER_SEC, APM_LOG_INFO, "jobs",
        m);
    g_free (m);
  }
  apm_log_summary_add (s, base + 5 * G_USEC_PER_SEC, APM_LOG_WARNING,
      "jobs", "queue 7 filling");
  apm_log_summary_add (s, base + 2 * MIN_US + 1, APM_LOG_INFO, "jobs",
      "job 77 done");
  apm_log_summary_add (s, base + 2 * MIN_US + 2, APM_LOG_INFO, "jobs",
      "job 78 done");
  apm_log_summary_add (s, base + 2 * MIN_US + 3, APM_LOG_ERROR, "net",
      "GET http://h/x failed");

  node = apm_log_summary_query (s, base, base + 3 * MIN_US, 10);
  doc = json_node_get_object (node);
  minutes = json_object_get_array_member (doc, "minutes");
  fail_unless_equals_int (json_array_get_length (minutes), 2);
  o = json_array_get_object_element (minutes, 0);
  fail_unless_equals_int (apm_test_parse_time (json_object_get_string_member
          (o, "minute")), base);
  fail_unless_equals_int (json_object_get_int_member (o, "total"), 4);
  levels = json_object_get_object_member (o, "levels");
  fail_unless_equals_int (json_object_get_int_member (levels, "info"), 3);
  fail_unless_equals_int (json_object_get_int_member (levels, "warning"), 1);
  o = json_object_get_object_member (json_object_get_object_member (o,
          "components"), "jobs");
  fail_unless_equals_int (json_object_get_int_member (o, "info"), 3);
  o = json_array_get_object_element (minutes, 1);
  fail_unless_equals_int (apm_test_parse_time (json_object_get_string_member
          (o, "minute")), base + 2 * MIN_US);
  o = json_object_get_object_member (json_object_get_object_member (o,
          "components"), "net");
  fail_unless_equals_int (json_object_get_int_member (o, "error"), 1);
  o = json_object_get_object_member (doc, "totals");
  fail_unless_equals_int (json_object_get_int_member (o, "lines"), 7);

  /* the most frequent first, with its first and last time and an example */
  o = json_array_get_object_element (json_object_get_array_member (doc,
          "templates"), 0);
  fail_unless_equals_string (json_object_get_string_member (o, "template"),
      "job <n> done");
  fail_unless_equals_int (json_object_get_int_member (o, "count"), 5);
  fail_unless_equals_int (apm_test_parse_time (json_object_get_string_member
          (o, "first_seen")), base);
  fail_unless_equals_int (apm_test_parse_time (json_object_get_string_member
          (o, "last_seen")), base + 2 * MIN_US + 2);
  fail_unless_equals_string (json_object_get_string_member (o, "example"),
      "job 78 done");
  fail_unless_equals_string (json_object_get_string_member (o, "component"),
      "jobs");
  fail_unless (find_template (doc, "GET <url> failed") != NULL);
  fail_unless (json_object_get_boolean_member (doc, "complete"));
  json_node_unref (node);

  /* a window from minute 2 counts only what happened since */
  node = apm_log_summary_query (s, base + 2 * MIN_US, base + 3 * MIN_US, 10);
  doc = json_node_get_object (node);
  fail_unless_equals_int (json_array_get_length (json_object_get_array_member
          (doc, "minutes")), 1);
  o = find_template (doc, "job <n> done");
  fail_unless (o != NULL);
  fail_unless_equals_int (json_object_get_int_member (o, "count"), 2);
  fail_unless (find_template (doc, "queue <n> filling") == NULL);
  json_node_unref (node);

  /* top limits the list */
  node = apm_log_summary_query (s, base, base + 3 * MIN_US, 1);
  fail_unless_equals_int (json_array_get_length (json_object_get_array_member
          (json_node_get_object (node), "templates")), 1);
  json_node_unref (node);

  /* older than what is kept: said so */
  node = apm_log_summary_query (s, base - 2 * 86400 * (gint64) G_USEC_PER_SEC,
      base + 3 * MIN_US, 10);
  fail_if (json_object_get_boolean_member (json_node_get_object (node),
          "complete"));
  json_node_unref (node);
  apm_log_summary_free (s);
}

GST_END_TEST;

/* Bounded: past the cap the least recently seen template goes (counted);
 * components past theirs count as "(other)", a name no logger's component is likely to take. */
GST_START_TEST (test_bounded)
{
  ApmLogSummary *s = apm_log_summary_new (4);
  gint64 base = 1700000040 * (gint64) G_USEC_PER_SEC;
  JsonNode *node;
  JsonObject *doc, *comps;
  static const gchar *const shapes[] = { "a", "b", "c", "d", "e", "f" };

  for (guint i = 0; i < G_N_ELEMENTS (shapes); i++)
    apm_log_summary_add (s, base + i, APM_LOG_INFO, "c", shapes[i]);
  /* e and f pushed out a and b; a again pushes out c */
  for (guint i = 0; i < APM_LOG_SUMMARY_COMPONENTS + 5; i++) {
    gchar *comp = g_strdup_printf ("comp%u", i);

    apm_log_summary_add (s, base + 100 + i, APM_LOG_INFO, comp, "a");
    g_free (comp);
  }
  node = apm_log_summary_query (s, base, base + MIN_US, 100);
  doc = json_node_get_object (node);
  fail_unless_equals_int (json_object_get_int_member (doc,
          "templates_tracked"), 4);
  fail_unless_equals_int (json_object_get_int_member (doc, "templates_max"),
      4);
  fail_unless_equals_int (json_object_get_int_member (doc,
          "templates_evicted"), 3);
  fail_unless (find_template (doc, "a") != NULL);
  fail_unless (find_template (doc, "b") == NULL);
  fail_unless (find_template (doc, "c") == NULL);
  fail_unless (find_template (doc, "f") != NULL);
  comps = json_object_get_object_member (json_object_get_object_member (doc,
          "totals"), "components");
  /* "c", then comp0 ... comp62 fill the 64; the rest are "(other)" */
  fail_unless_equals_int (json_object_get_size (comps),
      APM_LOG_SUMMARY_COMPONENTS + 1);
  fail_unless_equals_int (json_object_get_int_member
      (json_object_get_object_member (comps, "(other)"), "info"), 6);
  json_node_unref (node);
  apm_log_summary_free (s);
}

GST_END_TEST;

/* The endpoint: what the application logged, templated; bad parameters are
 * a 400 with an error document. */
GST_START_TEST (test_endpoint)
{
  ApmMonitor *m;
  JsonNode *doc;
  JsonObject *o, *tpl = NULL;
  JsonArray *arr;

  setup ();
  m = apm_monitor_get_default ();
  for (guint i = 0; i < 6; i++) {
    gchar *msg = g_strdup_printf ("upload of /srv/in/%u.flac failed after "
        "%u.5 s", i, i);

    apm_monitor_log (m, APM_LOG_ERROR, "apm_test_summary", msg, NULL, NULL);
    g_free (msg);
  }
  doc = apm_test_http_json (session, "GET", base_url,
      "/monitoring/logs/summary?since=-3600", 200);
  o = json_node_get_object (doc);
  arr = json_object_get_array_member (o, "templates");
  for (guint i = 0; i < json_array_get_length (arr); i++) {
    JsonObject *t = json_array_get_object_element (arr, i);

    if (g_strcmp0 (apm_test_str (t, "component"), "apm_test_summary") == 0)
      tpl = t;
  }
  fail_unless (tpl != NULL, "no template of the logged lines");
  fail_unless_equals_string (apm_test_member_string (tpl, "template"),
      "upload of <path> failed after <n> s");
  fail_unless_equals_int (apm_test_member_int (tpl, "count"), 6);
  fail_unless_equals_string (apm_test_member_string (tpl, "level"), "error");
  fail_unless (g_str_has_prefix (apm_test_member_string (tpl, "example"),
          "upload of /srv/in/"));
  fail_unless (apm_test_parse_time (apm_test_member_string (tpl,
              "first_seen")) <= apm_test_parse_time (apm_test_member_string
          (tpl, "last_seen")));
  o = apm_test_member_object (apm_test_member_object (apm_test_member_object
          (o, "totals"), "components"), "apm_test_summary");
  fail_unless_equals_int (apm_test_member_int (o, "error"), 6);
  fail_unless (json_array_get_length (json_object_get_array_member
          (json_node_get_object (doc), "minutes")) >= 1);
  json_node_unref (doc);

  /* no since: all that is kept */
  json_node_unref (apm_test_http_json (session, "GET", base_url,
          "/monitoring/logs/summary", 200));

  doc = apm_test_http_json (session, "GET", base_url,
      "/monitoring/logs/summary?since=yesterday", 400);
  apm_test_check_error_doc (doc, 400);
  json_node_unref (doc);
  doc = apm_test_http_json (session, "GET", base_url,
      "/monitoring/logs/summary?since=-60&top=0", 400);
  apm_test_check_error_doc (doc, 400);
  json_node_unref (doc);
  doc = apm_test_http_json (session, "POST", base_url,
      "/monitoring/logs/summary", 405);
  json_node_unref (doc);
}

GST_END_TEST;

static Suite *
apm_log_summary_suite (void)
{
  Suite *s = suite_create ("apm_log_summary");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_placeholders);
  tcase_add_test (tc, test_long_message);
  tcase_add_test (tc, test_counts);
  tcase_add_test (tc, test_bounded);
  tcase_add_test (tc, test_endpoint);
  return s;
}

int
main (int argc, char **argv)
{
  apm_test_prepare_env ("apm(port=0,quiet=true)");
  g_setenv ("CK_FORK", "no", TRUE);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (apm_log_summary_suite (), "apm_log_summary",
      __FILE__);
}
