/* gst-apm: health checks of things outside the process: HTTP and paths */
#pragma once

#include "apm-health.h"
#include "apm-breaker-private.h"

G_BEGIN_DECLS

/* GET @url must answer @expect_status within @timeout_s.  Runs in a health
 * worker (it blocks). */
void apm_probes_add_http (ApmHealth * health, const gchar * name,
    const gchar * url, guint expect_status, guint timeout_s,
    guint interval_s);
/* The same with the settings of the probe's circuit breaker, named
 * "health:NAME" (NULL: APM_PROBE_BREAKER_*).  While it is open the URL is
 * not requested: the check repeats its last status, saying so.  The
 * breaker lives on the default service, whose @health this must be. */
void apm_probes_add_http_full (ApmHealth * health, const gchar * name,
    const gchar * url, guint expect_status, guint timeout_s,
    guint interval_s, const ApmBreakerSettings * breaker);

/* @path must exist, and its filesystem have at least @min_free_bytes
 * available (0: no minimum); below twice the minimum it is degraded. */
void apm_probes_add_path (ApmHealth * health, const gchar * name,
    const gchar * path, guint64 min_free_bytes, guint interval_s);

/* Space of a filesystem, in bytes (statvfs) */
typedef struct
{
  guint64 free_bytes;           /* free blocks, including root's reserve */
  guint64 avail_bytes;          /* what an unprivileged writer can use */
  guint64 size_bytes;
} ApmDiskSpace;

/* statvfs() of @path (it may block: worker threads only).  On failure
 * returns FALSE with errno set. */
gboolean apm_probes_disk_space (const gchar * path, ApmDiskSpace * space);

/* Free-space limits: a filesystem whose available space is below either
 * unhealthy limit is unhealthy, below either degraded one degraded.  A
 * limit of 0 is off.  Ratios are of the filesystem's size (0.1 = 10 %). */
typedef struct
{
  guint64 degraded_bytes;
  guint64 unhealthy_bytes;
  gdouble degraded_ratio;
  gdouble unhealthy_ratio;
} ApmSpaceLimits;

/* The status of @space under @limits, with a message ("12.0 GiB free of
 * 100.0 GiB (12.0 %)" and the limit passed) and the figures added to
 * @details: free_bytes (available), total_bytes, free_ratio. */
ApmHealthStatus apm_probes_space_status (const ApmDiskSpace * space,
    const ApmSpaceLimits * limits, JsonObject * details, gchar ** message);

G_END_DECLS
