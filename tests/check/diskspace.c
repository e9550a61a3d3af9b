/* gst-apm tests: free space of filesystems (issues 5 and 7)
 *
 * Runs with GST_TRACERS="apm(port=0,quiet=true,config=FILE)", CK_FORK=no
 * and APM_SERIES_GRACE_SECONDS=0 (retired series leave /metrics at the
 * next sweep).  A pipeline that writes or reads local files gets a health
 * check "disk:<mount point>" per filesystem, with the figures statvfs
 * gives, and the gauges apm_filesystem_{avail,free,size}_bytes{mount};
 * both go when no pipeline uses the filesystem any more.  The
 * configuration file sets their limits ("disk_space"); its path checks
 * measure the same figures against their min_free_bytes.
 */
#include <gst/check/gstcheck.h>
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>
#include <sys/statvfs.h>

#include "apmtestutil.h"
#include "apm-service.h"
#include "apm-config.h"

#define T (APM_TEST_SCALED (G_USEC_PER_SEC))

static gchar *tmp_dir;
static gchar *config_path;
static SoupSession *session;
static gchar *base_url;
static GPtrArray *pipelines;    /* stopped at teardown */

/* --- what the test measures itself --- */

typedef struct
{
  gdouble avail, free, size;
} Space;

static Space
space_of (const gchar * path)
{
  struct statvfs st;
  Space s;

  fail_unless (statvfs (path, &st) == 0, "statvfs %s failed", path);
  s.avail = (gdouble) st.f_bavail * st.f_frsize;
  s.free = (gdouble) st.f_bfree * st.f_frsize;
  s.size = (gdouble) st.f_blocks * st.f_frsize;
  return s;
}

/* Free space moves while other programs write to the filesystem, so a
 * figure the service measured is not compared with one statvfs reading of
 * ours: a thread samples statvfs continuously (every millisecond) over a
 * window that surely holds the service's measurement (it starts before the
 * check's run began and ends after we fetched the result), and the figure
 * must lie within the range the samples spanned.  Only a write undone
 * between two samples escapes them: the largest change seen between two
 * samples plus SAMPLE_SLACK_BYTES covers it. */
#define SAMPLE_SLACK_BYTES (4.0 * 1024 * 1024)

typedef struct
{
  const gchar *path;
  GThread *thread;
  gint stop;
  gint64 start_wall_us;         /* g_get_real_time () after the first sample */
  Space lo, hi;                 /* each figure's minimum and maximum */
  gdouble step;                 /* largest change between two samples */
  guint samples;
} Sampler;

static void
sampler_add (Sampler * smp, const Space * s, const Space * prev)
{
  smp->lo.avail = MIN (smp->lo.avail, s->avail);
  smp->lo.free = MIN (smp->lo.free, s->free);
  smp->lo.size = MIN (smp->lo.size, s->size);
  smp->hi.avail = MAX (smp->hi.avail, s->avail);
  smp->hi.free = MAX (smp->hi.free, s->free);
  smp->hi.size = MAX (smp->hi.size, s->size);
  smp->step = MAX (smp->step, MAX (fabs (s->avail - prev->avail),
          fabs (s->free - prev->free)));
  smp->samples++;
}

/* no fail_unless here: not the test's thread */
static gpointer
sampler_thread (gpointer data)
{
  Sampler *smp = data;
  Space prev = smp->lo, s;
  struct statvfs st;
  gboolean last;

  do {
    /* one more sample after stop was asked */
    last = g_atomic_int_get (&smp->stop);
    if (statvfs (smp->path, &st) == 0) {
      s.avail = (gdouble) st.f_bavail * st.f_frsize;
      s.free = (gdouble) st.f_bfree * st.f_frsize;
      s.size = (gdouble) st.f_blocks * st.f_frsize;
      sampler_add (smp, &s, &prev);
      prev = s;
    }
    if (!last)
      g_usleep (1000);
  } while (!last);
  return NULL;
}

/* the one running (a failed test leaves it to the teardown) */
static Sampler sampler;

