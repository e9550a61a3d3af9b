/* gst-apm tests: system resources sampled from /proc: CPU per core (disk
 * I/O per device: diskio.c)
 *
 * Runs in-process with GST_TRACERS="apm(port=0,quiet=true)" and
 * CK_FORK=no: one service for every test here.
 */
#include <gst/check/gstcheck.h>
#include <stdio.h>
#include <string.h>

#include "apmtestutil.h"

#define SECONDS(s) ((gint64) ((s) * G_USEC_PER_SEC))

/* non-live: runs as fast as the CPU allows */
#define BUSY_PIPELINE "audiotestsrc wave=white-noise samplesperbuffer=4096 ! " \
  "audioconvert ! audioresample ! audio/x-raw,rate=22050 ! fakesink"

static const gchar *url;
static SoupSession *session;
static GstElement *busy;

static void
setup (void)
{
  session = apm_test_session_new ();
  url = apm_test_service_url ("resstart");
}

/* after a failure */
static void
teardown (void)
{
  if (busy)
    apm_test_stop (g_steal_pointer (&busy));
  g_clear_object (&session);
}

/* --- CPU per core --- */

/* the cores /proc/stat lists now ("cpu0", "cpu1", ...) as "0", "1", ... */
static GPtrArray *
online_cores (void)
{
  gchar *text = NULL, **lines;
  GPtrArray *cores = g_ptr_array_new_with_free_func (g_free);

  fail_unless (g_file_get_contents ("/proc/stat", &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    if (g_str_has_prefix (lines[i], "cpu")
        && g_ascii_isdigit (lines[i][3]))
      g_ptr_array_add (cores, g_strndup (lines[i] + 3,
              strcspn (lines[i] + 3, " ")));
  }
  g_strfreev (lines);
  g_free (text);
  fail_unless (cores->len > 0, "no cpuN line in /proc/stat");
  return cores;
}

/* Busy and total ticks of each of @cores from /proc/stat now, counted as
 * the service counts them (busy: all but idle and iowait). */
static void
core_ticks (GPtrArray * cores, guint64 * busy_ticks, guint64 * total_ticks)
{
  gchar *text = NULL, **lines;

  fail_unless (g_file_get_contents ("/proc/stat", &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint c = 0; c < cores->len; c++) {
    gchar *prefix = g_strdup_printf ("cpu%s ",
        (gchar *) g_ptr_array_index (cores, c));
    guint64 v[8];
    guint i;

    for (i = 0; lines[i] && !g_str_has_prefix (lines[i], prefix); i++);
    fail_unless (lines[i] != NULL, "no %sline in /proc/stat", prefix);
    fail_unless (sscanf (lines[i] + strlen (prefix), "%" G_GUINT64_FORMAT
            " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
            " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
            " %" G_GUINT64_FORMAT, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
            &v[6], &v[7]) == 8, "bad line in /proc/stat: %s", lines[i]);
    total_ticks[c] = 0;
    for (guint k = 0; k < 8; k++)
      total_ticks[c] += v[k];
    busy_ticks[c] = total_ticks[c] - v[3] - v[4];
    g_free (prefix);
  }
  g_strfreev (lines);
  g_free (text);
}

typedef struct
{
  GPtrArray *cores;
  gdouble *first;               /* the first complete scrape */
  gboolean have_first, moved;
  gdouble sum, total;           /* of the last scrape */
  gchar *problem;               /* why the last scrape did not do */
} CoreWait;

/* every core has a percentage in [0, 100], the cores add up to at least
 * half a core busy, and some value changed since the first scrape */
static gboolean
cores_busy_and_moving (GHashTable * metrics, gpointer user_data)
{
  CoreWait *w = user_data;
  gdouble values[256];

  g_clear_pointer (&w->problem, g_free);
  w->sum = 0;
  for (guint i = 0; i < w->cores->len && i < G_N_ELEMENTS (values); i++) {
    const gchar *cpu = g_ptr_array_index (w->cores, i);

    if (!apm_test_metric_value (metrics, &values[i],
            "apm_system_cpu_core_percent", "cpu", cpu, NULL)) {
      w->problem = g_strdup_printf ("no apm_system_cpu_core_percent"
          "{cpu=\"%s\"}", cpu);
      return FALSE;
    }
    fail_unless (values[i] >= 0 && values[i] <= 100,
        "apm_system_cpu_core_percent{cpu=\"%s\"} is %f", cpu, values[i]);
    w->sum += values[i];
  }
  fail_unless (apm_test_metric_value (metrics, &w->total,
          "apm_system_cpu_percent", NULL));
  if (!w->have_first) {
    memcpy (w->first, values, w->cores->len * sizeof (gdouble));
    w->have_first = TRUE;
  } else {
    for (guint i = 0; i < w->cores->len; i++)
      w->moved |= values[i] != w->first[i];
  }
  return w->moved && w->sum >= 50;
}

GST_START_TEST (test_cpu_per_core)
{
  CoreWait w = { online_cores (), NULL, FALSE, FALSE, 0, 0, NULL };
  GHashTable *m;
  guint64 busy0[256], total0[256], busy1[256], total1[256];
  gboolean saturated = TRUE;

  fail_unless (w.cores->len <= 256);
  w.first = g_new0 (gdouble, w.cores->len);
  core_ticks (w.cores, busy0, total0);
  busy = apm_test_parse (BUSY_PIPELINE, "busycores");
  gst_element_set_state (busy, GST_STATE_PLAYING);

  /* sampled each second: a CPU-bound pipeline keeps at least half a core
   * busy, and the figures change from one second to the next */
  m = apm_test_wait_metrics (session, url, cores_busy_and_moving, &w,
      APM_TEST_SCALED (SECONDS (8)));
  fail_unless (w.problem == NULL, "%s", w.problem);
  /* A box saturated by other work reads 100 % on every core each second:
   * nothing can move then.  That is the case only if /proc/stat says so
   * too over the same 8 s (98 %: its window is a little wider than the
   * samples'). */
  core_ticks (w.cores, busy1, total1);
  for (guint c = 0; c < w.cores->len; c++)
    saturated &= total1[c] > total0[c]
        && busy1[c] - busy0[c] >= 0.98 * (total1[c] - total0[c]);
  fail_unless (w.moved || saturated, "the per-core CPU percentages did not "
      "change in 8 s of a CPU-bound pipeline (the %u cores add up to %.1f %%)",
      w.cores->len, w.sum);
  fail_unless (w.sum >= 50, "the cores add up to %.1f %% busy while a "
      "CPU-bound pipeline runs", w.sum);
  /* one sample of /proc/stat: the cores average to the total (ticks are
   * counted per core, so allow a little rounding) */
  fail_unless (ABS (w.sum / w.cores->len - w.total) < 5,
      "the cores average %.2f %%, apm_system_cpu_percent is %.2f %%",
      w.sum / w.cores->len, w.total);
  g_hash_table_unref (m);
  g_free (w.first);
  g_ptr_array_unref (w.cores);
  /* GST_END_TEST waits for every streaming thread: stop it here */
  apm_test_stop (g_steal_pointer (&busy));
}

GST_END_TEST;

static Suite *
resources_suite (void)
{
  Suite *s = suite_create ("apm_resources");
  TCase *tc = tcase_create ("system");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_cpu_per_core);
  return s;
}

int
main (int argc, char **argv)
{
  apm_test_prepare_env ("apm(port=0,quiet=true)");
  g_setenv ("CK_FORK", "no", TRUE);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (resources_suite (), "apm_resources", __FILE__);
}
