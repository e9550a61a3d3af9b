/* gst-apm tests: structured JSON logs (file, ring, GET /monitoring/logs,
 * SIGHUP, the GStreamer debug log bridge) and the process resource metrics
 *
 * Runs in-process with GST_TRACERS="apm(port=0,quiet=true,log-file=PATH,
 * gst-debug=...)" (PATH in a fresh temporary directory) and CK_FORK=no: one
 * service, one log file for every test here.
 */
#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "apmtestutil.h"
#include "apm-service.h"
#include "apm-log-store.h"

#define SECONDS(s) ((gint64) ((s) * G_USEC_PER_SEC))

/* bridged by the tracer's gst-debug param at INFO; the other is not; the
 * monitor's own categories (apm*) never are, though asked for */
#define BRIDGE_SPEC "bridgetest:info,apm*:4"
GST_DEBUG_CATEGORY_STATIC (bridge_cat);
GST_DEBUG_CATEGORY_STATIC (other_cat);
GST_DEBUG_CATEGORY_STATIC (own_cat);

static gchar *log_dir, *log_path;
static const gchar *url;
static SoupSession *session;

static void
setup (void)
{
  session = apm_test_session_new ();
  url = apm_test_service_url ("logstart");
}

/* GST_END_TEST waits for every streaming thread: tests stop their
 * pipelines; after a failure this does. */
static void
teardown (void)
{
  apm_test_stop_tracked ();
  g_clear_object (&session);
}

static ApmLog *
the_log (void)
{
  return apm_service_get_log (apm_service_get_default ());
}

static JsonObject *
parse_line (const gchar * text, JsonParser * parser)
{
  GError *error = NULL;
  JsonNode *root;

  fail_unless (json_parser_load_from_data (parser, text, -1, &error),
      "log line is not JSON (%s): %s", error ? error->message : "?", text);
  root = json_parser_get_root (parser);
  fail_unless (root && JSON_NODE_HOLDS_OBJECT (root),
      "log line is not a JSON object: %s", text);
  return json_node_get_object (root);
}

/* The complete lines of @path (a last line still being written is left
 * out), each parsed and checked; a list of JsonNode (objects). */
static GPtrArray *
read_log_file (const gchar * path)
{
  gchar *text = NULL;
  gsize len = 0;
  GError *error = NULL;
  GPtrArray *lines = g_ptr_array_new_with_free_func ((GDestroyNotify)
      json_node_unref);
  gchar **parts;
  guint n;

  fail_unless (g_file_get_contents (path, &text, &len, &error),
      "cannot read %s: %s", path, error ? error->message : "?");
  parts = g_strsplit (text, "\n", -1);
  n = g_strv_length (parts);
  /* after the last '\n': empty, or a line not finished yet */
  for (guint i = 0; i + 1 < n; i++) {
    JsonParser *parser = json_parser_new ();
    JsonObject *o;

    fail_unless (parts[i][0] != '\0', "%s: empty line %u", path, i + 1);
    if (!g_utf8_validate (parts[i], -1, NULL)) {
      gchar *shown = g_utf8_make_valid (parts[i], -1);

      fail ("%s: line %u is not UTF-8: %s", path, i + 1, shown);
    }
    o = parse_line (parts[i], parser);
    apm_test_check_log_line (o);
    g_ptr_array_add (lines, json_node_copy (json_parser_get_root (parser)));
    g_object_unref (parser);
  }
  g_strfreev (parts);
  g_free (text);
  return lines;
}

static JsonObject *
line_at (GPtrArray * lines, guint i)
{
  return json_node_get_object (g_ptr_array_index (lines, i));
}

static const gchar *
context_str (JsonObject * line, const gchar * name)
{
  return apm_test_str (json_object_get_object_member (line, "context"), name);
}

/* number of lines of @component whose message is @message */
static guint
count_lines (GPtrArray * lines, const gchar * component,
    const gchar * message)
{
  guint n = 0;

  for (guint i = 0; i < lines->len; i++) {
    JsonObject *o = line_at (lines, i);

    if (g_strcmp0 (apm_test_str (o, "component"), component) == 0
        && (!message || g_strcmp0 (apm_test_str (o, "message"), message) == 0))
      n++;
  }
  return n;
}

