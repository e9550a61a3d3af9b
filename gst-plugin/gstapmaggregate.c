/* gst-apm: what the service thread derives from the tracer's raw counts
 *
 * Once a second, off the streaming threads: real-time factors, queue fill
 * levels (properties read here, never per buffer), CPU time per streaming
 * thread (from /proc), pipeline states and their LATENCY query.
 */
#include "gstapmaggregate.h"
#include "gstapmstats.h"
#include "gstapmwatch.h"
#include "gstapmrecovery.h"
#include "apm-sysres.h"

#include <math.h>
#include <string.h>

static ApmService *registered_on;
static ApmFamily *f_el_rtf, *f_queue[3], *f_thread_cpu, *f_state, *f_reported, *f_live,
    *f_stalled, *f_stuck, *f_rtf, *f_pool[3], *f_transfer_rate, *f_first_byte;
static GHashTable *thread_series;       /* tid -> ApmSeries */

static void
ensure_families (ApmRegistry * reg)
{
  static const gchar *const el[] = { "pipeline", "element", NULL };
  static const gchar *const th[] = { "thread", "tid", NULL };
  static const gchar *const pl[] = { "pipeline", NULL };
  static const gchar *const lat[] = { "pipeline", "bound", NULL };

  {
    static const gchar *const ell[] = { "pipeline", "element", "factory",
      NULL
    };

    f_el_rtf = apm_registry_family (reg, "apm_element_realtime_factor",
        APM_METRIC_GAUGE, "Media time processed per second of the "
        "element's own processing time over the last interval (above 1: "
        "faster than real time)", ell, NULL, 0);
  }
  f_queue[0] = apm_registry_family (reg, "apm_queue_level_buffers",
      APM_METRIC_GAUGE, "Buffers held by the queue", el, NULL, 0);
  f_queue[1] = apm_registry_family (reg, "apm_queue_level_bytes",
      APM_METRIC_GAUGE, "Bytes held by the queue", el, NULL, 0);
  f_queue[2] = apm_registry_family (reg, "apm_queue_level_seconds",
      APM_METRIC_GAUGE, "Media time held by the queue", el, NULL, 0);
  f_thread_cpu = apm_registry_family (reg, "apm_thread_cpu_seconds_total",
      APM_METRIC_COUNTER, "CPU time (user and system) of a streaming thread",
      th, NULL, 0);
  f_state = apm_registry_family (reg, "apm_pipeline_state",
      APM_METRIC_GAUGE, "Pipeline state: 1 NULL, 2 READY, 3 PAUSED, "
      "4 PLAYING", pl, NULL, 0);
  f_reported = apm_registry_family (reg,
      "apm_pipeline_reported_latency_seconds", APM_METRIC_GAUGE,
      "Latency reported by the pipeline's LATENCY query (max +Inf: "
      "unbounded)", lat, NULL, 0);
  f_live = apm_registry_family (reg, "apm_pipeline_live", APM_METRIC_GAUGE,
      "1 if the pipeline's LATENCY query says it is live", pl, NULL, 0);
  {
    static const gchar *const tl[] = { "pipeline", "element", "direction",
      NULL
    };

    f_transfer_rate = apm_registry_family (reg,
        "apm_transfer_bytes_per_second", APM_METRIC_GAUGE, "Bytes read by a "
        "source or written by a sink over the last second", tl, NULL, 0);
    f_first_byte = apm_registry_family (reg, "apm_transfer_first_byte_seconds",
        APM_METRIC_GAUGE, "Time from the run's start (READY to PAUSED) to the "
        "first buffer of a source or sink", tl, NULL, 0);
  }
  f_pool[0] = apm_registry_family (reg, "apm_pool_buffer_size_bytes",
      APM_METRIC_GAUGE, "Size of the buffers of the pool the element last "
      "sent from", el, NULL, 0);
  f_pool[1] = apm_registry_family (reg, "apm_pool_min_buffers",
      APM_METRIC_GAUGE, "Buffers the pool preallocates", el, NULL, 0);
  f_pool[2] = apm_registry_family (reg, "apm_pool_max_buffers",
      APM_METRIC_GAUGE, "Most buffers the pool holds (0: unlimited)", el,
      NULL, 0);
  f_stalled = apm_registry_family (reg, "apm_pipeline_stalled_seconds",
      APM_METRIC_GAUGE, "Seconds the PLAYING pipeline's sinks have received "
      "no buffer, once past the stall timeout (0 while flowing)", pl, NULL,
      0);
  f_stuck = apm_registry_family (reg, "apm_pipeline_stuck_seconds",
      APM_METRIC_GAUGE, "Seconds the pipeline's state change has been "
      "pending, once past the stuck timeout (0 otherwise)", pl, NULL, 0);
  f_rtf = apm_registry_family (reg, "apm_pipeline_realtime_factor",
      APM_METRIC_GAUGE, "Media time reaching the sinks per second of wall "
      "time over the last second, while PLAYING", pl, NULL, 0);
}

