/* gst-apm: health checks of things outside the process: HTTP and paths */
#pragma once

#include "apm-health.h"

G_BEGIN_DECLS

/* GET @url must answer @expect_status within @timeout_s.  Runs in a health
 * worker (it blocks). */
void apm_probes_add_http (ApmHealth * health, const gchar * name,
    const gchar * url, guint expect_status, guint timeout_s,
    guint interval_s);

/* @path must exist, and its filesystem have at least @min_free_bytes free
 * (0: no minimum); below twice the minimum it is degraded. */
void apm_probes_add_path (ApmHealth * health, const gchar * name,
    const gchar * path, guint64 min_free_bytes, guint interval_s);

/* Free and total bytes of the filesystem holding @path. */
gboolean apm_probes_disk_space (const gchar * path, guint64 * free_bytes,
    guint64 * total_bytes);

G_END_DECLS