GST_START_TEST (test_log_file_lines)
{
  GstElement *p;
  GPtrArray *lines;
  JsonObject *ctx, *inner;
  guint job_lines = 0;
  gboolean seen_newline = FALSE, seen_invalid = FALSE, seen_nested = FALSE;

  p = apm_test_parse_tracked ("audiotestsrc num-buffers=5 ! fakesink", "logfile");
  apm_test_run_to_eos (p, NULL, NULL);
  apm_test_stop_untrack (p);

  ctx = json_object_new ();
  inner = json_object_new ();
  json_object_set_int_member (inner, "n", 7);
  json_object_set_object_member (ctx, "inner", inner);
  json_object_set_string_member (ctx, "quote", "a \"b\" \\ c");
  apm_log_write (the_log (), APM_LOG_INFO, "logfiletest", "cid-nested", ctx,
      "nested context");
  apm_log_write (the_log (), APM_LOG_WARNING, "logfiletest", NULL, NULL,
      "two\nlines\tand \"quotes\"");
  apm_log_write (the_log (), APM_LOG_ERROR, "logfiletest", NULL, NULL,
      "bad byte \xff here");
  apm_log_write (the_log (), APM_LOG_DEBUG, "logfiletest", NULL, NULL,
      "below the default level");

  /* lines are written at once */
  lines = read_log_file (log_path);
  fail_unless (lines->len >= 5, "only %u lines in %s", lines->len, log_path);
  for (guint i = 0; i < lines->len; i++) {
    JsonObject *o = line_at (lines, i);
    const gchar *msg = apm_test_str (o, "message");

    if (g_strcmp0 (apm_test_str (o, "component"), "jobs") == 0
        && strstr (msg, "logfile#1"))
      job_lines++;
    if (g_strcmp0 (apm_test_str (o, "component"), "logfiletest") != 0)
      continue;
    fail_if (g_strcmp0 (apm_test_str (o, "level"), "debug") == 0,
        "a debug line was written at the default level (info)");
    if (strcmp (msg, "two\nlines\tand \"quotes\"") == 0) {
      seen_newline = TRUE;
      fail_unless_equals_string (apm_test_str (o, "level"), "warning");
      fail_unless (JSON_NODE_HOLDS_NULL (json_object_get_member (o,
                  "correlation_id")));
      fail_unless_equals_int (json_object_get_size
          (json_object_get_object_member (o, "context")), 0);
    } else if (g_str_has_prefix (msg, "bad byte ")) {
      seen_invalid = TRUE;
      fail_unless (g_str_has_suffix (msg, " here"));
      fail_unless_equals_string (apm_test_str (o, "level"), "error");
    } else if (strcmp (msg, "nested context") == 0) {
      JsonObject *c = json_object_get_object_member (o, "context");

      seen_nested = TRUE;
      fail_unless_equals_string (apm_test_str (o, "correlation_id"),
          "cid-nested");
      fail_unless_equals_int (json_object_get_int_member
          (json_object_get_object_member (c, "inner"), "n"), 7);
      fail_unless_equals_string (apm_test_str (c, "quote"), "a \"b\" \\ c");
    }
  }
  fail_unless (seen_newline, "the message with a newline is not one line");
  fail_unless (seen_invalid, "the message with invalid UTF-8 is missing");
  fail_unless (seen_nested, "the line with a nested context is missing");
  fail_unless (job_lines >= 2, "%u job lines for logfile#1 in the file",
      job_lines);
  g_ptr_array_unref (lines);
}

GST_END_TEST;

/* Names come from users: a pipeline whose name is not UTF-8 must not make
 * the file or the API invalid (JSON is UTF-8). */
GST_START_TEST (test_log_lines_utf8_with_bad_names)
{
  GstElement *p = apm_test_parse_tracked ("audiotestsrc num-buffers=2 ! fakesink",
      "logutf8\xff\xfe");
  GPtrArray *lines;
  ApmTestResponse *r;
  guint ours = 0;

  apm_test_run_to_eos (p, NULL, NULL);
  apm_test_stop_untrack (p);
  /* read_log_file() checks the file is UTF-8 and each line JSON */
  lines = read_log_file (log_path);
  for (guint i = 0; i < lines->len; i++)
    ours +=
        strstr (apm_test_str (line_at (lines, i), "message"),
        "logutf8") != NULL;
  fail_unless (ours >= 2, "no line about the run of logutf8...");
  g_ptr_array_unref (lines);

  r = apm_test_http (session, "GET", url, "/monitoring/logs?limit=50");
  fail_unless_equals_int (r->status, 200);
  fail_unless (g_utf8_validate (g_bytes_get_data (r->body, NULL),
          g_bytes_get_size (r->body), NULL),
      "GET /monitoring/logs is not UTF-8");
  json_node_unref (apm_test_parse_json (r));
  apm_test_response_free (r);
}

GST_END_TEST;

/* The finished job of @pipeline in GET /monitoring/jobs, once it is there. */
static JsonObject *
wait_finished_job (const gchar * pipeline, JsonNode ** root_out)
{
  gint64 deadline = apm_test_deadline_in (5);

  for (;;) {
    JsonNode *root = apm_test_http_json (session, "GET", url,
        "/monitoring/jobs", 200);
    JsonArray *finished = json_object_get_array_member (json_node_get_object
        (root), "finished");

    for (guint i = 0; finished && i < json_array_get_length (finished); i++) {
      JsonObject *j = json_array_get_object_element (finished, i);

      if (g_strcmp0 (apm_test_str (j, "pipeline"), pipeline) == 0) {
        *root_out = root;
        return j;
      }
    }
    json_node_unref (root);
    fail_unless (g_get_monotonic_time () < deadline, "no finished job of %s "
        "in /monitoring/jobs within 5 s", pipeline);
    g_usleep (20 * 1000);
  }
}

GST_START_TEST (test_job_lines_carry_correlation_id)
{
  GstElement *p;
  JsonNode *jobs_root, *logs_root;
  JsonObject *job;
  const gchar *cid, *job_id;
  GPtrArray *lines;
  JsonArray *logs;
  gboolean started = FALSE, completed = FALSE;
  gchar *path, *escaped;

  p = apm_test_parse_tracked ("audiotestsrc num-buffers=5 ! fakesink", "logcorr");
  apm_test_run_to_eos (p, NULL, NULL);
  job = wait_finished_job ("logcorr", &jobs_root);
  cid = apm_test_str (job, "correlation_id");
  job_id = apm_test_str (job, "job_id");
  fail_unless (cid != NULL && *cid, "job without a correlation id");
  fail_unless (job_id != NULL);

  lines = read_log_file (log_path);
  for (guint i = 0; i < lines->len; i++) {
    JsonObject *o = line_at (lines, i);

    if (g_strcmp0 (apm_test_str (o, "component"), "jobs") != 0
        || g_strcmp0 (context_str (o, "job_id"), job_id) != 0)
      continue;
    fail_unless (g_strcmp0 (apm_test_str (o, "correlation_id"), cid) == 0,
        "job line '%s' has correlation id %s, /monitoring/jobs says %s",
        apm_test_str (o, "message"), GST_STR_NULL (apm_test_str (o,
                "correlation_id")), cid);
    fail_unless_equals_string (context_str (o, "pipeline"), "logcorr");
    if (strstr (apm_test_str (o, "message"), "started"))
      started = TRUE;
    else if (strstr (apm_test_str (o, "message"), "completed")) {
      completed = TRUE;
      fail_unless_equals_string (context_str (o, "status"), apm_test_str (job,
              "status"));
    }
  }
  fail_unless (started, "no job start line for %s in the file", job_id);
  fail_unless (completed, "no job completion line for %s in the file",
      job_id);
  g_ptr_array_unref (lines);

  /* the ring answers the same by correlation id */
  escaped = g_uri_escape_string (cid, NULL, TRUE);
  path = g_strdup_printf ("/monitoring/logs?correlation_id=%s", escaped);
  logs_root = apm_test_http_json (session, "GET", url, path, 200);
  logs = json_object_get_array_member (json_node_get_object (logs_root),
      "logs");
  started = completed = FALSE;
  for (guint i = 0; i < json_array_get_length (logs); i++) {
    JsonObject *o = json_array_get_object_element (logs, i);

    apm_test_check_log_line (o);
    fail_unless_equals_string (apm_test_str (o, "correlation_id"), cid);
    if (g_strcmp0 (apm_test_str (o, "component"), "jobs") == 0) {
      started |= strstr (apm_test_str (o, "message"), "started") != NULL;
      completed |= strstr (apm_test_str (o, "message"), "completed") != NULL;
    }
  }
  fail_unless (started && completed, "GET %s misses the job's lines", path);
  json_node_unref (logs_root);
  json_node_unref (jobs_root);
  g_free (path);
  g_free (escaped);
  apm_test_stop_untrack (p);
}

