/* gst-apm: what the service and the tests use of ApmCircuitBreaker beyond
 * its public API (not installed) */
#pragma once

#include "apm-breaker.h"
#include "apm-service.h"

G_BEGIN_DECLS

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
void apm_breakers_detach (ApmService * service);

G_END_DECLS