/* bytes per second and time to first byte of sources and sinks */
static void
collect_transfer (GstApmElementStats * es)
{
  const gchar *values[4] = { es->pipeline, es->path,
    es->is_source ? "read" : "write", NULL
  };
  gdouble bytes = apm_series_value (es->is_source ? es->bytes_out :
      es->bytes_in);

  if (!es->transfer_rate) {
    es->transfer_rate = apm_family_series (f_transfer_rate, values);
    es->prev_transfer = bytes;
  }
  apm_gauge_set (es->transfer_rate, MAX (bytes - es->prev_transfer, 0));
  es->prev_transfer = bytes;

  {
    GstClockTime start = gst_apm_watch_run_start (es->pipeline);
    GstClockTime first = es->first_ts;

    if (GST_CLOCK_TIME_IS_VALID (start) && first && first >= start) {
      if (!es->first_byte)
        es->first_byte = apm_family_series (f_first_byte, values);
      apm_gauge_set (es->first_byte, (first - start) / 1e9);
    }
  }
}

static void
collect_pool (GstApmElementStats * es)
{
  const gchar *values[3] = { es->pipeline, es->path, NULL };
  guint v[3];

  if (!gst_apm_element_stats_get_pool_params (es, v))
    return;
  for (guint i = 0; i < 3; i++) {
    if (!es->pool_gauges[i])
      es->pool_gauges[i] = apm_family_series (f_pool[i], values);
    apm_gauge_set_int (es->pool_gauges[i], v[i]);
  }
}

static void
collect_element (gpointer data, gpointer user_data)
{
  GstApmElementStats *es = data;
  /* in nanoseconds, exact: both only ever grow by integers */
  gint64 media = apm_series_int_value (es->media_in);
  gint64 proc = apm_series_sum_ns (es->processing);

  if (proc > es->prev_proc_ns && media > es->prev_media_ns) {
    if (!es->rtf) {
      const gchar *values[4] = { es->pipeline, es->path, es->factory, NULL };

      es->rtf = apm_family_series (f_el_rtf, values);
    }
    apm_gauge_set (es->rtf, (gdouble) (media - es->prev_media_ns) /
        (gdouble) (proc - es->prev_proc_ns));
  }
  es->prev_media_ns = media;
  es->prev_proc_ns = proc;
  if (es->is_source || es->is_sink)
    collect_transfer (es);
  collect_pool (es);

  {
    guint buffers, bytes;
    guint64 time;
    const gchar *values[3] = { es->pipeline, es->path, NULL };

    /* sampled by the queue's streaming threads: no reference taken here */
    if (!gst_apm_element_stats_get_queue_level (es, &buffers, &bytes, &time))
      return;
    for (guint i = 0; i < 3; i++)
      if (!es->queue_level[i])
        es->queue_level[i] = apm_family_series (f_queue[i], values);
    apm_gauge_set_int (es->queue_level[0], buffers);
    apm_gauge_set_int (es->queue_level[1], bytes);
    apm_gauge_set (es->queue_level[2], time / 1e9);
  }
}

static void
collect_thread (gpointer data, gpointer user_data)
{
  gint tid = GPOINTER_TO_INT (data);
  GHashTable *seen = user_data;
  gchar *name = NULL;
  gdouble cpu = apm_thread_cpu_seconds (tid, &name);
  ApmSeries *s;

  if (cpu < 0)
    return;
  g_hash_table_add (seen, GINT_TO_POINTER (tid));
  s = g_hash_table_lookup (thread_series, GINT_TO_POINTER (tid));
  if (s && g_strcmp0 (apm_series_label_values (s)[0], name) != 0) {
    /* a pooled thread now runs another task under another name */
    g_hash_table_remove (thread_series, GINT_TO_POINTER (tid));
    s = NULL;
  }
  if (!s) {
    gchar *tid_text = g_strdup_printf ("%d", tid);
    const gchar *values[3] = { name, tid_text, NULL };

    s = apm_family_series (f_thread_cpu, values);
    g_hash_table_insert (thread_series, GINT_TO_POINTER (tid), s);
    g_free (tid_text);
  }
  apm_gauge_set (s, cpu);
  g_free (name);
}

gdouble
gst_apm_aggregate_thread_cpu_seconds (gint tid)
{
  ApmSeries *s = thread_series ? g_hash_table_lookup (thread_series,
      GINT_TO_POINTER (tid)) : NULL;

  return s ? apm_series_value (s) : NAN;
}

static gboolean
thread_gone (gpointer key, gpointer value, gpointer user_data)
{
  return !g_hash_table_contains (user_data, key);
}

typedef struct
{
  const gchar *pipeline;
  GstApmPipelineTotals *totals;
} TotalsCtx;

