/* gst-apm: runs of a watched pipeline, turned into jobs (apm-jobs.c)
 *
 * A run starts when the pipeline reaches PLAYING (or fails before it) and
 * ends at EOS, at its first ERROR, or when it stops: the job records its
 * status, its error and what it transferred (media time, bytes read by
 * the sources, bytes written by the sinks).
 *
 * Every run of the process continues the trace of one W3C traceparent
 * (the tracer's param traceparent=, else $TRACEPARENT, OpenTelemetry's
 * environment carrier) as a child of its span, and carries the labels of
 * the param labels=.
 */
#include "gstapmdebuglog.h"
#include "gstapmwatch-private.h"

#include "gstapmstats.h"

#define GST_CAT_DEFAULT apm_watch_debug

/* the runs' parent span and labels, set once per process */
static GMutex runs_lock;
static gboolean runs_configured;
static gboolean runs_have_parent;
static ApmTraceContext runs_parent;
static gchar **runs_labels;

void
gst_apm_runs_configure (const ApmServiceConfig * config,
    GPtrArray * problems)
{
  const gchar *text = config ? config->run_traceparent : NULL;
  const gchar *why = NULL;
  gchar *problem = NULL;

  g_mutex_lock (&runs_lock);
  if (runs_configured) {
    g_mutex_unlock (&runs_lock);
    return;
  }
  runs_configured = TRUE;
  /* the param was checked when parsed: only the environment can be bad */
  if (!text)
    text = g_getenv ("TRACEPARENT");
  if (text && *text) {
    runs_have_parent = apm_traceparent_parse (text, &runs_parent, &why);
    if (!runs_have_parent)
      problem = g_strdup_printf ("TRACEPARENT='%s' is not a W3C traceparent "
          "(%s): pipeline runs start new traces", text, why);
  }
  if (config && config->run_labels)
    runs_labels = g_strdupv (config->run_labels);
  g_mutex_unlock (&runs_lock);

  if (problem && problems) {
    g_ptr_array_add (problems, problem);
  } else if (problem) {
    GST_WARNING ("%s", problem);
    apm_log_write (apm_service_get_log (apm_service_get_default ()),
        APM_LOG_WARNING, "config", NULL, NULL, "%s", problem);
    g_free (problem);
  }
}

/* what the pipeline's sources and sinks carried so far, up to now */
static void
transfer_totals (const gchar * pipeline, GstApmPipelineTotals * totals)
{
  gst_apm_stats_fold (FALSE);
  gst_apm_aggregate_pipeline_totals (pipeline, totals);
}

void
gst_apm_run_end (PipelineWatch * w, const gchar * status, const gchar * error)
{
  ApmJobs *jobs = apm_service_get_jobs (apm_service_get_default ());
  gboolean alive = !g_atomic_int_get (&w->gone);
  gchar *job_id;
  GstApmPipelineTotals now;

  g_mutex_lock (&w->lock);
  job_id = w->job_id;
  w->job_id = NULL;
  if (job_id)
    w->run_end_mono = gst_util_get_timestamp ();
  g_mutex_unlock (&w->lock);
  if (job_id && alive) {
    transfer_totals (w->label, &now);
    apm_jobs_set_transfer (jobs, job_id, now.media - w->run_start.media,
        (gint64) (now.bytes_read - w->run_start.bytes_read),
        (gint64) (now.bytes_written - w->run_start.bytes_written));
  }
  if (job_id) {
    /* its debug lines from here on belong to no run */
    gst_apm_debug_log_end_run (w->label, NULL);
    apm_jobs_complete (jobs, job_id, status, error);
  }
  g_free (job_id);
}

void
gst_apm_run_start (PipelineWatch * w, gboolean fresh)
{
  gchar *job_id = NULL, *cid, **labels;
  ApmTraceContext parent;
  gboolean have_parent;

  g_mutex_lock (&w->lock);
  if (!w->job_id) {
    w->job_id = g_strdup_printf ("%s#%u", w->label, ++w->n_runs);
    job_id = g_strdup (w->job_id);
    if (fresh)
      g_clear_pointer (&w->last_error, g_free);
  }
  g_mutex_unlock (&w->lock);
  if (!job_id)
    return;
  /* a process with an apmonitor and no tracer reads $TRACEPARENT here */
  gst_apm_runs_configure (NULL, NULL);
  g_mutex_lock (&runs_lock);
  have_parent = runs_have_parent;
  parent = runs_parent;
  labels = g_strdupv (runs_labels);
  g_mutex_unlock (&runs_lock);
  cid = apm_jobs_start_full (apm_service_get_jobs (apm_service_get_default ()),
      job_id, w->label, have_parent ? &parent : NULL,
      (const gchar * const *) labels);
  g_mutex_lock (&w->lock);
  g_free (w->last_cid);
  w->last_cid = g_strdup (cid);
  g_mutex_unlock (&w->lock);
  GST_DEBUG ("%s: run %s started, correlation id %s", w->label, job_id,
      cid);
  if (cid) {
    gboolean ended;

    gst_apm_debug_log_set_run (w->label, cid);
    /* an instant run may have ended meanwhile (EOS on another thread) */
    g_mutex_lock (&w->lock);
    ended = g_strcmp0 (w->job_id, job_id) != 0;
    g_mutex_unlock (&w->lock);
    if (ended)
      gst_apm_debug_log_end_run (w->label, cid);
  }
  g_strfreev (labels);
  g_free (cid);
  g_free (job_id);
}

typedef struct
{
  const gchar *pipeline;
} RunReset;

static void
reset_first_buffer (gpointer data, gpointer user_data)
{
  GstApmElementStats *es = data;
  RunReset *r = user_data;

  if (g_strcmp0 (es->pipeline, r->pipeline) == 0) {
    es->first_ts = 0;
    es->run_cpu_ns = -1;
    gst_apm_element_stats_reset_queue_fill (es);
  }
}