GST_END_TEST;

/* GET /monitoring/logs@query: the logs array, each line checked */
static JsonArray *
get_logs (const gchar * query, JsonNode ** root)
{
  gchar *path = g_strconcat ("/monitoring/logs", query, NULL);
  JsonArray *logs;

  *root = apm_test_http_json (session, "GET", url, path, 200);
  fail_unless (JSON_NODE_HOLDS_OBJECT (*root));
  logs = json_object_get_array_member (json_node_get_object (*root), "logs");
  fail_unless (logs != NULL, "GET %s: no logs array", path);
  for (guint i = 0; i < json_array_get_length (logs); i++)
    apm_test_check_log_line (json_array_get_object_element (logs, i));
  g_free (path);
  return logs;
}

static void
check_bad_query (const gchar * query)
{
  gchar *path = g_strconcat ("/monitoring/logs", query, NULL);
  ApmTestResponse *r = apm_test_http (session, "GET", url, path);
  JsonNode *root;

  fail_unless (r->status == 400, "GET %s: status %u, expected 400", path,
      r->status);
  root = apm_test_parse_json (r);
  apm_test_check_error_doc (root, 400);
  json_node_unref (root);
  apm_test_response_free (r);
  g_free (path);
}

static gint
level_rank (const gchar * level)
{
  static const gchar *levels[] = { "debug", "info", "warning", "error",
    "critical"
  };

  for (guint i = 0; i < G_N_ELEMENTS (levels); i++)
    if (g_strcmp0 (level, levels[i]) == 0)
      return i;
  return -1;
}

GST_START_TEST (test_logs_endpoint_filters)
{
  static const ApmLogLevel levels[] = { APM_LOG_INFO, APM_LOG_WARNING,
    APM_LOG_ERROR, APM_LOG_CRITICAL
  };
  JsonNode *root;
  JsonArray *logs;
  gint64 t_between;
  gchar *q;
  GstElement *p;

  /* 8 lines: 2 per level, alternating correlation ids */
  for (guint i = 0; i < 8; i++)
    apm_log_write (the_log (), levels[i / 2], "filtertest",
        i % 2 ? "filter-odd" : "filter-even", NULL, "filter line %u", i);
  p = apm_test_parse_tracked ("audiotestsrc num-buffers=3 ! fakesink", "logfilter");
  apm_test_run_to_eos (p, NULL, NULL);
  apm_test_stop_untrack (p);

  /* all */
  logs = get_logs ("", &root);
  fail_unless (json_array_get_length (logs) >= 8);
  json_node_unref (root);

  /* level=warning: warning and above only, ours included */
  logs = get_logs ("?level=warning", &root);
  {
    guint ours = 0;

    for (guint i = 0; i < json_array_get_length (logs); i++) {
      JsonObject *o = json_array_get_object_element (logs, i);

      fail_unless (level_rank (apm_test_str (o, "level")) >= 2,
          "level=warning returned a %s line: %s", apm_test_str (o, "level"),
          apm_test_str (o, "message"));
      ours += g_strcmp0 (apm_test_str (o, "component"), "filtertest") == 0;
    }
    fail_unless (ours >= 6, "level=warning: %u of our 6 lines", ours);
  }
  json_node_unref (root);

  /* the level name is case-insensitive, and the filters combine */
  logs = get_logs ("?level=ERROR&component=filtertest", &root);
  fail_unless (json_array_get_length (logs) >= 4);
  for (guint i = 0; i < json_array_get_length (logs); i++)
    fail_unless (level_rank (apm_test_str (json_array_get_object_element (logs,
                    i), "level")) >= 3);
  json_node_unref (root);

  /* correlation_id */
  logs = get_logs ("?correlation_id=filter-odd", &root);
  fail_unless (json_array_get_length (logs) >= 4);
  for (guint i = 0; i < json_array_get_length (logs); i++)
    fail_unless_equals_string (apm_test_str (json_array_get_object_element
            (logs, i), "correlation_id"), "filter-odd");
  json_node_unref (root);

  /* component=jobs: only job lines, the last run's among them */
  logs = get_logs ("?component=jobs", &root);
  {
    gboolean seen = FALSE;

    for (guint i = 0; i < json_array_get_length (logs); i++) {
      JsonObject *o = json_array_get_object_element (logs, i);

      fail_unless_equals_string (apm_test_str (o, "component"), "jobs");
      seen |= g_strcmp0 (context_str (o, "pipeline"), "logfilter") == 0;
    }
    fail_unless (seen, "component=jobs has no line of the logfilter run");
  }
  json_node_unref (root);

  /* limit=N: the N newest, oldest first */
  logs = get_logs ("?component=filtertest&limit=3", &root);
  fail_unless_equals_int (json_array_get_length (logs), 3);
  for (guint i = 0; i < 3; i++)
    fail_unless_equals_string (apm_test_str (json_array_get_object_element
            (logs, i), "message"),
        (i == 0 ? "filter line 5" : i ==
            1 ? "filter line 6" : "filter line 7"));
  json_node_unref (root);

  /* since: absolute Unix seconds, or negative seconds before now */
  apm_log_write (the_log (), APM_LOG_INFO, "sincetest", NULL, NULL, "before");
  t_between = g_get_real_time ();
  while (g_get_real_time () < t_between + 2000);
  apm_log_write (the_log (), APM_LOG_INFO, "sincetest", NULL, NULL, "after");
  q = g_strdup_printf ("?component=sincetest&since=%.6f", (t_between + 1000)
      / 1e6);
  logs = get_logs (q, &root);
  fail_unless_equals_int (json_array_get_length (logs), 1);
  fail_unless_equals_string (apm_test_str (json_array_get_object_element (logs,
              0), "message"), "after");
  json_node_unref (root);
  g_free (q);
  logs = get_logs ("?component=sincetest&since=-3600", &root);
  fail_unless_equals_int (json_array_get_length (logs), 2);
  json_node_unref (root);
  /* nothing was logged in the last microsecond */
  logs = get_logs ("?component=sincetest&since=-0.000001", &root);
  fail_unless_equals_int (json_array_get_length (logs), 0);
  json_node_unref (root);

  /* bad parameters: 400 with a JSON error */
  check_bad_query ("?level=verbose");
  check_bad_query ("?level=");
  check_bad_query ("?since=abc");
  check_bad_query ("?since=1e999");
  check_bad_query ("?limit=-1");
  check_bad_query ("?limit=x");
}

