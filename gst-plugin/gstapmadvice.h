/* gst-apm: optimization advice, rules over a snapshot of a pipeline
 *
 * The rules are pure functions of a GstApmSnapshot (gstapmsnapshot.h).  Each recommendation is a JSON object
 * {"id", "severity", "element", "evidence": {...}, "advice"}; the ids and
 * their definitions are in README.md ("Recommendations").
 */
#pragma once

#include <json-glib/json-glib.h>
#include "gstapmsnapshot.h"

G_BEGIN_DECLS

/* Thresholds, as documented */
#define GST_APM_ADVICE_BOTTLENECK_SHARE 0.5     /* of its thread's busy time */
#define GST_APM_ADVICE_BOTTLENECK_BUSY 0.5      /* the thread's busy fraction */
#define GST_APM_ADVICE_BOTTLENECK_RTF 1.5       /* live pipelines */
#define GST_APM_ADVICE_SMALL_BUFFER_S 0.005
#define GST_APM_ADVICE_QUEUE_FULL_PERCENT 90.0
#define GST_APM_ADVICE_QUEUE_FULL_SHARE 0.5     /* of the samples */
#define GST_APM_ADVICE_SATURATED 0.9
#define GST_APM_ADVICE_ALLOC_RATE 500.0 /* buffers allocated per second */
#define GST_APM_ADVICE_POOL_REUSE 0.5
#define GST_APM_ADVICE_POOL_MIN 100     /* buffers acquired, to judge reuse */

/* The recommendations for @snap, most severe first: a JSON array. */
JsonArray *gst_apm_advise (const GstApmSnapshot * snap);

G_END_DECLS
