/* gst-apm: the exposition formats: Prometheus text 0.0.4, OpenMetrics 1.0.0 */
#pragma once

#include "apm-metrics.h"

G_BEGIN_DECLS

#define APM_PROMETHEUS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define APM_OPENMETRICS_CONTENT_TYPE \
  "application/openmetrics-text; version=1.0.0; charset=utf-8"

typedef enum
{
  APM_EXPOSITION_TEXT,          /* Prometheus text 0.0.4 */
  APM_EXPOSITION_OPENMETRICS,   /* OpenMetrics 1.0.0 */
} ApmExposition;

gchar *apm_prometheus_render (ApmRegistry * registry, ApmExposition format,
    gsize * length);
void apm_prometheus_append_number (GString * out, gdouble v);

G_END_DECLS
