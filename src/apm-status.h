/* gst-apm: the service's status documents and self-metrics */
#pragma once

#include <json-glib/json-glib.h>
#include "apm-health.h"

G_BEGIN_DECLS

typedef struct _ApmService ApmService;

/* The /health/monitoring document (its shape is the original spec's):
 * {"status": overall, "monitoring": {"health_checks": {...},
 *  "active_alerts": [firing...], "system_metrics": {"active_jobs",
 *  "tracked_jobs", "websocket_connections"}}} */
JsonNode *apm_status_health_monitoring (ApmService * service);

/* The worst of the health checks and the firing alerts. */
ApmHealthStatus apm_status_overall (ApmService * service);

/* The detailed /monitoring/status document. */
JsonNode *apm_status_detailed (ApmService * service);

/* Updates the monitor's own gauges before an exposition. */
void apm_status_refresh_metrics (ApmService * service);

G_END_DECLS
