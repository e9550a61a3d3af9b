/* gst-apm: performance reports (GET /monitoring/report, the summary)
 *
 * The core knows nothing of elements: a provider (the GStreamer plugin)
 * describes each pipeline as a JSON object, the core adds what it keeps
 * (the charts' points from the history, the alerts and jobs of the
 * window) and renders JSON or a self-contained HTML page.
 */
#pragma once

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>
#include "apm-service.h"

G_BEGIN_DECLS

/* A JSON array of pipeline objects: {"name", ..., "charts": [{"title",
 * "unit", "metric", "kind" ("value" or "mean" for histograms), "labels":
 * {...}}]}; the rest is the provider's and is rendered as documented in
 * apm-report-html.c.  Runs on the service thread. */
typedef JsonArray *(*ApmReportFunc) (gpointer user_data);

/* Process-wide: one provider (the last set wins). */
void apm_report_set_provider (ApmService * service, ApmReportFunc func,
    gpointer user_data);

/* The pipelines the provider describes now (an empty array without one). */
JsonArray *apm_report_pipelines (ApmService * service);

/* The report over [@since_us, @until_us] (wall clock) of @pipelines
 * (taken): {"generated_at", "window": {"since", "until", "seconds"},
 * "pipelines": [...each with "charts" filled with "series" of points,
 * "alerts" and "jobs" of the window]}. */
JsonNode *apm_report_build (ApmService * service, JsonArray * pipelines,
    gint64 since_us, gint64 until_us);

/* The report as a printable HTML page (apm-report-html.c): inline SVG,
 * no script; every name escaped. */
gchar *apm_report_to_html (JsonNode * report);

/* GET /monitoring/report[?format=json|html][&since=...] */
void apm_report_handle (ApmService * service, SoupServerMessage * msg,
    GHashTable * query);

G_END_DECLS
