/* gst-apm: one OTLP/HTTP exporter, for one signal
 *
 * A bounded queue filled from any thread (full: the item is dropped and
 * counted), batches sent by libsoup asynchronously on the service thread
 * (by size, and at least every schedule delay), one request in flight,
 * retries with exponential backoff and jitter on 429, 502, 503, 504, time
 * outs and connection errors (a Retry-After is honoured), and a circuit
 * breaker that stops calling a dead collector for a while.
 */
#pragma once

#include <glib.h>
#include "apm-otlp-config.h"
#include "apm-metrics.h"
#include "apm-log-store.h"

G_BEGIN_DECLS

typedef struct _ApmOtlpExporter ApmOtlpExporter;

/* Encodes @items (the queue's, in order) as one export request; service
 * thread.  Returns NULL when there is nothing to send.  @n_sent receives
 * how many items the request carries (spans, records, data points). */
typedef GBytes *(*ApmOtlpEncodeFunc) (GPtrArray * items, guint * n_sent,
    gpointer user_data);

/* Service thread.  @registry receives the exporter's metrics, @log its
 * state changes (not every failure: its own lines may be exported). */
ApmOtlpExporter *apm_otlp_exporter_new (ApmOtlpSignal signal,
    const ApmOtlpSignalConfig * config, ApmRegistry * registry, ApmLog * log,
    ApmOtlpEncodeFunc encode, GDestroyNotify item_free, gpointer user_data);

/* Any thread: queues @item (taken), or drops it when the queue is full. */
void apm_otlp_exporter_enqueue (ApmOtlpExporter * exporter, gpointer item);

/* Service thread: sends what is queued (and waits for nothing). */
void apm_otlp_exporter_kick (ApmOtlpExporter * exporter);

/* Service thread, at exit: sends what is queued, iterating the calling
 * thread's default context until all is sent or @deadline_us (monotonic)
 * passes; what is left is dropped and counted. */
void apm_otlp_exporter_flush (ApmOtlpExporter * exporter,
    gint64 deadline_us);

/* Whether a request is in flight or items wait (service thread). */
gboolean apm_otlp_exporter_busy (ApmOtlpExporter * exporter);

/* For the health check: "ok" while exports succeed; else a message. */
gboolean apm_otlp_exporter_healthy (ApmOtlpExporter * exporter,
    gchar ** message);

void apm_otlp_exporter_free (ApmOtlpExporter * exporter);

/* The first retry's backoff (doubled each retry): tests shorten it. */
void apm_otlp_exporter_set_backoff_base (ApmOtlpExporter * exporter,
    guint ms);

/* Retries of one batch before it is dropped. */
#define APM_OTLP_MAX_ATTEMPTS 6
/* Backoff: 1 s, doubled each retry, at most 30 s */
#define APM_OTLP_BACKOFF_BASE_MS 1000
#define APM_OTLP_MAX_BACKOFF_MS 30000
/* Between two batches sent back to back */
#define APM_OTLP_BATCH_GAP_MS 20
/* The circuit breaker stays open this long (env
 * APM_OTLP_BREAKER_RESET_SECONDS overrides it) */
#define APM_OTLP_BREAKER_RESET_S 30

G_END_DECLS
