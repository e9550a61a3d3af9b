/* gst-apm: Prometheus text exposition format 0.0.4 */
#pragma once

#include "apm-metrics.h"

G_BEGIN_DECLS

#define APM_PROMETHEUS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

gchar *apm_prometheus_render (ApmRegistry * registry, gsize * length);
void apm_prometheus_append_number (GString * out, gdouble v);

G_END_DECLS