static Sampler *
sampler_start (const gchar * path)
{
  Sampler *smp = &sampler;

  g_assert (smp->thread == NULL);
  memset (smp, 0, sizeof *smp);
  smp->path = path;
  smp->lo = smp->hi = space_of (path);
  smp->samples = 1;
  smp->start_wall_us = g_get_real_time ();
  smp->thread = g_thread_new ("statvfs-sampler", sampler_thread, smp);
  return smp;
}

static void
sampler_stop (Sampler * smp)
{
  if (!smp->thread)
    return;
  g_atomic_int_set (&smp->stop, 1);
  g_thread_join (smp->thread);
  smp->thread = NULL;
}

/* @value (a figure the service measured inside the sampler's window) lies
 * within [@lo, @hi], the range of the samples */
#define assert_sampled(smp, value, lo, hi, what) G_STMT_START {           \
  gdouble _slack = (smp)->step + SAMPLE_SLACK_BYTES;                    \
  gdouble _v = (value);                                                 \
  fail_unless (_v >= (lo) - _slack && _v <= (hi) + _slack,              \
      "%s %.0f, statvfs gave %.0f to %.0f over the window (%u samples, " \
      "largest step %.0f)", what, _v, (gdouble) (lo), (gdouble) (hi),   \
      (smp)->samples, (smp)->step);                                     \
} G_STMT_END

/* a filesystem's size does not move: one of the sampled values, exactly */
#define assert_size(smp, value, what) G_STMT_START {                      \
  gdouble _v = (value);                                                 \
  fail_unless (_v >= (smp)->lo.size && _v <= (smp)->hi.size,            \
      "%s %.0f, statvfs gave %.0f to %.0f", what, _v, (smp)->lo.size,   \
      (smp)->hi.size);                                                  \
} G_STMT_END

/* The mount point of @path as df(1) says: an oracle independent of ours */
static gchar *
df_mount (const gchar * path)
{
  const gchar *argv[] = { "df", "--output=target", path, NULL };
  gchar *out = NULL, **lines, *mount;
  gint status;
  GError *error = NULL;

  fail_unless (g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH
          | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, &status,
          &error), "df: %s", error ? error->message : "?");
  fail_unless (g_spawn_check_wait_status (status, NULL), "df failed");
  lines = g_strsplit (out, "\n", -1);
  fail_unless (g_strv_length (lines) >= 2, "df said '%s'", out);
  mount = g_strdup (g_strstrip (lines[1]));
  g_strfreev (lines);
  g_free (out);
  return mount;
}

/* --- fixture --- */

static void
setup (void)
{
  pipelines = g_ptr_array_new ();
  if (base_url)
    return;
  base_url = apm_test_start_service ();
  session = apm_test_session_new ();
}

static void
teardown (void)
{
  sampler_stop (&sampler);
  for (guint i = 0; i < pipelines->len; i++) {
    GstElement *p = g_ptr_array_index (pipelines, i);

    gst_element_set_state (p, GST_STATE_NULL);
    gst_object_unref (p);
  }
  g_clear_pointer (&pipelines, g_ptr_array_unref);
}

static GstElement *
launch (const gchar * description, const gchar * name)
{
  GstElement *p = apm_test_parse (description, name);

  g_ptr_array_add (pipelines, p);
  return p;
}

/* stops and forgets one of the test's pipelines */
static void
stop (GstElement * p)
{
  fail_unless (g_ptr_array_remove (pipelines, p));
  apm_test_stop (p);
}

static gchar *
tmp_file (const gchar * name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

/* --- /health/monitoring --- */

typedef struct
{
  const gchar *name;
  gboolean present;
  const gchar *pipelines[3];    /* the check's details.pipelines, if set */
  gint64 run_since_us;          /* if not 0: a run that began after it */
} CheckQuery;

static gboolean
strv_equals_array (const gchar * const *v, JsonArray * a)
{
  guint n = g_strv_length ((gchar **) v);

  if (!a || json_array_get_length (a) != n)
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (json_array_get_string_element (a, i), v[i]) != 0)
      return FALSE;
  return TRUE;
}

