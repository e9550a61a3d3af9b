/* gst-apm: what the OTLP export's files share (apm-otlp*.c) */
#pragma once

#include "apm-otlp.h"
#include "apm-otlp-exporter.h"

G_BEGIN_DECLS

/* Events kept per job until its span is sent: state changes, warnings,
 * errors, alerts (its log lines at or above info with its correlation id,
 * and its pipeline's alerts), at most this many per job, for at most
 * APM_OTLP_MAX_TRACKED jobs. */
#define APM_OTLP_MAX_EVENTS 32
#define APM_OTLP_MAX_TRACKED 256

typedef struct
{
  gchar *correlation_id;
  gchar *pipeline;
  guint8 span_id[8];
  GArray *events;               /* ApmOtlpEvent */
  guint dropped_events;
} ApmOtlpJobTrack;

struct _ApmOtlp
{
  ApmOtlpConfig *config;
  struct _ApmService *service;
  ApmOtlpResource resource;
  ApmRegistry *registry;
  ApmJobs *jobs;
  ApmHealth *health;
  ApmOtlpExporter *exporter[APM_OTLP_N_SIGNALS];
  GSource *metric_tick;
  gint64 start_ns;              /* start of the cumulative metrics */

  GMutex lock;                  /* tracks */
  GHashTable *tracks;           /* correlation id -> ApmOtlpJobTrack */
  GQueue track_order;           /* correlation ids, oldest first */
};

/* apm-otlp-spans.c: a job's span id (from its JSON, or made from its
 * correlation id) */
gboolean apm_otlp_job_ids (JsonObject * job, guint8 trace_id[16],
    guint8 span_id[8]);
/* an ended job, queued: its JSON and the series of its pipeline's stage
 * spans and elements, referenced at its end (the pipeline's series are
 * retired when it goes, maybe before the batch is sent) */
gpointer apm_otlp_trace_item_new (ApmOtlp * otlp, JsonNode * job);
void apm_otlp_trace_item_free (gpointer item);
/* service thread: trace items -> ExportTraceServiceRequest */
GBytes *apm_otlp_encode_job_spans (GPtrArray * items, guint * n_sent,
    gpointer user_data);
/* the job's events, taken (caller frees), or NULL */
ApmOtlpJobTrack *apm_otlp_take_track (ApmOtlp * otlp, const gchar * cid);
void apm_otlp_track_free (ApmOtlpJobTrack * track);

/* apm-otlp-logs.c: log lines' JSON -> ExportLogsServiceRequest */
GBytes *apm_otlp_encode_log_lines (GPtrArray * items, guint * n_sent,
    gpointer user_data);
/* a job's span id by correlation id, from the tracks (FALSE: unknown) */
gboolean apm_otlp_lookup_span_id (ApmOtlp * otlp, const gchar * cid,
    guint8 span_id[8]);
/* records @line as an event of its job, if it has one */
void apm_otlp_track_line (ApmOtlp * otlp, JsonObject * line);

/* apm-otlp-metrics.c: a snapshot of the registry (an item) and its
 * encoding */
GPtrArray *apm_otlp_snapshot_metrics (ApmOtlp * otlp);
GBytes *apm_otlp_encode_metric_snapshots (GPtrArray * items,
    guint * n_sent, gpointer user_data);

/* apm-otlp.c: a log line's context's scalar members as attributes */
GArray *apm_otlp_context_attrs (JsonObject * ctx);

/* nanoseconds since the epoch of an RFC 3339 time, 0 if unparsable */
guint64 apm_otlp_time_ns (const gchar * rfc3339);

G_END_DECLS
