/* gst-apm: ApmCircuitBreaker, a circuit breaker for calls to an outside
 * dependency (a web service, a storage, a peer), visible in the monitor */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/**
 * ApmCircuitState:
 * @APM_CIRCUIT_STATE_CLOSED: calls go through; consecutive failures are
 *   counted
 * @APM_CIRCUIT_STATE_HALF_OPEN: the reset timeout has passed: one trial call
 *   goes through, and its result closes or reopens the breaker
 * @APM_CIRCUIT_STATE_OPEN: calls are refused until the reset timeout has
 *   passed
 *
 * The state of an #ApmCircuitBreaker; its value is also the value of the
 * metric apm_circuit_breaker_state.
 */
typedef enum
{
  APM_CIRCUIT_STATE_CLOSED = 0,
  APM_CIRCUIT_STATE_HALF_OPEN = 1,
  APM_CIRCUIT_STATE_OPEN = 2,
} ApmCircuitState;

GType apm_circuit_state_get_type (void);
#define APM_TYPE_CIRCUIT_STATE (apm_circuit_state_get_type ())

#define APM_TYPE_CIRCUIT_BREAKER (apm_circuit_breaker_get_type ())
G_DECLARE_FINAL_TYPE (ApmCircuitBreaker, apm_circuit_breaker, APM,
    CIRCUIT_BREAKER, GObject)

ApmCircuitBreaker *apm_circuit_breaker_new (const gchar * name,
    guint failure_threshold, gdouble reset_timeout_seconds);
gboolean apm_circuit_breaker_allow (ApmCircuitBreaker * self);
void apm_circuit_breaker_record_success (ApmCircuitBreaker * self);
void apm_circuit_breaker_record_failure (ApmCircuitBreaker * self);
ApmCircuitState apm_circuit_breaker_get_state (ApmCircuitBreaker * self);
const gchar *apm_circuit_breaker_get_name (ApmCircuitBreaker * self);

G_END_DECLS