static gboolean
check_matches (JsonNode * doc, gpointer user_data)
{
  CheckQuery *q = user_data;
  JsonObject *c = apm_test_health_check (doc, q->name), *details;

  if (!q->present)
    return c == NULL;
  if (!c || g_strcmp0 (json_object_get_string_member (c, "status"),
          "unknown") == 0)
    return FALSE;
  if (q->run_since_us) {
    /* last_run is when the run ended */
    if (!json_object_has_member (c, "last_run")
        || apm_test_parse_time (json_object_get_string_member (c,
                "last_run")) - json_object_get_double_member (c,
            "duration_seconds") * G_USEC_PER_SEC < q->run_since_us)
      return FALSE;
  }
  if (!q->pipelines[0])
    return TRUE;
  details = json_object_get_object_member (c, "details");
  return details && json_object_has_member (details, "pipelines")
      && strv_equals_array (q->pipelines,
      json_object_get_array_member (details, "pipelines"));
}

/* Waits until check @name has run (with details.pipelines equal to
 * @pipelines, NULL-terminated, if given) or, with !@present, is gone. */
static JsonNode *
wait_check (const gchar * name, gboolean present, const gchar * p0,
    const gchar * p1)
{
  CheckQuery q = { name, present, {p0, p0 ? p1 : NULL, NULL}, 0 };
  JsonNode *doc = apm_test_wait_json (session, base_url, "/health/monitoring",
      check_matches, &q, 10 * G_USEC_PER_SEC);
  gchar *text = json_to_string (doc, TRUE);

  fail_unless (check_matches (doc, &q), "check %s %s%s%s%s%s: %s", name,
      present ? "did not run" : "still listed", p0 ? " for " : "",
      p0 ? p0 : "", p1 ? " and " : "", p1 ? p1 : "", text);
  g_free (text);
  return doc;
}

/* Waits until check @name (for pipeline @p0, if given) has completed a run
 * that began after @smp started sampling: its figures were measured inside
 * the sampler's window. */
static JsonNode *
wait_check_in (const Sampler * smp, const gchar * name, const gchar * p0)
{
  CheckQuery q = { name, TRUE, {p0, NULL, NULL}, smp->start_wall_us };
  JsonNode *doc = apm_test_wait_json (session, base_url, "/health/monitoring",
      check_matches, &q, APM_TEST_SCALED (10 * G_USEC_PER_SEC));
  gchar *text = json_to_string (doc, TRUE);

  fail_unless (check_matches (doc, &q), "check %s ran no more since "
      "sampling began: %s", name, text);
  g_free (text);
  return doc;
}

/* the configuration file sets "degraded_free_bytes": 1e18 (no disk has
 * that much) and keeps the default unhealthy limit, 5 %: the status the
 * service's own figures give */
static const gchar *
expected_status (gdouble avail, gdouble size)
{
  return avail / size < 0.05 ? "unhealthy" : "degraded";
}

/* --- metrics --- */

typedef struct
{
  const gchar *mount;
  gboolean present;
} GaugeQuery;

static gboolean
gauges_match (GHashTable * metrics, gpointer user_data)
{
  GaugeQuery *q = user_data;
  const gchar *names[] = { "apm_filesystem_avail_bytes",
    "apm_filesystem_free_bytes", "apm_filesystem_size_bytes"
  };
  gdouble v;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (apm_test_metric_value (metrics, &v, names[i], "mount", q->mount,
            NULL) != q->present)
      return FALSE;
  return TRUE;
}

/* --- tests --- */

/* audiotestsrc ! wavenc ! filesink into the temporary directory: a check
 * for its filesystem with the figures statvfs gives, and the gauges; when
 * the pipeline stops, both go. */
