/* gst-apm: process and system resources, sampled from /proc
 *
 * Process metrics use the standard Prometheus client names
 * (process_cpu_seconds_total, process_resident_memory_bytes, ...).
 */
#include "apm-sysres.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

struct _ApmSysres
{
  ApmSeries *cpu_seconds, *rss, *vsize, *open_fds, *max_fds, *start_time,
      *threads, *io_read, *io_write;
  ApmSeries *sys_cpu, *mem_used_pct, *mem_available, *mem_total, *load1,
      *load5, *load15;
  guint64 prev_busy, prev_total;
  gdouble mem_used_percent, cpu_percent;
  gdouble boot_time;
};

static ApmSeries *
gauge (ApmRegistry * reg, const gchar * name, ApmMetricType type,
    const gchar * help)
{
  ApmFamily *f = apm_registry_family (reg, name, type, help, NULL, NULL, 0);

  return f ? apm_family_series (f, NULL) : NULL;
}

static gdouble
read_boot_time (void)
{
  gchar *text = NULL, *p;
  gdouble bt = 0;

  if (g_file_get_contents ("/proc/stat", &text, NULL, NULL)
      && (p = strstr (text, "\nbtime ")))
    bt = g_ascii_strtod (p + 7, NULL);
  g_free (text);
  return bt;
}

ApmSysres *
apm_sysres_new (ApmRegistry * reg)
{
  ApmSysres *s = g_new0 (ApmSysres, 1);

  s->cpu_seconds = gauge (reg, "process_cpu_seconds_total",
      APM_METRIC_COUNTER, "Total user and system CPU time spent in seconds");
  s->rss = gauge (reg, "process_resident_memory_bytes", APM_METRIC_GAUGE,
      "Resident memory size in bytes");
  s->vsize = gauge (reg, "process_virtual_memory_bytes", APM_METRIC_GAUGE,
      "Virtual memory size in bytes");
  s->open_fds = gauge (reg, "process_open_fds", APM_METRIC_GAUGE,
      "Number of open file descriptors");
  s->max_fds = gauge (reg, "process_max_fds", APM_METRIC_GAUGE,
      "Maximum number of open file descriptors");
  s->start_time = gauge (reg, "process_start_time_seconds",
      APM_METRIC_GAUGE, "Start time of the process since the Unix epoch in "
      "seconds");
  s->threads = gauge (reg, "process_threads", APM_METRIC_GAUGE,
      "Number of OS threads in the process");
  s->io_read = gauge (reg, "process_io_read_bytes_total",
      APM_METRIC_COUNTER, "Bytes the process read from storage");
  s->io_write = gauge (reg, "process_io_written_bytes_total",
      APM_METRIC_COUNTER, "Bytes the process wrote to storage");
  s->sys_cpu = gauge (reg, "apm_system_cpu_percent", APM_METRIC_GAUGE,
      "System-wide CPU use over the last interval, percent of all cores");
  s->mem_used_pct = gauge (reg, "apm_system_memory_used_percent",
      APM_METRIC_GAUGE, "System memory in use (total - available), percent");
  s->mem_available = gauge (reg, "apm_system_memory_available_bytes",
      APM_METRIC_GAUGE, "System memory available, bytes");
  s->mem_total = gauge (reg, "apm_system_memory_total_bytes",
      APM_METRIC_GAUGE, "System memory, bytes");
  s->load1 = gauge (reg, "apm_system_load1", APM_METRIC_GAUGE,
      "Load average over 1 minute");
  s->load5 = gauge (reg, "apm_system_load5", APM_METRIC_GAUGE,
      "Load average over 5 minutes");
  s->load15 = gauge (reg, "apm_system_load15", APM_METRIC_GAUGE,
      "Load average over 15 minutes");
  s->boot_time = read_boot_time ();
  apm_sysres_sample (s);
  return s;
}

void
apm_sysres_free (ApmSysres * s)
{
  ApmSeries **all[] = { &s->cpu_seconds, &s->rss, &s->vsize, &s->open_fds,
    &s->max_fds, &s->start_time, &s->threads, &s->io_read, &s->io_write,
    &s->sys_cpu, &s->mem_used_pct, &s->mem_available, &s->mem_total,
    &s->load1, &s->load5, &s->load15
  };

  if (!s)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    apm_series_unref (*all[i]);
  g_free (s);
}

