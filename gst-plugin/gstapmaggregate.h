/* gst-apm: what the service thread derives from the tracer's raw counts */
#pragma once

#include "apm-service.h"

G_BEGIN_DECLS

#define GST_APM_DEFAULT_STALL_TIMEOUT 5.0

/* Stall detection: what the aggregator keeps of a watched pipeline's flow
 * from one second to the next (service thread only; zeroed when the
 * pipeline is first watched, kept with its watch).  The pipeline's health
 * check reads stalled_s: atomic enough. */
typedef struct
{
  gdouble last_buffers, last_media;
  gint64 last_change_us, last_sample_us;
  gdouble stalled_s;            /* 0 while flowing */
  gint restarted;               /* atomic: a recovery restarted the flow */
} GstApmFlow;

/* What a pipeline's sources and sinks carried so far, from their counts
 * as last folded (gst_apm_stats_fold()). */
typedef struct
{
  gdouble media;                /* seconds its slowest sink received */
  gdouble sink_buffers;         /* buffers its sinks received */
  gdouble bytes_read, bytes_written;    /* by its sources, by its sinks */
} GstApmPipelineTotals;

void gst_apm_aggregate_pipeline_totals (const gchar * label,
    GstApmPipelineTotals * totals);

/* Registers the tracer's once-a-second collector with @service (once). */
void gst_apm_aggregate_ensure (ApmService * service);

/* Service thread: the cpu time the streaming thread @tid has used, as last
 * sampled (NaN if not known). */
gdouble gst_apm_aggregate_thread_cpu_seconds (gint tid);

G_END_DECLS