GST_START_TEST (test_pipeline_file_gets_disk_check)
{
  gchar *file = tmp_file ("x.wav"), *desc, *mount, *name, *url = NULL;
  GstElement *p;
  JsonNode *doc;
  JsonObject *c, *details;
  JsonArray *paths;
  GHashTable *metrics;
  GaugeQuery gq;
  Sampler *smp;
  gdouble v, free_bytes, total_bytes;

  mount = df_mount (tmp_dir);
  name = g_strconcat ("disk:", mount, NULL);
  desc = g_strdup_printf ("audiotestsrc num-buffers=20 ! wavenc ! "
      "filesink location=%s", file);
  p = launch (desc, "apm_disk_writer");
  apm_test_run_to_eos (p, &url, NULL);
  g_free (url);
  fail_unless (g_file_test (file, G_FILE_TEST_IS_REGULAR));

  /* the check's figures and the gauges, measured while we sample */
  smp = sampler_start (tmp_dir);
  doc = wait_check_in (smp, name, "apm_disk_writer");
  gq.mount = mount;
  gq.present = TRUE;
  metrics = apm_test_wait_metrics (session, base_url, gauges_match, &gq,
      APM_TEST_SCALED (10 * G_USEC_PER_SEC));
  sampler_stop (smp);

  c = apm_test_health_check (doc, name);
  details = json_object_get_object_member (c, "details");
  fail_unless (details != NULL);
  fail_unless_equals_string (json_object_get_string_member (details,
          "mount"), mount);
  paths = json_object_get_array_member (details, "paths");
  fail_unless_equals_int (json_array_get_length (paths), 1);
  fail_unless_equals_string (json_array_get_string_element (paths, 0), file);
  free_bytes = json_object_get_int_member (details, "free_bytes");
  total_bytes = json_object_get_int_member (details, "total_bytes");
  assert_sampled (smp, free_bytes, smp->lo.avail, smp->hi.avail,
      "free_bytes");
  assert_size (smp, total_bytes, "total_bytes");
  fail_unless_equals_string (json_object_get_string_member (c, "status"),
      expected_status (free_bytes, total_bytes));
  fail_unless (fabs (json_object_get_double_member (details, "free_ratio") -
          free_bytes / total_bytes) < 1e-6);
  fail_unless (strstr (json_object_get_string_member (c, "message"),
          " free of ") != NULL, "'%s'", json_object_get_string_member (c,
          "message"));
  fail_unless (strstr (json_object_get_string_member (c, "message"),
          ", below ") != NULL, "'%s'", json_object_get_string_member (c,
          "message"));
  json_node_unref (doc);

  /* set by that run of the check or a later one, inside the window */
  fail_unless (gauges_match (metrics, &gq), "no apm_filesystem_* for %s",
      mount);
  fail_unless (apm_test_metric_value (metrics, &v,
          "apm_filesystem_avail_bytes", "mount", mount, NULL));
  assert_sampled (smp, v, smp->lo.avail, smp->hi.avail,
      "apm_filesystem_avail_bytes");
  fail_unless (apm_test_metric_value (metrics, &v,
          "apm_filesystem_free_bytes", "mount", mount, NULL));
  assert_sampled (smp, v, smp->lo.free, smp->hi.free,
      "apm_filesystem_free_bytes");
  fail_unless (apm_test_metric_value (metrics, &v,
          "apm_filesystem_size_bytes", "mount", mount, NULL));
  assert_size (smp, v, "apm_filesystem_size_bytes");
  g_hash_table_unref (metrics);

  /* no pipeline uses the filesystem: the check goes, the series retire */
  stop (p);
  doc = wait_check (name, FALSE, NULL, NULL);
  json_node_unref (doc);
  gq.present = FALSE;
  metrics = apm_test_wait_metrics (session, base_url, gauges_match, &gq,
      APM_TEST_SCALED (10 * G_USEC_PER_SEC));
  fail_unless (gauges_match (metrics, &gq), "apm_filesystem_* for %s stayed",
      mount);
  g_hash_table_unref (metrics);

  g_unlink (file);
  g_free (desc);
  g_free (file);
  g_free (name);
  g_free (mount);
}

GST_END_TEST;

/* One check per filesystem, whoever uses it: a reader (filesrc inside a
 * bin) and a writer of two pipelines share it; URLs (souphttpsrc) are not
 * files.  The check stays while one of them still uses it. */
