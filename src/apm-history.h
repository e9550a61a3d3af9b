/* gst-apm: bounded history of every series, for charts and alert windows
 *
 * Once a second the service samples each series into its own ring of
 * APM_HISTORY_POINTS points (the original spec's 1000-point limit): the
 * value for counters and gauges, count and sum for histograms.  At most
 * APM_HISTORY_MAX_SERIES series keep a history, so memory stays bounded.
 */
#pragma once

#include <json-glib/json-glib.h>
#include "apm-metrics.h"

G_BEGIN_DECLS

#define APM_HISTORY_POINTS 1000
#define APM_HISTORY_MAX_SERIES 2000

typedef struct _ApmPoint
{
  gint64 t_us;                  /* wall clock */
  gdouble v;                    /* value, or histogram count */
  gdouble sum;                  /* histogram sum */
} ApmPoint;

/* Starts keeping the history of metric @name (its series are sampled from
 * now on): done for what alert rules and history queries read, so memory
 * goes only to series somebody looks at.  FALSE if there is no such metric
 * yet. */
gboolean apm_history_keep (ApmRegistry * registry, const gchar * name);

/* Service thread. */
void apm_history_sample (ApmRegistry * registry, gint64 now_us);

/* Points of @s at or after @since_us, oldest first (caller frees). */
ApmPoint *apm_history_points (const ApmSeries * s, gint64 since_us,
    guint * n_points);

/* {"name", "type", "help", "series": [{"labels": {}, "points": [[unix_s, v]
 * or [unix_s, count, sum]]}]} or NULL if there is no such metric. */
JsonNode *apm_history_to_json (ApmRegistry * registry, const gchar * name,
    gint64 since_us, GHashTable * label_filter);

G_END_DECLS
