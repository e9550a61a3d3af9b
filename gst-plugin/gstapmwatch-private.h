/* gst-apm: a watched pipeline, as the files that keep it share it
 *
 * gstapmwatch.c     the list of watches, labels, the health check, the
 *                   tracer's state and latency hooks
 * gstapmannounce.c  telling the user: configuration problems, the URL,
 *                   "apm-service" and "apm-alert" bus messages
 * gstapmruns.c      runs turned into jobs
 * gstapmmessages.c  ERROR, WARNING, EOS and QOS messages: metrics, the
 *                   last error, the end of a run
 * gstapmfiles.c     the local files of a pipeline, for disk-space checks
 * gstapmstuck.c     state changes that do not complete
 */
#pragma once

#include "gstapmwatch.h"

G_BEGIN_DECLS

GST_DEBUG_CATEGORY_EXTERN (apm_watch_debug);

/* In a g_atomic_rc_box: held by the pipeline's qdata, its health check,
 * the list and the weak-ref notify, and briefly by readers. */
typedef struct
{
  GWeakRef pipeline;
  gchar *label;                 /* gst_apm_watch_pipeline_label(), fixed */
  gchar *check_name;
  GMutex lock;
  gchar *last_error;            /* the run's first ERROR, under lock */
  /* runs (gstapmruns.c) */
  gchar *job_id;                /* the active run, under lock */
  guint n_runs;
  GstApmPipelineTotals run_start;       /* what it had carried then */
  GstClockTime run_start_ts;    /* tracer hook time */
  /* the last run's window on gst_util_get_timestamp()'s clock (hook times
   * count from gst_init()): its end is NONE while it runs */
  GstClockTime run_start_mono, run_end_mono;
  GstApmFlow flow;              /* stall detection (gstapmaggregate.c) */
  /* local files (gstapmfiles.c), under lock */
  GstState files_state;         /* when last scanned; NULL: none known */
  /* "apm-service" is on its bus (gstapmannounce.c, under its lock) */
  gboolean service_posted;
  /* what the service thread reads instead of the pipeline, so that it never
   * holds a reference on it: kept by the tracer's hooks */
  gint state, pending;          /* GstState, atomic: its STATE_CHANGED */
  gint gone;                    /* atomic: the pipeline was freed */
  gboolean latency_known, live; /* its last latency query, under lock */
  GstClockTime latency_min, latency_max;
  /* QoS messages of the run not yet logged, and when last logged (at most
   * one line a second: gstapmmessages.c), under lock */
  guint qos_unlogged;
  gint64 qos_logged_us;
  /* the same for WARNING messages */
  guint warnings_unlogged;
  gint64 warning_logged_us;
  /* stuck state changes (gstapmstuck.c), under lock */
  gint64 progress_us;           /* the state last progressed (monotonic) */
  gchar **sinks;                /* paths of its sinks, scanned at PAUSED */
  gdouble stuck_s;              /* 0 unless stuck (service thread) */
  gchar *stuck_message;
  /* recovery (gstapmrecovery.c), under lock */
  gchar *last_cid;              /* the current or last run's correlation id */
  gboolean bus_intercepted;     /* our sync handler is on its bus */
} PipelineWatch;

/* The quark of the watch in a pipeline's qdata (initializes the debug
 * category). */
GQuark gst_apm_watch_quark (void);

/* The watch of a top-level @pipeline (no new reference: it lives as long as
 * the caller's reference on the pipeline), or NULL. */
PipelineWatch *gst_apm_watch_of (GstElement * pipeline);

/* The watch of the pipeline @element belongs to (a new reference), or
 * NULL; @is_top: @element is that pipeline. */
PipelineWatch *gst_apm_watch_of_element (GstElement * element,
    gboolean is_top);

/* The watch of the live pipeline labelled @label (a new reference), or
 * NULL. */
PipelineWatch *gst_apm_watch_ref_by_label (const gchar * label);

void gst_apm_watch_unref (PipelineWatch * w);

/* gstapmannounce.c: reports pending configuration problems and the URL
 * once per process, starting the service; returns the URL and the problems
 * to post (both for gst_apm_announce_post()). */
gchar *gst_apm_announce (GPtrArray ** problems);

/* With @post: the @problems as WARNING messages on @pipeline's bus, and
 * "apm-service" with @url once per pipeline.  Frees @problems. */
void gst_apm_announce_post (GstElement * pipeline, PipelineWatch * w,
    gboolean post, GPtrArray * problems, const gchar * url);

/* "apm-service" with the URL on @pipeline's bus, once per pipeline. */
void gst_apm_announce_service (GstElement * pipeline, PipelineWatch * w,
    const gchar * url);

/* @service's alerts as "apm-alert" bus messages (once per service). */
void gst_apm_announce_alerts (ApmService * service);

/* gstapmruns.c: starts a run (a job) of @w's pipeline unless one is
 * active; @fresh forgets the previous run's error. */
void gst_apm_run_start (PipelineWatch * w, gboolean fresh);

/* Ends the active run of @w, if any, with what it transferred (unless the
 * pipeline is gone). */
void gst_apm_run_end (PipelineWatch * w, const gchar * status,
    const gchar * error);

/* gstapmfiles.c: the disk-space checks of @service's pipelines. */
void gst_apm_files_ensure (ApmService * service);

/* Scans @pipeline for its files once it is READY or PAUSED and forgets
 * them at NULL. */
void gst_apm_files_sync (PipelineWatch * w, GstElement * pipeline,
    GstState state);

/* Forgets the files of @w's pipeline (it is gone). */
void gst_apm_files_forget (PipelineWatch * w);

/* gstapmstuck.c: the state of @w's pipeline progressed (now). */
void gst_apm_stuck_progress (PipelineWatch * w);

/* Keeps the sinks of @pipeline (thread changing its state, no lock held). */
void gst_apm_stuck_scan_sinks (PipelineWatch * w, GstElement * pipeline);

/* "sink fakesink0 has no buffer" for the sinks of @w's pipeline without a
 * buffer in this run, or NULL (a new string). */
gchar *gst_apm_stuck_missing_sinks (PipelineWatch * w);

/* Service thread, once a second: the seconds @w's pipeline has been stuck
 * changing from @state to @pending past the stuck timeout (0 if not), kept
 * with a message naming what has not completed for its health check. */
gdouble gst_apm_stuck_update (PipelineWatch * w, GstState state,
    GstState pending);

G_END_DECLS
