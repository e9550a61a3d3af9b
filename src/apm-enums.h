/* gst-apm: the enumerations of the public API */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * ApmHealthStatus:
 * @APM_HEALTH_HEALTHY: working as expected
 * @APM_HEALTH_DEGRADED: working, with a problem to look at
 * @APM_HEALTH_UNHEALTHY: not working
 *
 * The result of a health check.  The overall status is the worst.
 */
typedef enum
{
  APM_HEALTH_HEALTHY,
  APM_HEALTH_DEGRADED,
  APM_HEALTH_UNHEALTHY,
} ApmHealthStatus;

/**
 * ApmLogLevel:
 * @APM_LOG_DEBUG: details
 * @APM_LOG_INFO: normal events
 * @APM_LOG_WARNING: something to look at
 * @APM_LOG_ERROR: a failure
 * @APM_LOG_CRITICAL: a failure that needs action now
 *
 * The level of a structured log line.
 */
typedef enum
{
  APM_LOG_DEBUG,
  APM_LOG_INFO,
  APM_LOG_WARNING,
  APM_LOG_ERROR,
  APM_LOG_CRITICAL,
} ApmLogLevel;

/**
 * ApmSeverity:
 * @APM_SEVERITY_INFO: informational
 * @APM_SEVERITY_WARNING: needs attention
 * @APM_SEVERITY_CRITICAL: needs action now
 *
 * The severity of an alert rule.
 */
typedef enum
{
  APM_SEVERITY_INFO,
  APM_SEVERITY_WARNING,
  APM_SEVERITY_CRITICAL,
} ApmSeverity;

G_END_DECLS