GST_END_TEST;

static gboolean
file_has_message (const gchar * path, const gchar * message)
{
  GPtrArray *lines;
  gboolean found;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return FALSE;
  lines = read_log_file (path);
  found = count_lines (lines, "rotatetest", message) > 0;
  g_ptr_array_unref (lines);
  return found;
}

/* Moves the log away (@how: rename or unlink), then logs a numbered line
 * every 50 ms until one shows up in a new file at the same path.  Checks
 * that it took at most @max_s, and that every line went to exactly one of
 * the files. */
static void
check_reopen (gboolean rename_away, gdouble max_s)
{
  gchar *moved = g_strconcat (log_path, ".moved", NULL);
  gint64 t0, deadline;
  guint n = 0;
  gboolean reopened = FALSE;
  gchar *msg = NULL;

  g_remove (moved);
  if (rename_away)
    fail_unless (g_rename (log_path, moved) == 0);
  else
    fail_unless (g_unlink (log_path) == 0);
  t0 = g_get_monotonic_time ();
  deadline = t0 + APM_TEST_SCALED (SECONDS (max_s + 2));
  while (!reopened && g_get_monotonic_time () < deadline) {
    g_free (msg);
    msg = g_strdup_printf ("%s line %u", rename_away ? "rename" : "unlink",
        n++);
    apm_log_write (the_log (), APM_LOG_INFO, "rotatetest", NULL, NULL, "%s",
        msg);
    reopened = file_has_message (log_path, msg);
    if (!reopened)
      g_usleep (50 * 1000);
  }
  fail_unless (reopened, "after %s, no new %s within %.0f s",
      rename_away ? "a rename" : "an unlink", log_path, max_s + 2);
  fail_unless (g_get_monotonic_time () - t0 <= APM_TEST_SCALED (SECONDS
          (max_s)),
      "the log file was reopened %.2f s after %s (checked each second)",
      (g_get_monotonic_time () - t0) / 1e6, rename_away ? "a rename" :
      "an unlink");

  if (rename_away) {
    GPtrArray *old = read_log_file (moved), *now = read_log_file (log_path);

    for (guint i = 0; i < n; i++) {
      gchar *m = g_strdup_printf ("rename line %u", i);
      guint in_old = count_lines (old, "rotatetest", m);
      guint in_new = count_lines (now, "rotatetest", m);

      fail_unless (in_old + in_new == 1, "'%s' is %u times in the moved "
          "file and %u times in the new one", m, in_old, in_new);
      g_free (m);
    }
    g_ptr_array_unref (old);
    g_ptr_array_unref (now);
    g_remove (moved);
  }
  g_free (msg);
  g_free (moved);
}

GST_START_TEST (test_log_file_reopened)
{
  check_reopen (TRUE, 2.5);
  check_reopen (FALSE, 2.5);
}

GST_END_TEST;

GST_START_TEST (test_log_file_rotated_by_size)
{
  gchar *old = g_strconcat (log_path, ".1", NULL);
  gchar *big = g_malloc (4097);
  GStatBuf st;
  guint n = 0;
  GPtrArray *lines;

  memset (big, 'x', 4096);
  big[4096] = '\0';
  g_remove (old);
  /* 16 MiB of 4 KiB messages: about 4,100 lines */
  while (!g_file_test (old, G_FILE_TEST_EXISTS)) {
    fail_unless (n < (APM_LOG_MAX_FILE_BYTES / 4096) * 2, "no %s after "
        "%u lines of 4 KiB", old, n);
    apm_log_write (the_log (), APM_LOG_INFO, "rotatetest", NULL, NULL,
        "big %u %s", n++, big);
  }
  fail_unless (g_stat (old, &st) == 0);
  fail_unless (st.st_size >= APM_LOG_MAX_FILE_BYTES, "rotated at %"
      G_GINT64_FORMAT " bytes", (gint64) st.st_size);
  fail_unless (st.st_size < APM_LOG_MAX_FILE_BYTES + 64 * 1024);
  apm_log_write (the_log (), APM_LOG_INFO, "rotatetest", NULL, NULL,
      "after rotation");
  fail_unless (g_stat (log_path, &st) == 0);
  fail_unless (st.st_size < 64 * 1024, "the new file has %" G_GINT64_FORMAT
      " bytes", (gint64) st.st_size);
  lines = read_log_file (log_path);
  fail_unless (count_lines (lines, "rotatetest", "after rotation") == 1);
  g_ptr_array_unref (lines);
  /* the old file is whole: every line complete and valid */
  lines = read_log_file (old);
  fail_unless (lines->len > APM_LOG_MAX_FILE_BYTES / (4096 + 512),
      "only %u lines in the rotated file", lines->len);
  g_ptr_array_unref (lines);
  g_remove (old);
  g_free (old);
  g_free (big);
}