static void
set (ApmSeries * series, gdouble v)
{
  if (series)
    apm_gauge_set (series, v);
}

static void
sample_process (ApmSysres * s)
{
  gchar *text = NULL, *p;
  glong ticks = sysconf (_SC_CLK_TCK), page = sysconf (_SC_PAGESIZE);
  unsigned long utime, stime, vsize;
  unsigned long long starttime;
  long rss, nthreads;
  struct rlimit rl;
  GDir *dir;
  guint fds = 0;

  if (g_file_get_contents ("/proc/self/stat", &text, NULL, NULL)
      && (p = strrchr (text, ')'))
      && sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu "
          "%*d %*d %*d %*d %ld %*d %llu %lu %ld", &utime, &stime, &nthreads,
          &starttime, &vsize, &rss) == 6) {
    set (s->cpu_seconds, (gdouble) (utime + stime) / ticks);
    set (s->vsize, vsize);
    set (s->rss, (gdouble) rss * page);
    set (s->threads, nthreads);
    set (s->start_time, s->boot_time + (gdouble) starttime / ticks);
  }
  g_free (text);

  if ((dir = g_dir_open ("/proc/self/fd", 0, NULL))) {
    while (g_dir_read_name (dir))
      fds++;
    g_dir_close (dir);
    set (s->open_fds, fds > 0 ? fds - 1 : 0);   /* minus the dir's own fd */
  }
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0)
    set (s->max_fds, rl.rlim_cur);

  if (g_file_get_contents ("/proc/self/io", &text, NULL, NULL)) {
    if ((p = strstr (text, "read_bytes: ")))
      set (s->io_read, g_ascii_strtod (p + 12, NULL));
    if ((p = strstr (text, "\nwrite_bytes: ")))
      set (s->io_write, g_ascii_strtod (p + 14, NULL));
    g_free (text);
  }
}

static guint64
meminfo_kb (const gchar * text, const gchar * key)
{
  const gchar *p = strstr (text, key);

  return p ? g_ascii_strtoull (p + strlen (key), NULL, 10) : 0;
}

static void
sample_system (ApmSysres * s)
{
  gchar *text = NULL;
  guint64 v[8] = { 0 };
  gdouble loads[3];

  if (g_file_get_contents ("/proc/meminfo", &text, NULL, NULL)) {
    guint64 total = meminfo_kb (text, "MemTotal:");
    guint64 avail = meminfo_kb (text, "MemAvailable:");

    if (total) {
      s->mem_used_percent = 100.0 * (total - MIN (avail, total)) / total;
      set (s->mem_used_pct, s->mem_used_percent);
      set (s->mem_total, total * 1024.0);
      set (s->mem_available, avail * 1024.0);
    }
    g_free (text);
  }
  if (g_file_get_contents ("/proc/stat", &text, NULL, NULL)) {
    if (sscanf (text, "cpu %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %"
            G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %"
            G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
            &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8) {
      guint64 idle = v[3] + v[4], total = 0, busy;

      for (guint i = 0; i < 8; i++)
        total += v[i];
      busy = total - idle;
      if (s->prev_total && total > s->prev_total) {
        s->cpu_percent = 100.0 * (busy - s->prev_busy) /
            (total - s->prev_total);
        set (s->sys_cpu, s->cpu_percent);
      }
      s->prev_busy = busy;
      s->prev_total = total;
    }
    g_free (text);
  }
  if (getloadavg (loads, 3) == 3) {
    set (s->load1, loads[0]);
    set (s->load5, loads[1]);
    set (s->load15, loads[2]);
  }
}

void
apm_sysres_sample (ApmSysres * s)
{
  sample_process (s);
  sample_system (s);
}

gdouble
apm_sysres_memory_used_percent (ApmSysres * s)
{
  return s->mem_used_percent;
}

gdouble
apm_sysres_cpu_percent (ApmSysres * s)
{
  return s->cpu_percent;
}
