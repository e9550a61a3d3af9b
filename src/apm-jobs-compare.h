/* gst-apm: A/B comparison of labelled jobs (/monitoring/jobs/compare)
 *
 * The finished jobs kept (the ring of apm-jobs.c) are grouped by the value
 * of one label; each group is compared with a baseline group: processing
 * times by the Mann-Whitney U test, success rates by the two-proportion z
 * test (apm-abstats.h).
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include "apm-jobs.h"

G_BEGIN_DECLS

/* at most this many groups, the largest */
#define APM_COMPARE_MAX_GROUPS 64
/* a test's p_value below it is "significant" */
#define APM_COMPARE_ALPHA 0.05

/* The comparison document of the finished jobs that ended at or after
 * @since_us (0: all kept), grouped by label @by.  @baseline (nullable)
 * names the group the others are compared with; by default the largest
 * (ties: the first value in byte order).  NULL with @problem (static text)
 * when @baseline is given and no job has it. */
JsonNode *apm_jobs_compare (ApmJobs * jobs, const gchar * by,
    gint64 since_us, const gchar * baseline, const gchar ** problem);

G_END_DECLS
