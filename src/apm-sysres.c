/* gst-apm: process and system resources, sampled from /proc
 *
 * Process metrics use the standard Prometheus client names
 * (process_cpu_seconds_total, process_resident_memory_bytes, ...).  System
 * CPU is a percentage over the last interval, in total and per core; disk
 * I/O comes from /proc/diskstats as running totals of whole disks.
 */
#include "apm-sysres.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

/* CPU shares over shorter intervals (a late tick followed by an on-time
 * one) are too coarse at 100 ticks a second: wait for the next sample */
#define MIN_CPU_INTERVAL_US (G_USEC_PER_SEC / 2)

/* bounds on the series a big machine can create */
#define MAX_CORES 256
#define MAX_DISKS 32

/* /proc/diskstats counts 512-byte sectors whatever the device's own */
#define SECTOR_BYTES 512

typedef struct
{
  guint64 prev_busy, prev_total;
  ApmSeries *percent;           /* created at the first sample */
} CoreState;

enum
{ DISK_READ_BYTES, DISK_WRITTEN_BYTES, DISK_READS, DISK_WRITES, N_DISK };

typedef struct
{
  gchar *name;
  ApmSeries *series[N_DISK];
  gboolean seen;                /* in the last sample */
} DiskState;

struct _ApmSysres
{
  ApmSeries *cpu_seconds, *rss, *vsize, *open_fds, *max_fds, *start_time,
      *threads, *io_read, *io_write;
  ApmSeries *sys_cpu, *mem_used_pct, *mem_available, *mem_total, *load1,
      *load5, *load15;
  guint64 prev_busy, prev_total;
  gdouble mem_used_percent, cpu_percent;
  gdouble boot_time;
  gint64 cpu_sampled_us;        /* monotonic time of prev_busy/total */
  ApmFamily *f_core, *f_disk[N_DISK];
  CoreState *cores;
  guint n_cores;
  GPtrArray *disks;             /* DiskState, at most MAX_DISKS */
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
  {
    static const gchar *const cpu_label[] = { "cpu", NULL };
    static const gchar *const device_label[] = { "device", NULL };
    static const struct
    {
      const gchar *name, *help;
    } disk[N_DISK] = {
      {"apm_system_disk_read_bytes_total", "Bytes read from the disk"},
      {"apm_system_disk_written_bytes_total", "Bytes written to the disk"},
      {"apm_system_disk_reads_total", "Reads completed by the disk"},
      {"apm_system_disk_writes_total", "Writes completed by the disk"},
    };

    s->f_core = apm_registry_family (reg, "apm_system_cpu_core_percent",
        APM_METRIC_GAUGE, "CPU use of one core over the last interval, "
        "percent", cpu_label, NULL, 0);
    for (guint i = 0; i < N_DISK; i++)
      s->f_disk[i] = apm_registry_family (reg, disk[i].name,
          APM_METRIC_COUNTER, disk[i].help, device_label, NULL, 0);
  }
  s->disks = g_ptr_array_new ();
  s->boot_time = read_boot_time ();
  apm_sysres_sample (s);
  return s;
}

static void
disk_free (DiskState * d)
{
  for (guint i = 0; i < N_DISK; i++)
    apm_series_unref (d->series[i]);
  g_free (d->name);
  g_free (d);
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
  for (guint i = 0; i < s->n_cores; i++)
    apm_series_unref (s->cores[i].percent);
  g_free (s->cores);
  for (guint i = 0; i < s->disks->len; i++)
    disk_free (g_ptr_array_index (s->disks, i));
  g_ptr_array_unref (s->disks);
  g_free (s);
}

static void
set (ApmSeries * series, gdouble v)
{
  if (series)
    apm_gauge_set (series, v);
}

gboolean
apm_proc_stat_read (const gchar * path, ApmProcStat * stat, gchar ** comm)
{
  glong ticks = sysconf (_SC_CLK_TCK);
  gchar *text = NULL, *p, *open;
  unsigned long utime, stime, vsize;
  unsigned long long starttime;
  long rss, nthreads;
  gboolean ok = FALSE;

  /* the name may hold spaces and parentheses: the fields follow the last
   * closing one */
  if (g_file_get_contents (path, &text, NULL, NULL)
      && (p = strrchr (text, ')'))
      && sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu "
          "%*d %*d %*d %*d %ld %*d %llu %lu %ld", &utime, &stime, &nthreads,
          &starttime, &vsize, &rss) == 6) {
    ok = TRUE;
    stat->cpu_seconds = (gdouble) (utime + stime) / ticks;
    stat->num_threads = nthreads;
    stat->start_seconds = (gdouble) starttime / ticks;
    stat->vsize = vsize;
    stat->rss = rss;
    if (comm && (open = strchr (text, '(')))
      *comm = g_strndup (open + 1, p - open - 1);
  }
  g_free (text);
  return ok;
}