GST_END_TEST;

/* logrotate's way: move the file, then SIGHUP.  The line the handler logs
 * proves the signal reopened the file (the once-a-second check of a moved
 * file would reopen it too, but silently), and without the handler SIGHUP
 * would end this process. */
GST_START_TEST (test_log_file_reopened_on_sighup)
{
  gchar *moved = g_strconcat (log_path, ".hup", NULL);
  gint64 deadline;
  GPtrArray *lines = NULL;
  gboolean reopened = FALSE;

  g_remove (moved);
  apm_log_write (the_log (), APM_LOG_INFO, "rotatetest", NULL, NULL,
      "before sighup");
  fail_unless (g_rename (log_path, moved) == 0);
  fail_unless (raise (SIGHUP) == 0);

  deadline = apm_test_deadline_in (3);
  while (!reopened && g_get_monotonic_time () < deadline) {
    g_clear_pointer (&lines, g_ptr_array_unref);
    if (g_file_test (log_path, G_FILE_TEST_EXISTS)) {
      lines = read_log_file (log_path);
      reopened = count_lines (lines, "log", "log file reopened on SIGHUP")
          > 0;
    }
    if (!reopened)
      g_usleep (20 * 1000);
  }
  fail_unless (reopened, "no 'log file reopened on SIGHUP' line in a new "
      "%s within 3 s of SIGHUP", log_path);
  for (guint i = 0; i < lines->len; i++) {
    JsonObject *o = line_at (lines, i);

    if (g_strcmp0 (apm_test_str (o, "component"), "log") == 0) {
      fail_unless_equals_string (context_str (o, "signal"), "SIGHUP");
      fail_unless_equals_string (context_str (o, "path"), log_path);
    }
  }
  fail_unless (count_lines (lines, "rotatetest", "before sighup") == 0,
      "a line written before the move is in the new file");
  g_ptr_array_unref (lines);

  lines = read_log_file (moved);
  fail_unless (count_lines (lines, "rotatetest", "before sighup") == 1,
      "the line written before the move is not in the moved file");
  g_ptr_array_unref (lines);
  apm_log_write (the_log (), APM_LOG_INFO, "rotatetest", NULL, NULL,
      "after sighup");
  lines = read_log_file (log_path);
  fail_unless (count_lines (lines, "rotatetest", "after sighup") == 1);
  g_ptr_array_unref (lines);
  g_remove (moved);
  g_free (moved);
}

GST_END_TEST;

/* --- the GStreamer debug log bridge (gst-debug=BRIDGE_SPEC) --- */

typedef struct
{
  const gchar *pipeline;
  gchar *cid;
} ActiveJob;

static gboolean
job_active (JsonNode * doc, gpointer user_data)
{
  ActiveJob *w = user_data;
  JsonArray *active = json_object_get_array_member (json_node_get_object
      (doc), "active");

  for (guint i = 0; active && i < json_array_get_length (active); i++) {
    JsonObject *j = json_array_get_object_element (active, i);

    if (g_strcmp0 (apm_test_str (j, "pipeline"), w->pipeline) == 0) {
      g_free (w->cid);
      w->cid = g_strdup (apm_test_str (j, "correlation_id"));
      return TRUE;
    }
  }
  return FALSE;
}

/* the gstreamer line whose message starts with @prefix, or NULL */
static JsonObject *
find_gst_line (JsonArray * logs, const gchar * prefix)
{
  for (guint i = 0; i < json_array_get_length (logs); i++) {
    JsonObject *o = json_array_get_object_element (logs, i);

    if (g_strcmp0 (apm_test_str (o, "component"), "gstreamer") == 0
        && g_str_has_prefix (apm_test_str (o, "message"), prefix))
      return o;
  }
  return NULL;
}

typedef struct
{
  const gchar *message;
} LineWait;

static gboolean
bridged_line_there (JsonNode * doc, gpointer user_data)
{
  LineWait *w = user_data;

  return find_gst_line (json_object_get_array_member (json_node_get_object
          (doc), "logs"), w->message) != NULL;
}

/* A message of a bridged category about an element of a running pipeline
 * becomes a JSON line with the job's correlation id; messages above the
 * category's level, of other categories, and of the monitor's own
 * categories do not. */
