/* gst-apm: alert notifications POSTed to a webhook (Alertmanager format) */
#pragma once

#include <json-glib/json-glib.h>
#include "apm-metrics.h"
#include "apm-log-store.h"
#include "apm-breaker-private.h"

G_BEGIN_DECLS

typedef struct _ApmWebhook ApmWebhook;

#define APM_WEBHOOK_MAX_QUEUE 100
#define APM_WEBHOOK_RETRIES 3

/* Service thread: the session works in the thread-default context.  Its
 * sends go through a circuit breaker named "webhook" (@breaker: NULL for
 * the defaults): while it is open, notifications wait in the queue (and
 * apm_webhook_deferred_total counts each wait), nothing is sent, and the
 * head is tried again when the breaker lets a trial through. */
ApmWebhook *apm_webhook_new (const gchar * url, guint timeout_s,
    const ApmBreakerSettings * breaker, ApmRegistry * registry, ApmLog * log);
void apm_webhook_free (ApmWebhook * hook);

/* Queues one alert event ("firing" or "resolved"); never blocks.  Sent
 * asynchronously, retried with exponential backoff; failures are counted
 * in apm_webhook_failures_total, nothing is lost while the queue has room
 * (the oldest is dropped, and counted, when it is full; so is one that failed
 * APM_WEBHOOK_RETRIES + 1 sends). */
void apm_webhook_notify (ApmWebhook * hook, const gchar * event,
    JsonNode * alert);

/* The Alertmanager v2 body (an array with one alert) for @alert. */
JsonNode *apm_webhook_body (const gchar * event, JsonNode * alert);

G_END_DECLS
