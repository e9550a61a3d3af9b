/* gst-apm: OpenTelemetry export of jobs, logs and metrics (OTLP/HTTP)
 *
 * Made on the service thread when it starts, only if some OTLP endpoint is
 * configured (apm-otlp-config.h): otherwise nothing exists and nothing
 * runs.  Jobs become spans when they end, log lines log records, the
 * registry's families metrics every OTEL_METRIC_EXPORT_INTERVAL.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include "apm-otlp-config.h"
#include "apm-jobs.h"
#include "apm-metrics.h"
#include "apm-health.h"
#include "apm-log-store.h"

G_BEGIN_DECLS

typedef struct _ApmOtlp ApmOtlp;

struct _ApmService;

/* Service thread.  NULL when @config is NULL.  Takes @config. */
ApmOtlp *apm_otlp_new (ApmOtlpConfig * config, struct _ApmService *service);

/* Any thread, no lock held: a job started or ended (its JSON), a log
 * line.  Cheap: a reference is queued, the work is done when a batch is
 * sent. */
void apm_otlp_on_job (ApmOtlp * otlp, JsonNode * job);
void apm_otlp_on_log_line (ApmOtlp * otlp, JsonNode * line);

/* Service thread, at exit: sends what waits, for at most @timeout_ms. */
void apm_otlp_flush (ApmOtlp * otlp, guint timeout_ms);
void apm_otlp_free (ApmOtlp * otlp);

/* The bound of the flush at exit */
#define APM_OTLP_EXIT_FLUSH_MS 2000

G_END_DECLS
