/* gst-apm: the performance report of a pipeline (elements, paths, queues,
 * threads, recommendations), for /monitoring/report and the summary */
#pragma once

#include <gst/gst.h>
#include "apm-service.h"
#include "gstapmadvice.h"

G_BEGIN_DECLS

/* The snapshot of @pipeline (labelled @label) the advice reads: walks its
 * elements (object locks only) and reads the tracer's stats.  Service
 * thread with a reference on @pipeline, or a state-change hook. */
GstApmSnapshot *gst_apm_report_snapshot (GstElement * pipeline,
    const gchar * label);

/* The report of one pipeline: {"name", "state", "live", "run_seconds",
 * "elements" (sorted by own time), "links", "paths", "queues", "threads",
 * "recommendations", "charts"}.  Same threads as above. */
JsonObject *gst_apm_report_pipeline (GstElement * pipeline,
    const gchar * label);

/* Makes @service's /monitoring/report describe the watched pipelines. */
void gst_apm_report_install (ApmService * service);

/* The series the report charts keep a history from now on. */
void gst_apm_report_keep_history (ApmService * service);

G_END_DECLS
