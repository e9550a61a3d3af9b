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

G_END_DECLS
