/* gst-apm tests: disk I/O per device, sampled from /proc/diskstats
 *
 * Runs in-process with GST_TRACERS="apm(port=0,quiet=true)" and
 * CK_FORK=no: one service for every test here.  Where /proc/diskstats
 * lists no whole disk (some containers), there is nothing to compare:
 * the program says so on stderr and exits 77, which meson reports as
 * SKIP.  It is a program of its own so that the skip covers this test
 * only (resources.c checks the CPU).
 */
#include <gst/check/gstcheck.h>
#include <stdio.h>
#include <string.h>

#include "apmtestutil.h"

#define SECONDS(s) ((gint64) ((s) * G_USEC_PER_SEC))

/* meson's exit status for a skipped test */
#define EXIT_SKIP 77

static const gchar *url;
static SoupSession *session;

static void
setup (void)
{
  session = apm_test_session_new ();
  url = apm_test_service_url ("diskstart");
}

/* after a failure */
static void
teardown (void)
{
  g_clear_object (&session);
}

enum
{ READ_BYTES, WRITTEN_BYTES, READS, WRITES, N_FIELDS };

static const gchar *const disk_metrics[N_FIELDS] = {
  "apm_system_disk_read_bytes_total", "apm_system_disk_written_bytes_total",
  "apm_system_disk_reads_total", "apm_system_disk_writes_total"
};

/* A whole disk: listed in /sys/block (partitions are not), and neither a
 * loop nor a RAM device. */
static gboolean
whole_disk (const gchar * name)
{
  gchar *sys = g_strdelimit (g_strdup (name), "/", '!');
  gchar *path = g_build_filename ("/sys/block", sys, NULL);
  gboolean whole = g_file_test (path, G_FILE_TEST_EXISTS)
      && !g_str_has_prefix (name, "loop") && !g_str_has_prefix (name, "ram")
      && !g_str_has_prefix (name, "zram");

  g_free (path);
  g_free (sys);
  return whole;
}

/* device -> guint64[N_FIELDS] from /proc/diskstats, whole disks only
 * (@all: every device) */
static GHashTable *
read_diskstats (gboolean all)
{
  GHashTable *t = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  gchar *text = NULL, **lines;

  if (!g_file_get_contents ("/proc/diskstats", &text, NULL, NULL))
    return t;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    gchar name[64];
    guint64 *v = g_new0 (guint64, N_FIELDS);

    /* reads, merged, sectors read, ms, writes, merged, sectors written */
    if (sscanf (lines[i], "%*u %*u %63s %" G_GUINT64_FORMAT " %*u %"
            G_GUINT64_FORMAT " %*u %" G_GUINT64_FORMAT " %*u %"
            G_GUINT64_FORMAT, name, &v[READS], &v[READ_BYTES], &v[WRITES],
            &v[WRITTEN_BYTES]) == 5 && (all || whole_disk (name))) {
      v[READ_BYTES] *= 512;
      v[WRITTEN_BYTES] *= 512;
      g_hash_table_insert (t, g_strdup (name), v);
    } else {
      g_free (v);
    }
  }
  g_strfreev (lines);
  g_free (text);
  return t;
}

typedef struct
{
  GHashTable *before;
  gchar *missing;
} DiskWait;

/* every disk has its four series, sampled after @before was read */
static gboolean
disks_sampled (GHashTable * metrics, gpointer user_data)
{
  DiskWait *w = user_data;
  GHashTableIter it;
  const gchar *name;
  guint64 *v;

  g_clear_pointer (&w->missing, g_free);
  g_hash_table_iter_init (&it, w->before);
  while (g_hash_table_iter_next (&it, (gpointer *) & name, (gpointer *) & v)) {
    for (guint k = 0; k < N_FIELDS; k++) {
      gdouble m;

      if (!apm_test_metric_value (metrics, &m, disk_metrics[k], "device",
              name, NULL)) {
        w->missing = g_strdup_printf ("no %s{device=\"%s\"}",
            disk_metrics[k], name);
        return FALSE;
      }
      if (m < v[k]) {
        w->missing = g_strdup_printf ("%s{device=\"%s\"} is %.0f, below "
            "/proc/diskstats' %" G_GUINT64_FORMAT " read before",
            disk_metrics[k], name, m, v[k]);
        return FALSE;
      }
    }
  }
  return TRUE;
}

static void
check_disks (GHashTable * before)
{
  DiskWait w = { before, NULL };
  GHashTable *m, *after, *every;
  GHashTableIter it;
  const gchar *name;

  /* counters are monotonic: a sample taken after the first read and
   * before the second lies between them */
  m = apm_test_wait_metrics (session, url, disks_sampled, &w,
      APM_TEST_SCALED (SECONDS (5)));
  fail_unless (w.missing == NULL, "%s", w.missing);
  after = read_diskstats (FALSE);
  g_hash_table_iter_init (&it, w.before);
  while (g_hash_table_iter_next (&it, (gpointer *) & name, NULL)) {
    guint64 *hi = g_hash_table_lookup (after, name);

    fail_unless (hi != NULL, "disk %s went away during the test", name);
    for (guint k = 0; k < N_FIELDS; k++) {
      gdouble value;

      fail_unless (apm_test_metric_value (m, &value, disk_metrics[k],
              "device", name, NULL));
      fail_unless (value <= hi[k], "%s{device=\"%s\"} is %.0f, above "
          "/proc/diskstats' %" G_GUINT64_FORMAT " read after", disk_metrics[k],
          name, value, hi[k]);
    }
  }

  /* no partitions, loop or RAM devices */
  every = read_diskstats (TRUE);
  g_hash_table_iter_init (&it, every);
  while (g_hash_table_iter_next (&it, (gpointer *) & name, NULL)) {
    if (whole_disk (name))
      continue;
    fail_if (apm_test_metric_value (m, NULL, disk_metrics[READS], "device",
            name, NULL), "%s has disk series but is not a whole disk", name);
  }
  g_hash_table_unref (every);
  g_hash_table_unref (after);
  g_hash_table_unref (m);
}

/* main() skipped the program when there is no whole disk to check */
GST_START_TEST (test_disk_io_per_device)
{
  GHashTable *before = read_diskstats (FALSE);

  fail_unless (g_hash_table_size (before) > 0, "no whole disk in "
      "/proc/diskstats any more");
  check_disks (before);
  g_hash_table_unref (before);
}

GST_END_TEST;

static Suite *
diskio_suite (void)
{
  Suite *s = suite_create ("apm_diskio");
  TCase *tc = tcase_create ("system");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_disk_io_per_device);
  return s;
}

int
main (int argc, char **argv)
{
  GHashTable *disks = read_diskstats (FALSE);
  guint n = g_hash_table_size (disks);

  g_hash_table_unref (disks);
  if (n == 0) {
    g_printerr ("SKIP: test_disk_io_per_device: /proc/diskstats lists no "
        "whole disk (only partitions, loop or RAM devices, or it is "
        "missing), so there is no per-device I/O to compare\n");
    return EXIT_SKIP;
  }
  apm_test_prepare_env ("apm(port=0,quiet=true)");
  g_setenv ("CK_FORK", "no", TRUE);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (diskio_suite (), "apm_diskio", __FILE__);
}
