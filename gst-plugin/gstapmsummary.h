/* gst-apm: the end-of-run summary (tracer param summary=) */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* @setting: NULL or "false" (off), "true" (a table on stderr at exit), or
 * a path ending in .json or .html (the full report written there), as
 * checked by the params. */
void gst_apm_summary_configure (const gchar * setting);

/* A top-level pipeline's run ends (its PAUSED to READY, a state-change
 * hook): keeps its report for the summary.  Cheap when off. */
void gst_apm_summary_capture (GstElement * pipeline);

/* Prints or writes the summary once: at gst_deinit() (the tracer's
 * finalize) or at exit, whichever comes first. */
void gst_apm_summary_finish (void);

G_END_DECLS