static void
add_totals (gpointer data, gpointer user_data)
{
  GstApmElementStats *es = data;
  TotalsCtx *ctx = user_data;
  GstApmPipelineTotals *t = ctx->totals;

  if (g_strcmp0 (es->pipeline, ctx->pipeline) != 0)
    return;
  if (es->is_sink) {
    t->sink_buffers += apm_series_value (es->buffers_in);
    /* media time of a run: what its slowest sink received */
    t->media = MAX (t->media, apm_series_value (es->media_in));
    t->bytes_written += apm_series_value (es->bytes_in);
  }
  if (es->is_source)
    t->bytes_read += apm_series_value (es->bytes_out);
}

void
gst_apm_aggregate_pipeline_totals (const gchar * label,
    GstApmPipelineTotals * totals)
{
  TotalsCtx ctx = { label, totals };

  memset (totals, 0, sizeof *totals);
  gst_apm_element_stats_foreach (add_totals, &ctx);
}

/* Tracks stalls (PLAYING with no buffer for the stall timeout) from the
 * buffers and media time the pipeline's sinks received so far.  Returns the
 * stalled seconds (0 when flowing) and the real-time factor over the last
 * interval (NaN when not PLAYING). */
static gdouble
update_flow (GstApmFlow * w, GstState state, gdouble buffers,
    gdouble media_seconds, gdouble * rtf)
{
  gint64 now = g_get_monotonic_time ();

  *rtf = NAN;

  if (state != GST_STATE_PLAYING || buffers != w->last_buffers
      || !w->last_change_us
      || g_atomic_int_compare_and_exchange (&w->restarted, 1, 0)) {
    w->last_change_us = now;
    w->stalled_s = 0;
  } else {
    gdouble idle = (now - w->last_change_us) / 1e6;

    w->stalled_s = idle >= GST_APM_DEFAULT_STALL_TIMEOUT ? idle : 0;
  }
  if (state == GST_STATE_PLAYING && w->last_sample_us
      && now > w->last_sample_us)
    *rtf = (media_seconds - w->last_media) / ((now - w->last_sample_us) /
        1e6);
  w->last_buffers = buffers;
  w->last_media = media_seconds;
  w->last_sample_us = now;
  return w->stalled_s;
}

static void
collect_flow (const GstApmWatchInfo * info, const gchar ** values)
{
  GstApmPipelineTotals sums;
  gdouble rtf, stalled;
  ApmSeries *s;

  gst_apm_aggregate_pipeline_totals (values[0], &sums);
  stalled = update_flow (info->flow, info->state, sums.sink_buffers,
      sums.media, &rtf);
  s = apm_family_series (f_stalled, values);
  apm_gauge_set (s, stalled);
  apm_series_unref (s);
  gst_apm_recovery_tick (info->label, info->state, stalled, info->stuck_s);
  if (!isnan (rtf)) {
    s = apm_family_series (f_rtf, values);
    apm_gauge_set (s, rtf);
    apm_series_unref (s);
  }
}

/* From what the hooks kept (state, the pipeline's own latency queries):
 * no reference on the pipeline, no query sent into it */
static void
collect_pipeline (const GstApmWatchInfo * info, gpointer user_data)
{
  const gchar *values[3] = { info->label, NULL, NULL };
  ApmSeries *s;

  s = apm_family_series (f_state, values);
  apm_gauge_set_int (s, info->state);
  apm_series_unref (s);
  s = apm_family_series (f_stuck, values);
  apm_gauge_set (s, info->stuck_s);
  apm_series_unref (s);
  collect_flow (info, values);

  if (info->latency_known) {
    s = apm_family_series (f_live, values);
    apm_gauge_set_int (s, info->live);
    apm_series_unref (s);
    values[1] = "min";
    s = apm_family_series (f_reported, values);
    apm_gauge_set (s, info->latency_min / 1e9);
    apm_series_unref (s);
    values[1] = "max";
    s = apm_family_series (f_reported, values);
    apm_gauge_set (s, GST_CLOCK_TIME_IS_VALID (info->latency_max) ?
        info->latency_max / 1e9 : INFINITY);
    apm_series_unref (s);
  }
}

static void
fold (ApmService * service, gpointer user_data)
{
  gst_apm_stats_fold (TRUE);
}

static void
collect (ApmService * service, gpointer user_data)
{
  GHashTable *seen = g_hash_table_new (NULL, NULL);

  gst_apm_element_stats_foreach (collect_element, NULL);
  gst_apm_threads_foreach (collect_thread, seen);
  g_hash_table_foreach_remove (thread_series, thread_gone, seen);
  g_hash_table_destroy (seen);
  gst_apm_watch_foreach_info (collect_pipeline, NULL);
}

void
gst_apm_aggregate_ensure (ApmService * service)
{
  static GMutex lock;

  g_mutex_lock (&lock);
  if (registered_on != service) {
    registered_on = service;
    ensure_families (apm_service_get_registry (service));
    if (thread_series)
      g_hash_table_destroy (thread_series);
    thread_series = g_hash_table_new_full (NULL, NULL, NULL,
        (GDestroyNotify) apm_series_retire);
    apm_service_add_flush_func (service, fold, NULL);
    apm_service_add_collector (service, collect, NULL);
  }
  g_mutex_unlock (&lock);
}
