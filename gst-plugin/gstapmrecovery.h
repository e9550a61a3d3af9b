/* gst-apm: automated recovery, the GStreamer side (gstapmrecovery.c) */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* Registers the actions (restart, flush) with the core's recovery. */
void gst_apm_recovery_install (void);

/* Unregisters them and stops the recovery thread (gst_deinit). */
void gst_apm_recovery_uninstall (void);

/* Service thread, once a second per watched pipeline: reports a stuck
 * change or a stall of pipeline @label to the recovery, or that it plays
 * cleanly. */
void gst_apm_recovery_tick (const gchar * label, GstState state,
    gdouble stalled_s, gdouble stuck_s);

/* Tracer hook, NULL to READY of a top-level pipeline (the application's
 * thread, no lock held): installs the sync handler that intercepts ERROR
 * messages for recovery if the application opted in for this pipeline. */
void gst_apm_recovery_watch_bus (GstElement * pipeline);

G_END_DECLS