GST_START_TEST (test_one_check_per_filesystem)
{
  gchar *in = tmp_file ("in.raw"), *out = tmp_file ("out.raw");
  gchar *mount = df_mount (tmp_dir), *name = g_strconcat ("disk:", mount,
      NULL);
  gchar *d1, *d2;
  GstElement *reader, *writer;
  JsonNode *doc;
  JsonArray *paths;

  fail_unless (g_file_set_contents (in, "0123456789", -1, NULL));
  /* READY is enough: files are found before any data flows (souphttpsrc
   * connects only in PAUSED) */
  d1 = g_strdup_printf ("souphttpsrc location=http://127.0.0.1:9/x.wav ! "
      "fakesink ( filesrc location=%s ! fakesink )", in);
  reader = launch (d1, "apm_disk_reader");
  fail_unless_equals_int (gst_element_set_state (reader, GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);
  d2 = g_strdup_printf ("fakesrc num-buffers=1 ! filesink location=%s", out);
  writer = launch (d2, "apm_disk_writer2");
  fail_unless_equals_int (gst_element_set_state (writer, GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);

  doc = wait_check (name, TRUE, "apm_disk_reader", "apm_disk_writer2");
  paths = json_object_get_array_member (json_object_get_object_member
      (apm_test_health_check (doc, name), "details"), "paths");
  fail_unless_equals_int (json_array_get_length (paths), 2);
  fail_unless_equals_string (json_array_get_string_element (paths, 0), in);
  fail_unless_equals_string (json_array_get_string_element (paths, 1), out);
  json_node_unref (doc);

  stop (reader);
  doc = wait_check (name, TRUE, "apm_disk_writer2", NULL);
  json_node_unref (doc);
  stop (writer);
  doc = wait_check (name, FALSE, NULL, NULL);
  json_node_unref (doc);

  g_unlink (in);
  g_unlink (out);
  g_free (d1);
  g_free (d2);
  g_free (in);
  g_free (out);
  g_free (name);
  g_free (mount);
}

GST_END_TEST;

/* The configuration file's path checks of the temporary directory: the
 * figures statvfs gives, measured against min_free_bytes (unhealthy below
 * it, degraded below twice it). */
GST_START_TEST (test_config_path_checks)
{
  const gchar *names[] = { "cfg_tmp_ok", "cfg_tmp_low", "cfg_tmp_full" };
  const gchar *want[] = { "healthy", "degraded", "unhealthy" };
  JsonNode *docs[G_N_ELEMENTS (names)];
  Sampler *smp;

  /* a run of each that began while we sample */
  smp = sampler_start (tmp_dir);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    docs[i] = wait_check_in (smp, names[i], NULL);
  sampler_stop (smp);

  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    JsonNode *doc = docs[i];
    JsonObject *c, *details;
    gchar what[64];

    c = apm_test_health_check (doc, names[i]);
    fail_unless_equals_string (json_object_get_string_member (c, "status"),
        want[i]);
    details = json_object_get_object_member (c, "details");
    fail_unless_equals_string (json_object_get_string_member (details,
            "path"), tmp_dir);
    g_snprintf (what, sizeof what, "%s: free_bytes", names[i]);
    assert_sampled (smp, json_object_get_int_member (details, "free_bytes"),
        smp->lo.avail, smp->hi.avail, what);
    g_snprintf (what, sizeof what, "%s: total_bytes", names[i]);
    assert_size (smp, json_object_get_int_member (details, "total_bytes"),
        what);
    if (i > 0)
      fail_unless (strstr (json_object_get_string_member (c, "message"),
              ", below ") != NULL, "%s: '%s'", names[i],
          json_object_get_string_member (c, "message"));
    json_node_unref (doc);
  }
}

GST_END_TEST;

/* "disk_space" values out of range or of the wrong type are errors that
 * name the file, the line and the key */
GST_START_TEST (test_config_disk_space_errors)
{
  const gchar *bad[][2] = {
    {"{\n\"disk_space\": {\"degraded_free_percent\": 150}}",
        "d.json:2: \"degraded_free_percent\" must be from 0 to 100"},
    {"{\"disk_space\": {\"unhealthy_free_bytes\": \"1G\"}}",
        "d.json:1: \"unhealthy_free_bytes\" must be a number"},
    {"{\"disk_space\": {\"interval\": 0}}",
        "d.json:1: \"interval\" must be from 1 to 86400"},
    {"{\"disk_space\": {\"free\": 1}}",
        "d.json:1: unknown key \"free\" in disk_space"},
  };
  const gchar *good = "{\"disk_space\": {\"degraded_free_percent\": 20, "
      "\"unhealthy_free_percent\": 2, \"degraded_free_bytes\": 1e10, "
      "\"unhealthy_free_bytes\": 1e9, \"interval\": 30}}";
  GError *error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    fail_if (apm_config_check_data ("d.json", bad[i][0], strlen (bad[i][0]),
            &error), "accepted %s", bad[i][0]);
    fail_unless (g_str_has_prefix (error->message, bad[i][1]), "'%s'",
        error->message);
    g_clear_error (&error);
  }
  fail_unless (apm_config_check_data ("d.json", good, strlen (good), &error),
      "%s", error ? error->message : "?");
}

