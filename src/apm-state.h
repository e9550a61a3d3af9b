/* gst-apm: the state file, which keeps the history, the alert history and
 * the finished jobs across restarts
 *
 * With a state directory (tracer param state-dir, configuration state_dir)
 * the service reads STATE_DIR/apm-state.bin when it starts and writes it
 * every APM_STATE_SAVE_INTERVAL seconds (in a thread of its own: the
 * service thread only encodes) and when it stops.  Each write goes to a
 * temporary file, is synced and renamed over the old one, so a crash
 * leaves the previous state whole.  A file that is not ours, of another
 * version, truncated or altered is reported and set aside as
 * apm-state.bin.corrupt-TIME; the service starts empty.
 *
 * Format (little-endian): "GSTAPMST", u32 version, u32 section count,
 * u64 payload length, u64 checksum of the payload, then the payload:
 * sections of u32 tag, u64 length, data.  Tags: HIST (apm-history-save.c),
 * ALRT (the alert history as JSON), JOBS (finished jobs as JSON).
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include "apm-metrics.h"
#include "apm-alerts.h"
#include "apm-jobs.h"

G_BEGIN_DECLS

#define APM_STATE_FILE "apm-state.bin"
#define APM_STATE_VERSION 1
#define APM_STATE_SAVE_INTERVAL 60

/* The whole state as the file holds it. */
GBytes *apm_state_encode (ApmRegistry * registry, ApmAlerts * alerts,
    ApmJobs * jobs);

/* Restores @data into the three (any may be NULL to skip it).  FALSE with
 * @error when the data is not a state file of this version or is
 * damaged; then nothing is restored. */
gboolean apm_state_decode (const guint8 * data, gsize len,
    ApmRegistry * registry, ApmAlerts * alerts, ApmJobs * jobs,
    GError ** error);

/* Writes @bytes to @path atomically (temporary file, fsync, rename). */
gboolean apm_state_write_file (const gchar * path, GBytes * bytes,
    GError ** error);

/* Reads @path into the three: a missing file is no problem; one that does
 * not decode is renamed PATH.corrupt-TIME and the problem returned in
 * @problem (caller frees).  FALSE if nothing was restored. */
gboolean apm_state_load_file (const gchar * path, ApmRegistry * registry,
    ApmAlerts * alerts, ApmJobs * jobs, gchar ** problem);

/* --- the service's use (apm-service.c) --- */
struct _ApmService;
typedef struct _ApmState ApmState;

/* Service thread: loads the state and starts the periodic saves, if the
 * service has a state directory. */
void apm_state_start (struct _ApmService *service);
/* Service thread, at the end: waits for a write under way and writes the
 * state a last time. */
void apm_state_stop (struct _ApmService *service);
/* "state": {"dir", "file", "saved_at", "bytes", "save_ms", "error",
 * "restored": {...}} into @service_object, when there is a state dir. */
void apm_state_describe (struct _ApmService *service,
    JsonObject * service_object);
void apm_state_free (ApmState * state);

G_END_DECLS
