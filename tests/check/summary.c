/* gst-apm tests: the end-of-run summary (tracer param summary=)
 *
 * Through gst-launch-1.0, as a user runs it: a table on stderr sorted by
 * own time, the report written as .json or .html (names escaped), and a
 * clear warning for another extension.  Spawns gst-launch-1.0, so it stays
 * out of the ASan tier (an uninstrumented program cannot load the
 * instrumented plugin).
 */
#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <signal.h>
#include <gio/gio.h>

#include "apmtestutil.h"

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

static gchar *tmp_dir;

static void
summary_setup (void)
{
  tmp_dir = g_dir_make_tmp ("apm-summary-XXXXXX", NULL);
  fail_unless (tmp_dir != NULL);
}

static void
summary_teardown (void)
{
  GDir *dir = g_dir_open (tmp_dir, 0, NULL);
  const gchar *name;

  while (dir && (name = g_dir_read_name (dir))) {
    gchar *path = g_build_filename (tmp_dir, name, NULL);

    g_unlink (path);
    g_free (path);
  }
  if (dir)
    g_dir_close (dir);
  g_rmdir (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
}

/* gst-launch-1.0 -q @launch with GST_TRACERS=apm(@params); its stderr */
static gchar *
launch (const gchar * params, const gchar * launch_line)
{
  gchar *cmd = g_strdup_printf ("gst-launch-1.0 -q %s", launch_line);
  gchar *tracers = g_strdup_printf ("apm(%s)", params);
  gchar **argv = NULL, **envp = g_get_environ ();
  gchar *out = NULL, *err = NULL;
  GError *error = NULL;
  gint status = -1;

  fail_unless (g_shell_parse_argv (cmd, NULL, &argv, NULL));
  envp = g_environ_setenv (envp, "GST_TRACERS", tracers, TRUE);
  fail_unless (g_spawn_sync (NULL, argv, envp, G_SPAWN_SEARCH_PATH, NULL,
          NULL, &out, &err, &status, &error), "gst-launch-1.0: %s",
      error ? error->message : "?");
  fail_unless (g_spawn_check_wait_status (status, NULL),
      "gst-launch-1.0 %s failed; stderr:\n%s", launch_line, err);
  g_free (out);
  g_strfreev (argv);
  g_strfreev (envp);
  g_free (tracers);
  g_free (cmd);
  return err;
}

#define SUMMARY_LINE "audiotestsrc num-buffers=200 samplesperbuffer=441 ! " \
  "audioconvert ! identity name=heavy sleep-time=1000 ! queue ! " \
  "fakesink sync=false"

/* the table: a row per element, sorted by own time (total ms), the
 * latency of the path, the queue's fill, the recommendations */
GST_START_TEST (test_summary_stderr)
{
  static const gchar *const elements[] = { "audiotestsrc0", "audioconvert0",
    "heavy", "queue0", "fakesink0", NULL
  };
  gchar *err = launch ("port=0,quiet=true,summary=true", SUMMARY_LINE);
  gchar **lines = g_strsplit (err, "\n", -1);
  gint header = -1;
  guint rows = 0;
  gdouble last = INFINITY;

  for (guint i = 0; lines[i]; i++)
    if (strstr (lines[i], "element") && strstr (lines[i], "total ms"))
      header = i;
  fail_unless (strstr (err, "apm summary: pipeline pipeline0") != NULL,
      "no summary on stderr:\n%s", err);
  fail_unless (header > 0, "no table header:\n%s", err);
  for (guint i = header + 1; lines[i] && g_str_has_prefix (lines[i], "  ")
      && !g_str_has_prefix (lines[i], "  latency")
      && !g_str_has_prefix (lines[i], "  queue ")
      && !g_str_has_prefix (lines[i], "  recommendations"); i++) {
    gchar **cols = g_strsplit_set (g_strstrip (lines[i]), " ", -1);
    GPtrArray *words = g_ptr_array_new ();
    const gchar *total;

    for (guint c = 0; cols[c]; c++)
      if (*cols[c])
        g_ptr_array_add (words, cols[c]);
    fail_unless (words->len >= 9, "short row: %s", lines[i]);
    fail_unless (g_strv_contains (elements, words->pdata[0]),
        "unknown element row: %s", lines[i]);
    /* element factory thread... buffers total mean p95 share rt */
    total = words->pdata[words->len - 5];
    if (g_strcmp0 (total, "-") != 0) {
      gdouble v = g_ascii_strtod (total, NULL);

      fail_unless (v <= last, "rows not sorted by own time:\n%s", err);
      last = v;
    }
    rows++;
    g_ptr_array_unref (words);
    g_strfreev (cols);
  }
  fail_unless_equals_int (rows, g_strv_length ((gchar **) elements));
  /* the 1 ms sleep per buffer makes it the slowest */
  fail_unless (strstr (lines[header + 1], "heavy") != NULL,
      "heavy is not on top:\n%s", err);
  fail_unless (strstr (err, "latency audiotestsrc0 -> fakesink0: mean") !=
      NULL, "no end-to-end latency line:\n%s", err);
  fail_unless (strstr (err, "queue queue0:") != NULL, "no queue line");
  fail_unless (strstr (err, "recommendations") != NULL);
  g_strfreev (lines);
  g_free (err);
}

GST_END_TEST;

GST_START_TEST (test_summary_json)
{
  gchar *path = g_build_filename (tmp_dir, "run.json", NULL);
  gchar *params = g_strdup_printf ("port=0,quiet=true,summary=%s", path);
  gchar *err = launch (params, SUMMARY_LINE), *text = NULL;
  JsonParser *parser = json_parser_new ();
  GError *error = NULL;
  JsonNode *root;
  JsonObject *p;

  fail_unless (strstr (err, "apm summary") == NULL,
      "the table too with a path");
  fail_unless (g_file_get_contents (path, &text, NULL, NULL),
      "no summary file");
  fail_unless (json_parser_load_from_data (parser, text, -1, &error),
      "not JSON: %s", error ? error->message : "?");
  root = json_parser_get_root (parser);
  apm_test_member_string (json_node_get_object (root), "generated_at");
  apm_test_member_object (json_node_get_object (root), "window");
  p = report_pipeline (root, "pipeline0");
  fail_unless (p != NULL, "pipeline0 not in the summary");
  check_pipeline_keys (p);
  fail_unless_equals_string (json_object_get_string_member
      (json_array_get_object_element (json_object_get_array_member (p,
                  "elements"), 0), "name"), "heavy");
  g_object_unref (parser);
  g_free (text);
  g_free (err);
  g_free (params);
  g_free (path);
}

GST_END_TEST;

GST_START_TEST (test_summary_html)
{
  gchar *path = g_build_filename (tmp_dir, "run.html", NULL);
  gchar *params = g_strdup_printf ("port=0,quiet=true,summary=%s", path);
  gchar *err = launch (params, "audiotestsrc num-buffers=50 ! "
      "identity 'name=a<b>&c' ! fakesink sync=false"), *html = NULL;

  fail_unless (g_file_get_contents (path, &html, NULL, NULL),
      "no summary file");
  check_html (html);
  fail_unless (strstr (html, "a&lt;b&gt;&amp;c") != NULL,
      "the element's name is not there, escaped");
  fail_unless (strstr (html, "a<b>") == NULL, "a name reached the page "
      "unescaped");
  g_free (html);
  g_free (err);
  g_free (params);
  g_free (path);
}

GST_END_TEST;

GST_START_TEST (test_summary_bad_extension)
{
  gchar *path = g_build_filename (tmp_dir, "run.txt", NULL);
  gchar *params = g_strdup_printf ("port=0,quiet=true,summary=%s", path);
  gchar *err = launch (params, "audiotestsrc num-buffers=20 ! fakesink");

  fail_unless (strstr (err, "apm: warning: param summary=") != NULL
      && strstr (err, ".json or .html") != NULL,
      "no clear warning for summary=%s:\n%s", path, err);
  fail_if (g_file_test (path, G_FILE_TEST_EXISTS), "a file written anyway");
  fail_unless (strstr (err, "apm summary") == NULL);
  g_free (err);
  g_free (params);
  g_free (path);
}

GST_END_TEST;

/* all of @stream, as text */
static gchar *
read_all (GInputStream * stream)
{
  GString *text = g_string_new (NULL);
  gchar buf[4096];
  gssize n;

  while ((n = g_input_stream_read (stream, buf, sizeof buf, NULL, NULL)) > 0)
    g_string_append_len (text, buf, n);
  return g_string_free (text, FALSE);
}

/* Ctrl-C: gst-launch-1.0 stops the pipeline and exits; the summary is
 * printed on the way out */
GST_START_TEST (test_summary_interrupt)
{
  GSubprocessLauncher *l = g_subprocess_launcher_new
      (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  GSubprocess *proc;
  GDataInputStream *out;
  GError *error = NULL;
  gchar *line, *err, *rest;
  gboolean playing = FALSE;

  g_subprocess_launcher_setenv (l, "GST_TRACERS",
      "apm(port=0,quiet=true,summary=true)", TRUE);
  proc = g_subprocess_launcher_spawn (l, &error, "gst-launch-1.0",
      "audiotestsrc", "is-live=true", "!", "audioconvert", "!", "fakesink",
      NULL);
  fail_unless (proc != NULL, "gst-launch-1.0: %s",
      error ? error->message : "?");
  /* gst-launch-1.0 handles SIGINT from before it sets PLAYING */
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (proc));
  while (!playing && (line = g_data_input_stream_read_line_utf8 (out, NULL,
              NULL, NULL))) {
    playing = strstr (line, "Setting pipeline to PLAYING") != NULL;
    g_free (line);
  }
  fail_unless (playing, "gst-launch-1.0 never reached PLAYING");
  g_subprocess_send_signal (proc, SIGINT);
  rest = read_all (G_INPUT_STREAM (out));
  err = read_all (g_subprocess_get_stderr_pipe (proc));
  fail_unless (g_subprocess_wait (proc, NULL, NULL));
  fail_unless (strstr (err, "apm summary: pipeline pipeline0 (live") != NULL,
      "no summary after Ctrl-C; stderr:\n%s\nstdout:\n%s", err, rest);
  fail_unless (strstr (err, "audioconvert0") != NULL);
  g_free (err);
  g_free (rest);
  g_object_unref (out);
  g_object_unref (proc);
  g_object_unref (l);
}

GST_END_TEST;

/* an application that stops its pipeline and exits without gst_deinit()
 * (Python): the summary comes from the exit handler */
GST_START_TEST (test_summary_exit_without_deinit)
{
  const gchar *argv[] = { "/usr/bin/python3", "-c",
    "import gi\n"
        "gi.require_version('Gst', '1.0')\n"
        "from gi.repository import Gst\n"
        "Gst.init(None)\n"
        "p = Gst.parse_launch('audiotestsrc num-buffers=20 ! audioconvert ! "
        "fakesink')\n"
        "p.set_state(Gst.State.PLAYING)\n"
        "p.get_bus().timed_pop_filtered(10 * Gst.SECOND, "
        "Gst.MessageType.EOS)\n" "p.set_state(Gst.State.NULL)\n", NULL
  };
  gchar **envp = g_environ_setenv (g_get_environ (), "GST_TRACERS",
      "apm(port=0,quiet=true,summary=true)", TRUE);
  gchar *err = NULL;
  gint status = -1;

  const gchar *probe[] = { argv[0], "-c", "import gi\n"
        "gi.require_version('Gst', '1.0')\n"
        "from gi.repository import Gst\n", NULL
  };

  /* the Debian roots of scripts/test-roots.sh have no PyGObject */
  if (!g_spawn_sync (NULL, (gchar **) probe, NULL,
          G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
          NULL, NULL, &status, NULL) || !g_spawn_check_wait_status (status,
          NULL)) {
    g_printerr ("no python3 with GStreamer's introspection: skipped\n");
    g_strfreev (envp);
    return;
  }
  fail_unless (g_spawn_sync (NULL, (gchar **) argv, envp,
          G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err, &status, NULL));
  fail_unless (g_spawn_check_wait_status (status, NULL), "python3 failed:\n%s",
      err);
  fail_unless (strstr (err, "apm summary: pipeline pipeline0") != NULL
      && strstr (err, "audioconvert0") != NULL,
      "no summary at exit:\n%s", err);
  g_free (err);
  g_strfreev (envp);
}

GST_END_TEST;

static Suite *
summary_suite (void)
{
  Suite *s = suite_create ("apm_summary");
  TCase *tc = tcase_create ("summary");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, summary_setup, summary_teardown);
  tcase_add_test (tc, test_summary_stderr);
  tcase_add_test (tc, test_summary_json);
  tcase_add_test (tc, test_summary_html);
  tcase_add_test (tc, test_summary_bad_extension);
  tcase_add_test (tc, test_summary_interrupt);
  tcase_add_test (tc, test_summary_exit_without_deinit);
  return s;
}

int
main (int argc, char **argv)
{
  /* no tracer here: the gst-launch-1.0 children get their own */
  apm_test_prepare_env (NULL);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (summary_suite (), "apm_summary", __FILE__);
}