GST_START_TEST (test_gst_debug_bridge)
{
  GstElement *p = apm_test_parse_tracked ("audiotestsrc is-live=true "
      "samplesperbuffer=441 ! fakesink name=bridgesink", "bridgepipe");
  GstElement *sink, *loose = gst_element_factory_make ("identity",
      "bridgeloose");
  ActiveJob job = { "bridgepipe", NULL };
  LineWait lw = { "bridge message" };
  JsonNode *doc;
  JsonArray *logs;
  JsonObject *line, *ctx;
  GPtrArray *file_lines;
  gchar *live_url, *source, *path, *escaped;
  gboolean in_file = FALSE;

  live_url = apm_test_play_live (p);
  g_free (live_url);
  doc = apm_test_wait_json (session, url, "/monitoring/jobs", job_active,
      &job, APM_TEST_SCALED (SECONDS (5)));
  json_node_unref (doc);
  fail_unless (job.cid != NULL, "no active job for bridgepipe");

  sink = gst_bin_get_by_name (GST_BIN (p), "bridgesink");
  gst_debug_category_set_threshold (other_cat, GST_LEVEL_INFO);
  /* queued in this order; the last one's line shows the others were
   * written or left out */
  GST_CAT_DEBUG_OBJECT (bridge_cat, sink, "bridge finer than info");
  GST_CAT_INFO_OBJECT (other_cat, sink, "bridge other category");
  GST_CAT_INFO_OBJECT (own_cat, sink, "bridge own category");
  GST_CAT_WARNING_OBJECT (bridge_cat, loose, "bridge loose element");
  GST_CAT_INFO_OBJECT (bridge_cat, sink, "bridge message %d", 42);

  doc = apm_test_wait_json (session, url,
      "/monitoring/logs?component=gstreamer", bridged_line_there, &lw,
      APM_TEST_SCALED (SECONDS (5)));
  logs = json_object_get_array_member (json_node_get_object (doc), "logs");
  line = find_gst_line (logs, "bridge message");
  fail_unless (line != NULL, "the bridged message is not in "
      "/monitoring/logs within 5 s");
  apm_test_check_log_line (line);
  fail_unless_equals_string (apm_test_str (line, "message"),
      "bridge message 42");
  fail_unless_equals_string (apm_test_str (line, "level"), "info");
  fail_unless_equals_string (apm_test_str (line, "correlation_id"), job.cid);
  ctx = json_object_get_object_member (line, "context");
  fail_unless_equals_string (apm_test_str (ctx, "category"), "bridgetest");
  fail_unless_equals_string (apm_test_str (ctx, "gst_level"), "INFO");
  fail_unless_equals_string (apm_test_str (ctx, "object"), "bridgesink");
  fail_unless_equals_string (apm_test_str (ctx, "pipeline"), "bridgepipe");
  fail_unless_equals_string (apm_test_str (ctx, "function"),
      "test_gst_debug_bridge");
  source = g_strdup (apm_test_str (ctx, "source"));
  fail_unless (source && g_str_has_prefix (source, "logs.c:"),
      "source is %s", GST_STR_NULL (source));

  /* an element in no pipeline: no job, no pipeline */
  line = find_gst_line (logs, "bridge loose element");
  fail_unless (line != NULL, "the message about a loose element is missing");
  fail_unless_equals_string (apm_test_str (line, "level"), "warning");
  fail_unless (JSON_NODE_HOLDS_NULL (json_object_get_member (line,
              "correlation_id")));
  ctx = json_object_get_object_member (line, "context");
  fail_unless_equals_string (apm_test_str (ctx, "object"), "bridgeloose");
  fail_if (json_object_has_member (ctx, "pipeline"));

  fail_if (find_gst_line (logs, "bridge finer than info") != NULL,
      "a DEBUG message of a category bridged at INFO was logged");
  fail_if (find_gst_line (logs, "bridge other category") != NULL,
      "a message of a category not in gst-debug was logged");
  /* BRIDGE_SPEC asks for apm*: the monitor's own categories never feed
   * back into its log */
  fail_if (find_gst_line (logs, "bridge own category") != NULL,
      "a message of an apm* category was logged");
  for (guint i = 0; i < json_array_get_length (logs); i++) {
    JsonObject *c = json_object_get_object_member
        (json_array_get_object_element (logs, i), "context");

    fail_if (g_str_has_prefix (apm_test_str (c, "category"), "apm"),
        "a message of the monitor's own category %s was bridged",
        apm_test_str (c, "category"));
  }
  json_node_unref (doc);

  /* the same line in the file, and found by the job's correlation id */
  file_lines = read_log_file (log_path);
  for (guint i = 0; i < file_lines->len; i++) {
    JsonObject *o = line_at (file_lines, i);

    if (g_strcmp0 (apm_test_str (o, "message"), "bridge message 42") == 0) {
      in_file = TRUE;
      fail_unless_equals_string (apm_test_str (o, "correlation_id"), job.cid);
      fail_unless_equals_string (context_str (o, "source"), source);
    }
  }
  fail_unless (in_file, "the bridged message is not in %s", log_path);
  g_ptr_array_unref (file_lines);
  escaped = g_uri_escape_string (job.cid, NULL, TRUE);
  path = g_strdup_printf ("/monitoring/logs?component=gstreamer&"
      "correlation_id=%s", escaped);
  doc = apm_test_http_json (session, "GET", url, path, 200);
  fail_unless (find_gst_line (json_object_get_array_member
          (json_node_get_object (doc), "logs"), "bridge message") != NULL,
      "GET %s misses the bridged line", path);
  json_node_unref (doc);

  g_free (path);
  g_free (escaped);
  g_free (source);
  g_free (job.cid);
  gst_object_unref (sink);
  gst_object_unref (loose);
  apm_test_stop_untrack (p);
}

GST_END_TEST;

/* --- process resources --- */

static gdouble
metric (GHashTable * metrics, const gchar * name)
{
  gdouble v = -1;

  fail_unless (apm_test_metric_value (metrics, &v, name, NULL),
      "no %s in /metrics", name);
  return v;
}

typedef struct
{
  gdouble cpu0;
} CpuWait;

static gboolean
cpu_moved (GHashTable * metrics, gpointer user_data)
{
  CpuWait *w = user_data;
  gdouble v;

  return apm_test_metric_value (metrics, &v, "process_cpu_seconds_total",
      NULL) && v >= w->cpu0 + 0.05;
}

