/* gst-apm: what the service thread derives from the tracer's raw counts */
#pragma once

#include "apm-service.h"

G_BEGIN_DECLS

/* Registers the tracer's once-a-second collector with @service (once). */
void gst_apm_aggregate_ensure (ApmService * service);

G_END_DECLS
