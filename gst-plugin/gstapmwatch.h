/* gst-apm: which pipelines the service watches: the interface the tracer
 * and apmonitor use
 *
 * The watch list and labels are in gstapmwatch.c, the rest in a file per
 * concern (see gstapmwatch-private.h): telling the user
 * (gstapmannounce.c), runs (gstapmruns.c), posted messages
 * (gstapmmessages.c) and local files (gstapmfiles.c).
 */
#pragma once

#include <gst/gst.h>
#include "apm-service.h"
#include "gstapmaggregate.h"

G_BEGIN_DECLS

/* --- telling the user (gstapmannounce.c) --- */

/* Configures the process-wide service (first configuration wins) and keeps
 * @problems (strings) to report when the first pipeline is watched. */
void gst_apm_watch_configure (const ApmServiceConfig * config,
    GPtrArray * problems);

/* The first call sets what every pipeline run of the process continues:
 * @config's run_traceparent (nullable), else $TRACEPARENT, and its
 * run_labels.  A bad $TRACEPARENT is a problem added to @problems (or,
 * with NULL, logged); later calls do nothing (gstapmruns.c). */
void gst_apm_runs_configure (const ApmServiceConfig * config,
    GPtrArray * problems);

/* TRUE if the tracer's param or the configuration file asked for bus
 * messages (apm-service, configuration warnings, apm-alert). */
gboolean gst_apm_watch_bus_messages (void);

/* --- the watch list and labels (gstapmwatch.c) --- */

/* The top-level bin @element belongs to (a new reference), or NULL. */
GstElement *gst_apm_watch_find_top (GstElement * element);

/* Starts watching @pipeline (a top-level bin) once: starts the service
 * and registers its health check.  With @post (an apmonitor, inserted on
 * purpose) or the bus-messages configuration, also posts the "apm-service"
 * element message with the URL on its bus, once per pipeline, and the
 * configuration's problems as WARNING messages. */
void gst_apm_watch_pipeline (GstElement * pipeline, gboolean post);

/* The tracer is loaded: its hooks keep the watches' state. */
void gst_apm_watch_set_traced (void);

/* What labels @pipeline's series, health check, jobs and model entry (a
 * new string): its name, or "name#2", "name#3"... when a watched pipeline
 * that still exists already has the name as its label.  Chosen when the
 * pipeline is first watched (NULL to READY) and kept until it is freed,
 * through renames and stops; a pipeline never watched gets its name.
 * Lock-free: callable from any thread (never per buffer: it allocates). */
gchar *gst_apm_watch_pipeline_label (GstElement * pipeline);

/* The label of a watched @pipeline, or NULL if it is not watched; takes no
 * object lock (for the debug-log bridge, which may run with it held). */
gchar *gst_apm_watch_peek_label (GstElement * pipeline);

/* Hooks: what the service thread needs of a watched pipeline, kept so that
 * it never takes a reference on the pipeline: the state from its own
 * STATE_CHANGED messages, the latency from its latency queries. */
void gst_apm_watch_pipeline_state (GstElement * pipeline, GstState state,
    GstState pending);
void gst_apm_watch_pipeline_latency (GstElement * pipeline, GstQuery * query);

/* --- stuck state changes (gstapmstuck.c) --- */

#define GST_APM_DEFAULT_STUCK_TIMEOUT 10.0

/* The stuck-timeout param or configuration (first wins; <= 0: unset). */
void gst_apm_stuck_configure (gint seconds);
gdouble gst_apm_stuck_timeout (void);

/* Tracer change-state-post hook of a top-level pipeline whose change
 * returned ASYNC: its state and target, which no message tells yet. */
void gst_apm_stuck_async (GstElement * pipeline);

typedef struct
{
  const gchar *label;
  GstState state;
  GstState pending;             /* the target of a change under way */
  gdouble stuck_s;              /* past the stuck timeout, else 0 */
  gboolean latency_known, live;
  GstClockTime latency_min, latency_max;
  GstApmFlow *flow;             /* the pipeline's, for the aggregator */
} GstApmWatchInfo;

typedef void (*GstApmWatchInfoFunc) (const GstApmWatchInfo * info,
    gpointer user_data);

/* Service thread: @func on a snapshot of every watched pipeline that
 * exists, without a reference on any. */
void gst_apm_watch_foreach_info (GstApmWatchInfoFunc func,
    gpointer user_data);

/* Calls @func on every watched pipeline that still exists (a ref). */
void gst_apm_watch_foreach_pipeline (GFunc func, gpointer user_data);

/* --- runs, turned into jobs (gstapmruns.c) --- */

/* The tracer's view of a top-level pipeline's state changes: runs (jobs)
 * start at PLAYING and end at EOS, ERROR or stop.  Also logs the change
 * and rescans the pipeline's local files. */
void gst_apm_watch_state_changed (GstElement * pipeline,
    GstStateChange transition, GstClockTime ts);

/* Tracer change-state-pre hook of a top-level pipeline: READY_TO_PAUSED
 * starts a run's clock, before any source streams. */
void gst_apm_watch_state_changing (GstElement * pipeline,
    GstStateChange transition, GstClockTime ts);

/* When the current run of the pipeline labelled @label started (tracer
 * hook time), or GST_CLOCK_TIME_NONE. */
GstClockTime gst_apm_watch_run_start (const gchar * label);

/* When the last (or current) run of the pipeline labelled @label started
 * and ended (@end: GST_CLOCK_TIME_NONE while it runs), on
 * gst_util_get_timestamp()'s clock; FALSE if it has not run. */
gboolean gst_apm_watch_run_window (const gchar * label, GstClockTime * start,
    GstClockTime * end);

/* --- posted messages (gstapmmessages.c) --- */

/* ERROR, WARNING, EOS and QOS messages, as posted by @element. */
void gst_apm_watch_message (GstElement * element, GstMessage * message);

/* --- local files, for disk-space checks (gstapmfiles.c) --- */

/* Rescans the local files of a watched @pipeline (apmonitor without the
 * tracer, at its state changes; the tracer does it in its hooks). */
void gst_apm_watch_scan_files (GstElement * pipeline);

/* gstapmruns.c: the trace id of the run of pipeline @pipeline (a label)
 * now, for exemplars: its job's correlation id as 32 hex digits.  FALSE
 * without a run.  Service thread (takes the watch list's lock). */
gboolean gst_apm_run_trace_id (const gchar * pipeline,
    gchar out[APM_TRACE_ID_LEN + 1]);

G_END_DECLS