/* start time of this process from /proc, Unix seconds */
static gdouble
own_start_time (void)
{
  gchar *stat = NULL, *text = NULL, *p;
  unsigned long long start_ticks = 0;
  gdouble btime = 0;

  fail_unless (g_file_get_contents ("/proc/self/stat", &stat, NULL, NULL));
  p = strrchr (stat, ')');
  fail_unless (p && sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
          "%*u %*u %*u %*d %*d %*d %*d %*d %*d %llu", &start_ticks) == 1);
  fail_unless (g_file_get_contents ("/proc/stat", &text, NULL, NULL));
  p = strstr (text, "\nbtime ");
  fail_unless (p != NULL);
  btime = g_ascii_strtod (p + 7, NULL);
  g_free (stat);
  g_free (text);
  return btime + (gdouble) start_ticks / sysconf (_SC_CLK_TCK);
}

/* non-live: runs as fast as the CPU allows */
#define BUSY_PIPELINE "audiotestsrc wave=white-noise samplesperbuffer=4096 ! " \
  "audioconvert ! audioresample ! audio/x-raw,rate=22050 ! fakesink"

GST_START_TEST (test_process_metrics)
{
  GstElement *busy = apm_test_parse_tracked (BUSY_PIPELINE, "busy");
  GHashTable *m;
  CpuWait w;
  gdouble cpu1, rss, fds, max_fds, start, now, threads;
  guint64 own_rss;
  guint own_fds;

  gst_element_set_state (busy, GST_STATE_PLAYING);
  m = apm_test_fetch_metrics (session, url);
  w.cpu0 = metric (m, "process_cpu_seconds_total");
  g_hash_table_unref (m);

  /* sampled every second: it moves while the pipeline burns CPU */
  m = apm_test_wait_metrics (session, url, cpu_moved, &w,
      APM_TEST_SCALED (SECONDS (5)));
  cpu1 = metric (m, "process_cpu_seconds_total");
  fail_unless (cpu1 >= w.cpu0 + 0.05, "process_cpu_seconds_total went from "
      "%.3f to %.3f in 5 s of a CPU-bound pipeline", w.cpu0, cpu1);

  rss = metric (m, "process_resident_memory_bytes");
  own_rss = apm_test_self_rss ();
  fail_unless (rss > 1024 * 1024, "process_resident_memory_bytes %.0f", rss);
  fail_unless (rss > own_rss / 2 && rss < own_rss * 2,
      "process_resident_memory_bytes %.0f, VmRSS %" G_GUINT64_FORMAT, rss,
      own_rss);
  fail_unless (metric (m, "process_virtual_memory_bytes") >= rss);

  fds = metric (m, "process_open_fds");
  max_fds = metric (m, "process_max_fds");
  own_fds = apm_test_count_fds ();
  fail_unless (fds >= 3, "process_open_fds %.0f", fds);
  fail_unless (fds <= max_fds, "open fds %.0f > max %.0f", fds, max_fds);
  fail_unless (ABS (fds - own_fds) <= 20, "process_open_fds %.0f, "
      "/proc/self/fd has %u", fds, own_fds);

  start = metric (m, "process_start_time_seconds");
  now = g_get_real_time () / 1e6;
  fail_unless (start <= now && start > now - 3600,
      "process_start_time_seconds %.3f, now %.3f", start, now);
  fail_unless (ABS (start - own_start_time ()) < 1.5,
      "process_start_time_seconds %.3f, /proc says %.3f", start,
      own_start_time ());
  threads = metric (m, "process_threads");
  fail_unless (threads >= 3, "process_threads %.0f", threads);
  g_hash_table_unref (m);
  apm_test_stop_untrack (busy);
}

GST_END_TEST;

/* the id of this process's thread named @name, or 0 */
static gint
thread_named (const gchar * name)
{
  GDir *dir = g_dir_open ("/proc/self/task", 0, NULL);
  const gchar *entry;
  gint tid = 0;

  fail_unless (dir != NULL);
  while (!tid && (entry = g_dir_read_name (dir))) {
    gchar *path = g_strdup_printf ("/proc/self/task/%s/comm", entry);
    gchar *comm = NULL;

    if (g_file_get_contents (path, &comm, NULL, NULL)
        && strcmp (g_strchomp (comm), name) == 0)
      tid = atoi (entry);
    g_free (comm);
    g_free (path);
  }
  g_dir_close (dir);
  return tid;
}

static gint
wait_thread_named (const gchar * name)
{
  gint64 deadline = apm_test_deadline_in (5);
  gint tid;

  while (!(tid = thread_named (name)) && g_get_monotonic_time () < deadline)
    g_usleep (10 * 1000);
  fail_unless (tid > 0, "no thread named %s", name);
  return tid;
}

typedef struct
{
  gchar *tid;
  const gchar *want;            /* the thread label looked for, or NULL */
  gchar *thread;                /* label of the series of tid */
  gdouble value;
} ThreadSeries;

/* the apm_thread_cpu_seconds_total series of ts->tid: ts->thread gets its
 * label (the one named ts->want if there are several: a retired series
 * stays a while), ts->value its value */
static gboolean
find_thread_series (GHashTable * metrics, gpointer user_data)
{
  ThreadSeries *ts = user_data;
  GHashTableIter it;
  const gchar *key;
  gdouble *v;
  gchar *needle = g_strdup_printf (",tid=\"%s\"}", ts->tid);
  gboolean found = FALSE;

  g_clear_pointer (&ts->thread, g_free);
  g_hash_table_iter_init (&it, metrics);
  while (!found && g_hash_table_iter_next (&it, (gpointer *) & key,
          (gpointer *) & v)) {
    const gchar *t;

    if (!g_str_has_prefix (key, "apm_thread_cpu_seconds_total{thread=\"")
        || !g_str_has_suffix (key, needle))
      continue;
    t = key + strlen ("apm_thread_cpu_seconds_total{thread=\"");
    g_free (ts->thread);
    ts->thread = g_strndup (t, strstr (t, needle) - 1 - t);
    ts->value = *v;
    found = !ts->want || strcmp (ts->thread, ts->want) == 0;
  }
  g_free (needle);
  return found && ts->value > 0;
}

