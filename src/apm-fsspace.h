/* gst-apm: free space of the filesystems that pipelines read and write
 *
 * The GStreamer glue says which local files each pipeline uses; this keeps
 * one health check "disk:<mount point>" per filesystem among them, and the
 * gauges apm_filesystem_{avail,free,size}_bytes{mount}.  The mount point of
 * a file is found in /proc/self/mountinfo (the longest mount point holding
 * its path), so nothing here touches the filesystems themselves: statvfs(),
 * which can hang on a dead network mount, runs in a health worker with a
 * timeout.  A filesystem that no pipeline uses any more loses its check,
 * and its series retire.
 */
#pragma once

#include "apm-health.h"
#include "apm-metrics.h"
#include "apm-probes.h"

G_BEGIN_DECLS

typedef struct _ApmFsSpace ApmFsSpace;

ApmFsSpace *apm_fsspace_new (ApmHealth * health, ApmRegistry * registry);
/* Removes its checks and retires its series. */
void apm_fsspace_free (ApmFsSpace * space);

/* Replaces the local files that @owner (a pipeline) reads or writes with
 * @paths (file names, NULL-terminated; relative ones are taken from the
 * current directory; NULL or empty: none).  Any thread; never blocks on
 * the filesystems. */
void apm_fsspace_set_paths (ApmFsSpace * space, const gchar * owner,
    const gchar * const *paths);

/* Limits and interval of every disk check, process-wide (the configuration
 * file's "disk_space").  Defaults: degraded below 10 % available,
 * unhealthy below 5 %, no byte limits, every 10 s. */
#define APM_FSSPACE_DEFAULT_DEGRADED_RATIO 0.10
#define APM_FSSPACE_DEFAULT_UNHEALTHY_RATIO 0.05
#define APM_FSSPACE_DEFAULT_INTERVAL 10
void apm_fsspace_set_defaults (const ApmSpaceLimits * limits,
    guint interval_s);
void apm_fsspace_get_defaults (ApmSpaceLimits * limits, guint * interval_s);

/* The mount point of the filesystem holding @path per /proc/self/mountinfo
 * (by path only, symbolic links are not followed), or NULL. */
gchar *apm_fsspace_mount_of (const gchar * path);

G_END_DECLS
