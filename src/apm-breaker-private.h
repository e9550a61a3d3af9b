/* gst-apm: what the service and the tests use of ApmCircuitBreaker beyond
 * its public API (not installed) */
#pragma once

#include "apm-breaker.h"

G_BEGIN_DECLS

/* How the service's own outbound calls use their breakers (configuration
 * "breaker": {"failures", "reset_timeout"} of the webhook and of each HTTP
 * health check) */
typedef struct _ApmBreakerSettings
{
  guint failures;               /* consecutive failures that open it */
  gdouble reset_seconds;        /* open this long before a trial */
} ApmBreakerSettings;

#define APM_WEBHOOK_BREAKER_FAILURES 5
#define APM_WEBHOOK_BREAKER_RESET_S 30.0
#define APM_PROBE_BREAKER_FAILURES 3
#define APM_PROBE_BREAKER_RESET_S 60.0

/* A monotonic clock in microseconds, for tests that drive the reset
 * timeout; NULL: g_get_monotonic_time(). */
typedef gint64 (*ApmBreakerClock) (gpointer user_data);
void apm_circuit_breaker_set_clock (ApmCircuitBreaker * self,
    ApmBreakerClock clock, gpointer user_data);

/* Calls refused since creation (allow() returned FALSE). */
guint64 apm_circuit_breaker_get_n_rejected (ApmCircuitBreaker * self);
/* Consecutive failures counted while closed. */
guint apm_circuit_breaker_get_n_failures (ApmCircuitBreaker * self);
/* Microseconds until an open breaker half-opens (0 when not open). */
gint64 apm_circuit_breaker_get_retry_in_us (ApmCircuitBreaker * self);

/* apm-service.c, at shutdown, before it frees the health checks and the
 * registry: the breakers still alive forget @service (their checks and
 * series go with it). */
struct _ApmService;
void apm_breakers_detach (struct _ApmService * service);

G_END_DECLS