/* The series of a streaming thread exists, is labelled with the thread's
 * name and grows while it works.  Streaming threads come from a pool: the
 * same thread (tid) runs one pipeline's task, then another's. */
GST_START_TEST (test_thread_cpu_series)
{
  GstElement *warm = apm_test_parse_tracked ("audiotestsrc name=warmsrc is-live=true "
      "samplesperbuffer=441 ! fakesink", "warmthreads");
  GstElement *busy;
  ThreadSeries first = { NULL, NULL, NULL, 0 };
  ThreadSeries later = { NULL, "busytsrc:src", NULL, 0 };
  GHashTable *m;
  gint tid;
  gboolean grown = FALSE;

  /* a first pipeline: its source thread gets a series, then goes back to
   * the pool when the pipeline stops */
  gst_element_set_state (warm, GST_STATE_PLAYING);
  first.tid = g_strdup_printf ("%d", wait_thread_named ("warmsrc:src"));
  m = apm_test_wait_metrics (session, url, find_thread_series, &first,
      APM_TEST_SCALED (SECONDS (5)));
  g_hash_table_unref (m);
  GST_INFO ("warmsrc:src is tid %s, series thread=\"%s\"", first.tid,
      GST_STR_NULL (first.thread));
  apm_test_stop_untrack (warm);
  g_clear_pointer (&first.tid, g_free);
  g_clear_pointer (&first.thread, g_free);

  busy = apm_test_parse_tracked ("audiotestsrc name=busytsrc wave=white-noise "
      "samplesperbuffer=4096 ! audioconvert ! audioresample ! "
      "audio/x-raw,rate=22050 ! fakesink", "busythreads");
  gst_element_set_state (busy, GST_STATE_PLAYING);
  tid = wait_thread_named ("busytsrc:src");
  first.tid = g_strdup_printf ("%d", tid);
  first.want = "busytsrc:src";
  m = apm_test_wait_metrics (session, url, find_thread_series, &first,
      APM_TEST_SCALED (SECONDS (5)));
  g_hash_table_unref (m);
  fail_unless (first.thread != NULL, "no apm_thread_cpu_seconds_total "
      "series with tid=\"%s\" (busytsrc:src) and a value > 0 within 5 s",
      first.tid);
  fail_unless (strcmp (first.thread, "busytsrc:src") == 0,
      "tid %s now runs busytsrc:src but its only series is labelled "
      "thread=\"%s\": a pooled thread keeps its first name", first.tid,
      first.thread);
  fail_unless (first.value > 0);

  /* a busy thread's counter grows (sampled each second) */
  later.tid = g_strdup (first.tid);
  {
    gint64 deadline = apm_test_deadline_in (5);

    do {
      g_usleep (100 * 1000);
      m = apm_test_fetch_metrics (session, url);
      grown = find_thread_series (m, &later) && later.value > first.value;
      g_hash_table_unref (m);
    } while (!grown && g_get_monotonic_time () < deadline);
  }
  fail_unless (grown,
      "thread CPU of busytsrc:src stayed at %.3f s", first.value);
  g_free (first.tid);
  g_free (first.thread);
  g_free (later.tid);
  g_free (later.thread);
  apm_test_stop_untrack (busy);
}

GST_END_TEST;

static Suite *
logs_suite (void)
{
  Suite *s = suite_create ("apm_logs");
  TCase *tc = tcase_create ("logs");
  TCase *res = tcase_create ("resources");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_log_file_lines);
  tcase_add_test (tc, test_job_lines_carry_correlation_id);
  tcase_add_test (tc, test_logs_endpoint_filters);
  tcase_add_test (tc, test_log_file_reopened);
  tcase_add_test (tc, test_log_file_rotated_by_size);
  tcase_add_test (tc, test_log_file_reopened_on_sighup);
  tcase_add_test (tc, test_gst_debug_bridge);
  /* last: a failure leaves bad bytes in the file */
  tcase_add_test (tc, test_log_lines_utf8_with_bad_names);

  suite_add_tcase (s, res);
  tcase_add_checked_fixture (res, setup, teardown);
  tcase_add_test (res, test_process_metrics);
  tcase_add_test (res, test_thread_cpu_series);
  return s;
}

static void
remove_log_dir (void)
{
  GDir *dir;
  const gchar *name;

  if (!log_dir || !(dir = g_dir_open (log_dir, 0, NULL)))
    return;
  while ((name = g_dir_read_name (dir))) {
    gchar *p = g_build_filename (log_dir, name, NULL);

    g_remove (p);
    g_free (p);
  }
  g_dir_close (dir);
  g_rmdir (log_dir);
}

int
main (int argc, char **argv)
{
  gchar *tracers;
  gint ret;

  log_dir = g_dir_make_tmp ("apm-logs-XXXXXX", NULL);
  g_assert (log_dir != NULL);
  log_path = g_build_filename (log_dir, "apm.log", NULL);
  /* registered first, so it runs last: after gst_deinit stopped the
   * service */
  atexit (remove_log_dir);
  tracers = g_strdup_printf ("apm(port=0,quiet=true,log-file=%s,"
      "gst-debug=\"%s\")", log_path, BRIDGE_SPEC);
  apm_test_prepare_env (tracers);
  g_free (tracers);
  g_setenv ("CK_FORK", "no", TRUE);
  gst_check_init (&argc, &argv);
  GST_DEBUG_CATEGORY_INIT (bridge_cat, "bridgetest", 0, "bridged by the "
      "tracer's gst-debug param");
  GST_DEBUG_CATEGORY_INIT (other_cat, "bridgeother", 0, "not bridged");
  GST_DEBUG_CATEGORY_INIT (own_cat, "apmbridgetest", 0, "named like the "
      "monitor's own categories");
  ret = gst_check_run_suite (logs_suite (), "apm_logs", __FILE__);
  return ret;
}