GST_END_TEST;

static Suite *
apm_diskspace_suite (void)
{
  Suite *s = suite_create ("apm_diskspace");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_pipeline_file_gets_disk_check);
  tcase_add_test (tc, test_one_check_per_filesystem);
  tcase_add_test (tc, test_config_path_checks);
  tcase_add_test (tc, test_config_disk_space_errors);
  return s;
}

/* path checks of the temporary directory: no minimum, a minimum between
 * half and all of the free space (degraded), an impossible one */
static void
write_config (void)
{
  struct statvfs st;
  gdouble low;
  gchar *text;
  GError *error = NULL;

  g_assert (statvfs (tmp_dir, &st) == 0);
  low = (gdouble) st.f_bavail * st.f_frsize * 0.75;
  text = g_strdup_printf ("{\n"
      "  \"health_checks\": [\n"
      "    {\"name\": \"cfg_tmp_ok\", \"type\": \"path\", \"path\": \"%s\","
      " \"min_free_bytes\": 1, \"interval\": 1},\n"
      "    {\"name\": \"cfg_tmp_low\", \"type\": \"path\", \"path\": \"%s\","
      " \"min_free_bytes\": %.0f, \"interval\": 1},\n"
      "    {\"name\": \"cfg_tmp_full\", \"type\": \"path\", \"path\": \"%s\","
      " \"min_free_bytes\": 1e18, \"interval\": 1}\n"
      "  ],\n"
      "  \"disk_space\": {\"degraded_free_bytes\": 1e18, \"interval\": 1}\n"
      "}\n", tmp_dir, tmp_dir, low, tmp_dir);
  config_path = g_build_filename (tmp_dir, "apm.json", NULL);
  if (!g_file_set_contents (config_path, text, -1, &error))
    g_error ("%s", error->message);
  g_free (text);
}

int
main (int argc, char **argv)
{
  gchar *tracers;
  int ret;

  tmp_dir = g_dir_make_tmp ("apm-disk-XXXXXX", NULL);
  g_assert (tmp_dir != NULL);
  write_config ();
  tracers = g_strdup_printf ("apm(port=0,quiet=true,config=%s)",
      config_path);
  apm_test_prepare_env (tracers);
  g_unsetenv ("APM_CONFIG");
  g_setenv ("CK_FORK", "no", TRUE);
  g_setenv ("APM_SERIES_GRACE_SECONDS", "0", TRUE);
  gst_check_init (&argc, &argv);
  ret = gst_check_run_suite (apm_diskspace_suite (), "apm_diskspace",
      __FILE__);
  g_unlink (config_path);
  g_rmdir (tmp_dir);
  g_free (config_path);
  g_free (tmp_dir);
  g_free (tracers);
  g_clear_object (&session);
  g_free (base_url);
  return ret;
}
