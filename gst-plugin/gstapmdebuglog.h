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

/* Removes the log function and writes what is still queued as log lines
 * (at gst_deinit(), before the service goes and flushes its export). */
void gst_apm_debug_log_stop (void);

/* The run of @pipeline (its watch's label) now playing: messages about its
 * objects carry @correlation_id from now on, until end_run (@correlation_id
 * %NULL: whichever run; else only if it is still that one's).  Any thread;
 * takes only the bridge's leaf lock; nothing without the bridge. */
void gst_apm_debug_log_set_run (const gchar * pipeline,
    const gchar * correlation_id);
void gst_apm_debug_log_end_run (const gchar * pipeline,
    const gchar * correlation_id);

G_END_DECLS
