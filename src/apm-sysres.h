/* gst-apm: process and system resources, sampled from /proc */
#pragma once

#include "apm-metrics.h"

G_BEGIN_DECLS

typedef struct _ApmSysres ApmSysres;

ApmSysres *apm_sysres_new (ApmRegistry * registry);
void apm_sysres_free (ApmSysres * sysres);

/* Samples everything once (service thread, once a second). */
void apm_sysres_sample (ApmSysres * sysres);

/* Last sampled values, for health checks. */
gdouble apm_sysres_memory_used_percent (ApmSysres * sysres);
gdouble apm_sysres_cpu_percent (ApmSysres * sysres);

/* A /proc stat file of this process or of one of its threads (proc(5)) */
typedef struct
{
  gdouble cpu_seconds;          /* utime + stime */
  glong num_threads;
  gdouble start_seconds;        /* starttime: after boot */
  gulong vsize;                 /* bytes */
  glong rss;                    /* pages */
} ApmProcStat;

/* Parses @path ("/proc/self/stat", "/proc/self/task/TID/stat"): FALSE if
 * it is gone or unreadable.  @comm (may be NULL): the name between its
 * parentheses (free with g_free()). */
gboolean apm_proc_stat_read (const gchar * path, ApmProcStat * stat,
    gchar ** comm);

/* CPU time (user and system) of thread @tid of this process in seconds,
 * and its @name (may be NULL; free with g_free()), or < 0 if it is gone. */
gdouble apm_thread_cpu_seconds (gint tid, gchar ** name);

G_END_DECLS