void
gst_apm_watch_state_changing (GstElement * pipeline,
    GstStateChange transition, GstClockTime ts)
{
  PipelineWatch *w = gst_apm_watch_of (pipeline);

  if (!w || transition != GST_STATE_CHANGE_READY_TO_PAUSED)
    return;
  /* before the sources start: time to first byte counts from here, and a
   * new attempt's errors are its own (cleared after the change, a source
   * that already failed would count as a second failed run) */
  g_mutex_lock (&w->lock);
  if (!w->job_id) {
    w->run_start_ts = ts;
    w->run_start_mono = gst_util_get_timestamp ();
    w->run_end_mono = GST_CLOCK_TIME_NONE;
    g_clear_pointer (&w->last_error, g_free);
  }
  g_mutex_unlock (&w->lock);
}

GstClockTime
gst_apm_watch_run_start (const gchar * label)
{
  GstClockTime start = GST_CLOCK_TIME_NONE;
  PipelineWatch *w;

  if ((w = gst_apm_watch_ref_by_label (label))) {
    g_mutex_lock (&w->lock);
    start = w->run_start_ts;
    g_mutex_unlock (&w->lock);
    gst_apm_watch_unref (w);
  }
  return start;
}

gboolean
gst_apm_watch_run_window (const gchar * label, GstClockTime * start,
    GstClockTime * end)
{
  PipelineWatch *w = gst_apm_watch_ref_by_label (label);

  *start = *end = GST_CLOCK_TIME_NONE;
  if (!w)
    return FALSE;
  g_mutex_lock (&w->lock);
  *start = w->run_start_mono;
  *end = w->run_end_mono;
  g_mutex_unlock (&w->lock);
  gst_apm_watch_unref (w);
  return GST_CLOCK_TIME_IS_VALID (*start);
}

/* the change as a log line, with the run's correlation id if one is
 * active (a span event of the run in OTLP exports) */
static void
log_state_change (PipelineWatch * w, GstStateChange transition)
{
  {
    ApmService *service = apm_service_get_default ();
    JsonObject *ctx = json_object_new ();
    const gchar *from = gst_element_state_get_name
        (GST_STATE_TRANSITION_CURRENT (transition));
    const gchar *to = gst_element_state_get_name
        (GST_STATE_TRANSITION_NEXT (transition));
    gchar *active_cid = NULL;

    g_mutex_lock (&w->lock);
    if (w->job_id)
      active_cid = apm_jobs_correlation_id (apm_service_get_jobs (service),
          w->job_id);
    g_mutex_unlock (&w->lock);
    json_object_set_string_member (ctx, "pipeline", w->label);
    json_object_set_string_member (ctx, "from", from);
    json_object_set_string_member (ctx, "to", to);
    apm_log_write (apm_service_get_log (service), APM_LOG_INFO, "pipeline",
        active_cid, ctx, "pipeline %s: %s -> %s", w->label, from, to);
    g_free (active_cid);
  }
}

void
gst_apm_watch_state_changed (GstElement * pipeline, GstStateChange transition,
    GstClockTime ts)
{
  PipelineWatch *w = gst_apm_watch_of (pipeline);

  if (!w)
    return;
  /* PLAYING starts the run: logged after, as the run's first event */
  if (transition != GST_STATE_CHANGE_PAUSED_TO_PLAYING)
    log_state_change (w, transition);
  if (transition == GST_STATE_CHANGE_NULL_TO_READY
      || transition == GST_STATE_CHANGE_READY_TO_PAUSED
      || transition == GST_STATE_CHANGE_READY_TO_NULL)
    gst_apm_files_sync (w, pipeline, GST_STATE_TRANSITION_NEXT (transition));
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED)
    gst_apm_stuck_scan_sinks (w, pipeline);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_PLAYING) {
    gboolean failed;

    /* an attempt that failed while prerolling (its run already counted as
     * failed) may still reach PLAYING before the application stops it: no
     * new run, or the source's follow-up "stream stopped" error would fail
     * that one too */
    g_mutex_lock (&w->lock);
    failed = w->last_error != NULL && w->job_id == NULL;
    g_mutex_unlock (&w->lock);
    if (!failed)
      gst_apm_run_start (w, TRUE);
    log_state_change (w, transition);
  } else if (transition == GST_STATE_CHANGE_READY_TO_NULL
      || transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    gst_apm_run_end (w, "stopped", NULL);
  }
  if (transition == GST_STATE_CHANGE_NULL_TO_READY
      || transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    RunReset r = { w->label };

    /* the next run reads from preroll on: count from here, in READY where
     * nothing streams (at READY_TO_PAUSED's end the sources have already
     * pushed their first buffers) */
    gst_apm_element_stats_foreach (reset_first_buffer, &r);
    transfer_totals (w->label, &w->run_start);
  }
}

gboolean
gst_apm_run_trace_id (const gchar * pipeline, gchar out[APM_TRACE_ID_LEN + 1])
{
  PipelineWatch *w = gst_apm_watch_ref_by_label (pipeline);
  gchar *job_id = NULL, *cid = NULL;
  gboolean ok;

  if (!w)
    return FALSE;
  g_mutex_lock (&w->lock);
  job_id = g_strdup (w->job_id);
  g_mutex_unlock (&w->lock);
  gst_apm_watch_unref (w);
  if (job_id)
    cid = apm_jobs_correlation_id (apm_service_get_jobs
        (apm_service_get_default ()), job_id);
  ok = cid && apm_trace_id_from_correlation_id (cid, out);
  g_free (cid);
  g_free (job_id);
  return ok;
}
