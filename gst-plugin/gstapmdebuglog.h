/* gst-apm: GStreamer's debug log as structured JSON log lines
 *
 * With the tracer param gst-debug="CATEGORY:LEVEL,...", a GStreamer log
 * function turns the messages of the matching categories into log lines of
 * component "gstreamer", carrying the correlation id of the job running in
 * the pipeline of the object they are about.  Off (no log function, no
 * threshold raised) without the param.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* Raises the thresholds of @spec's categories (a list validated by the
 * params parser: "GST_STATES:4,audio*:5", numeric levels) and installs the
 * log function.  Without GST_DEBUG in the environment, GStreamer's own
 * stderr output is removed so the categories go only to the JSON log.
 * Once per process; returns FALSE if the bridge was already on. */
gboolean gst_apm_debug_log_start (const gchar * spec);

/* Removes the log function and drops what is still queued (at
 * gst_deinit(), before the service goes). */
void gst_apm_debug_log_stop (void);

G_END_DECLS