gdouble
apm_thread_cpu_seconds (gint tid, gchar ** name)
{
  gchar *path = g_strdup_printf ("/proc/self/task/%d/stat", tid);
  ApmProcStat stat;
  gboolean ok = apm_proc_stat_read (path, &stat, name);

  g_free (path);
  return ok ? stat.cpu_seconds : -1;
}

static void
sample_process (ApmSysres * s)
{
  gchar *text = NULL, *p;
  glong page = sysconf (_SC_PAGESIZE);
  ApmProcStat stat;
  struct rlimit rl;
  GDir *dir;
  guint fds = 0;

  if (apm_proc_stat_read ("/proc/self/stat", &stat, NULL)) {
    set (s->cpu_seconds, stat.cpu_seconds);
    set (s->vsize, stat.vsize);
    set (s->rss, (gdouble) stat.rss * page);
    set (s->threads, stat.num_threads);
    set (s->start_time, s->boot_time + stat.start_seconds);
  }

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

/* Busy and total ticks of a "cpu" or "cpuN" line of /proc/stat (@text
 * after the name).  Idle is idle + iowait; guest time is already counted in
 * user and nice. */
static gboolean
parse_cpu_ticks (const gchar * text, guint64 * busy, guint64 * total)
{
  guint64 v[8] = { 0 };

  if (sscanf (text, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %"
          G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %"
          G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
          &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
    return FALSE;
  *total = 0;
  for (guint i = 0; i < 8; i++)
    *total += v[i];
  *busy = *total - (v[3] + v[4]);
  return TRUE;
}

/* percent busy since the previous sample, or < 0 on the first one */
static gdouble
busy_percent (guint64 busy, guint64 total, guint64 * prev_busy,
    guint64 * prev_total)
{
  gdouble pct = -1;

  if (*prev_total && total > *prev_total && busy >= *prev_busy)
    pct = CLAMP (100.0 * (busy - *prev_busy) / (total - *prev_total), 0,
        100);
  *prev_busy = busy;
  *prev_total = total;
  return pct;
}

static void
sample_core (ApmSysres * s, guint cpu, guint64 busy, guint64 total)
{
  CoreState *c;
  gdouble pct;

  if (cpu >= MAX_CORES)
    return;
  if (cpu >= s->n_cores) {
    s->cores = g_renew (CoreState, s->cores, cpu + 1);
    memset (s->cores + s->n_cores, 0, (cpu + 1 - s->n_cores) *
        sizeof (CoreState));
    s->n_cores = cpu + 1;
  }
  c = &s->cores[cpu];
  pct = busy_percent (busy, total, &c->prev_busy, &c->prev_total);
  if (pct < 0 || !s->f_core)
    return;
  if (!c->percent) {
    gchar label[16];
    const gchar *values[2] = { label, NULL };

    g_snprintf (label, sizeof label, "%u", cpu);
    c->percent = apm_family_series (s->f_core, values);
  }
  apm_gauge_set (c->percent, pct);
}

/* the "cpu" line (all cores) and one "cpuN" line per online core */
static void
sample_cpu (ApmSysres * s)
{
  gchar *text = NULL, *line, *next;
  guint64 busy, total;
  gint64 now = g_get_monotonic_time ();

  if (s->cpu_sampled_us && now - s->cpu_sampled_us < MIN_CPU_INTERVAL_US)
    return;
  if (!g_file_get_contents ("/proc/stat", &text, NULL, NULL))
    return;
  s->cpu_sampled_us = now;
  for (line = text; line && g_str_has_prefix (line, "cpu"); line = next) {
    gchar *end;

    next = strchr (line, '\n');
    if (next)
      *next++ = '\0';
    if (line[3] == ' ') {
      if (parse_cpu_ticks (line + 4, &busy, &total)) {
        gdouble pct = busy_percent (busy, total, &s->prev_busy,
            &s->prev_total);

        if (pct >= 0) {
          s->cpu_percent = pct;
          set (s->sys_cpu, pct);
        }
      }
    } else if (g_ascii_isdigit (line[3])) {
      guint64 cpu = g_ascii_strtoull (line + 3, &end, 10);

      if (*end == ' ' && parse_cpu_ticks (end + 1, &busy, &total))
        sample_core (s, cpu, busy, total);
    }
  }
  g_free (text);
}

/* A whole disk, not a partition, loop or RAM device (as node_exporter's
 * default filter).  /sys/block lists whole disks only; without /sys, tell
 * partitions by their names. */
static gboolean
is_whole_disk (const gchar * name)
{
  static const gchar *const virtual_prefixes[] = { "loop", "ram", "zram",
    "fd"
  };
  gboolean whole;

  for (guint i = 0; i < G_N_ELEMENTS (virtual_prefixes); i++)
    if (g_str_has_prefix (name, virtual_prefixes[i])
        && g_ascii_isdigit (name[strlen (virtual_prefixes[i])]))
      return FALSE;
  if (g_file_test ("/sys/block", G_FILE_TEST_IS_DIR)) {
    /* "cciss/c0d0" is /sys/block/cciss!c0d0 */
    gchar *sys_name = g_strdelimit (g_strdup (name), "/", '!');
    gchar *path = g_build_filename ("/sys/block", sys_name, NULL);

    whole = g_file_test (path, G_FILE_TEST_EXISTS);
    g_free (path);
    g_free (sys_name);
    return whole;
  }
  return !g_regex_match_simple ("^((h|s|v|xv)d[a-z]+|(nvme\\d+n|mmcblk)"
      "\\d+p)\\d+$", name, 0, 0);
}

static DiskState *
find_disk (ApmSysres * s, const gchar * name)
{
  const gchar *values[2] = { name, NULL };
  DiskState *d;

  for (guint i = 0; i < s->disks->len; i++) {
    d = g_ptr_array_index (s->disks, i);
    if (strcmp (d->name, name) == 0)
      return d;
  }
  if (s->disks->len >= MAX_DISKS || !is_whole_disk (name))
    return NULL;
  d = g_new0 (DiskState, 1);
  d->name = g_strdup (name);
  for (guint i = 0; i < N_DISK; i++)
    if (s->f_disk[i])
      d->series[i] = apm_family_series (s->f_disk[i], values);
  g_ptr_array_add (s->disks, d);
  return d;
}

/* Fields after the name: reads completed, reads merged, sectors read, ms
 * reading, writes completed, writes merged, sectors written, ... */
static void
sample_disks (ApmSysres * s)
{
  gchar *text = NULL, **lines;

  if (!g_file_get_contents ("/proc/diskstats", &text, NULL, NULL))
    return;
  for (guint i = 0; i < s->disks->len; i++)
    ((DiskState *) g_ptr_array_index (s->disks, i))->seen = FALSE;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    gchar name[64];
    guint64 v[N_DISK];
    DiskState *d;

    if (sscanf (lines[i], "%*u %*u %63s %" G_GUINT64_FORMAT " %*u %"
            G_GUINT64_FORMAT " %*u %" G_GUINT64_FORMAT " %*u %"
            G_GUINT64_FORMAT, name, &v[DISK_READS], &v[DISK_READ_BYTES],
            &v[DISK_WRITES], &v[DISK_WRITTEN_BYTES]) != 5
        || !(d = find_disk (s, name)))
      continue;
    d->seen = TRUE;
    v[DISK_READ_BYTES] *= SECTOR_BYTES;
    v[DISK_WRITTEN_BYTES] *= SECTOR_BYTES;
    for (guint k = 0; k < N_DISK; k++)
      set (d->series[k], v[k]);
  }
  /* unplugged: the series go after the registry's grace period */
  for (guint i = s->disks->len; i-- > 0;) {
    DiskState *d = g_ptr_array_index (s->disks, i);

    if (d->seen)
      continue;
    for (guint k = 0; k < N_DISK; k++)
      if (d->series[k])
        apm_series_retire (g_steal_pointer (&d->series[k]));
    disk_free (d);
    g_ptr_array_remove_index (s->disks, i);
  }
  g_strfreev (lines);
  g_free (text);
}

static void
sample_system (ApmSysres * s)
{
  gchar *text = NULL;
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
  sample_cpu (s);
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
  sample_disks (s);
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
