/* gst-apm: the OTLP exporter's settings, OpenTelemetry's way
 *
 * Read from OTEL_* environment variables (the OpenTelemetry SDK
 * configuration spec), with the configuration file's `otlp` block and the
 * tracer's otlp-endpoint param as fallbacks under the same names.  A
 * malformed value is a warning naming the variable, and its default runs.
 */
#pragma once

#include <glib.h>
#include "apm-otlp-data.h"

G_BEGIN_DECLS

typedef enum
{
  APM_OTLP_TRACES,
  APM_OTLP_LOGS,
  APM_OTLP_METRICS,
  APM_OTLP_N_SIGNALS,
} ApmOtlpSignal;

/* "traces", "logs", "metrics" */
const gchar *apm_otlp_signal_name (ApmOtlpSignal signal);

#define APM_OTLP_DEFAULT_TIMEOUT_MS 10000
#define APM_OTLP_DEFAULT_METRIC_INTERVAL_MS 60000

typedef struct
{
  gchar *url;                   /* NULL: this signal is not exported */
  ApmOtlpEncoding encoding;
  gboolean gzip;                /* OTEL_EXPORTER_OTLP_COMPRESSION=gzip */
  gchar **headers;              /* name, value, ..., NULL */
  guint timeout_ms;
  guint schedule_delay_ms;      /* batch at most this long */
  guint max_queue;              /* items waiting, beyond: dropped */
  guint max_batch;              /* items per request */
} ApmOtlpSignalConfig;

typedef struct
{
  ApmOtlpSignalConfig signal[APM_OTLP_N_SIGNALS];
  GArray *resource;             /* ApmOtlpAttr: OTEL_RESOURCE_ATTRIBUTES and
                                 * service.name */
  guint metric_interval_ms;
} ApmOtlpConfig;

/* Where a setting comes from: the value of @name, or NULL. */
typedef const gchar *(*ApmOtlpLookup) (const gchar * name, gpointer data);

/* The settings, or NULL when nothing is to be exported (no endpoint, or
 * OTEL_SDK_DISABLED=true).  Each problem is appended to @warnings (a line
 * naming the variable). */
ApmOtlpConfig *apm_otlp_config_read (ApmOtlpLookup lookup, gpointer data,
    GPtrArray * warnings);
void apm_otlp_config_free (ApmOtlpConfig * config);

/* "k1=v1,k2=v2" (W3C baggage-like, values percent-encoded) into pairs;
 * bad members are skipped and reported to @warnings under @variable. */
gchar **apm_otlp_parse_pairs (const gchar * text, const gchar * variable,
    GPtrArray * warnings);

G_END_DECLS
