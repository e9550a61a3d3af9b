/* gst-apm: tiered history of the series that somebody looks at
 *
 * Once a second the service samples each series whose family is kept (an
 * alert rule or a history query asked for it) into tiers of decreasing
 * resolution: by default 1 s points for 15 minutes, 10 s points for 6 hours
 * and 1 min points for 7 days.  A point of a coarser tier summarises the
 * samples of its interval: min, max, average and last for a gauge, the
 * increase for a counter, the count and sum increase and the p95 (its mean
 * and maximum) for a histogram.  Points are float32 with implicit
 * timestamps (a slot number per ring), and each ring grows as it fills, up
 * to its tier's retention, so a short-lived series costs little.  At most
 * APM_HISTORY_MAX_SERIES series keep a history, in at most
 * APM_HISTORY_MAX_BYTES, so memory stays bounded.
 */
#pragma once

#include <json-glib/json-glib.h>
#include "apm-metrics.h"

G_BEGIN_DECLS

struct _ApmSeriesHistory;
struct _ApmHistoryConf;

#define APM_HISTORY_MAX_SERIES 2000
/* past this many bytes of points (by default; configurable), no series
 * starts a history and rings stop growing (they keep a shorter past) */
#define APM_HISTORY_MAX_BYTES (64 * 1024 * 1024)
#define APM_HISTORY_MAX_TIERS 6
/* a ring's longest retention in points (7 days of 1 min points is 10,080) */
#define APM_HISTORY_MAX_POINTS 100000

typedef struct _ApmHistoryTier
{
  guint resolution_s;
  guint retention_s;
} ApmHistoryTier;

/* One point as read back.  @v is the last value for a gauge, the running
 * total for a counter (anchored at the newest sample) and the running
 * observation count for a histogram; @sum a histogram's running sum.
 * @delta is the increase over the point's interval (counters, histogram
 * counts); @min, @max, @avg summarise a gauge's samples, or a histogram's
 * p95 over the interval (NaN when nothing was observed). */
typedef struct _ApmPoint
{
  gint64 t_us;                  /* wall clock: start of the interval */
  gdouble v;
  gdouble sum;
  gdouble delta;
  gdouble min, max, avg;
} ApmPoint;

/* The default tiers: 1 s for 15 min, 10 s for 6 h, 1 min for 7 days. */
extern const ApmHistoryTier apm_history_default_tiers[];
extern const guint apm_history_n_default_tiers;

/* Checks a tier list: 1 to APM_HISTORY_MAX_TIERS tiers, each resolution a
 * multiple of the previous (so larger), each retention at least its
 * resolution, longer than the previous and at most
 * APM_HISTORY_MAX_POINTS points.  FALSE with a message in @error. */
gboolean apm_history_tiers_check (const ApmHistoryTier * tiers, guint n,
    GError ** error);

/* Replaces the tiers (checked already).  History kept so far is dropped
 * if the tiers differ. */
void apm_history_set_tiers (ApmRegistry * registry,
    const ApmHistoryTier * tiers, guint n);
/* The memory budget of the points (0: the default). */
void apm_history_set_max_bytes (ApmRegistry * registry, gsize max_bytes);
gsize apm_history_get_max_bytes (ApmRegistry * registry);

/* Copies the tiers into @out (APM_HISTORY_MAX_TIERS) and returns n. */
guint apm_history_get_tiers (ApmRegistry * registry, ApmHistoryTier * out);

/* [{"resolution_seconds", "retention_seconds", "bytes", "series"}], the
 * bytes the tier's rings take now. */
JsonNode *apm_history_tiers_json (ApmRegistry * registry);

/* Starts keeping the history of metric @name (its series are sampled from
 * now on): done for what alert rules and history queries read, so memory
 * goes only to series somebody looks at.  FALSE if there is no such metric
 * yet. */
gboolean apm_history_keep (ApmRegistry * registry, const gchar * name);

/* Service thread.  @now_us is the wall clock (a parameter, so tests drive
 * a clock of their own). */
void apm_history_sample (ApmRegistry * registry, gint64 now_us);

/* The tier for a window of @span_us, read in steps of @step_us (0: the
 * finest that covers the window): the finest tier that covers the window,
 * or the coarsest of those not finer than the step; the coarsest if none
 * covers it. */
guint apm_history_pick_tier (ApmRegistry * registry, gint64 span_us,
    gint64 step_us);

/* Points of @s at or after @since_us, oldest first, from the tier that
 * covers it (caller frees).  Service thread, or with the registry lock. */
ApmPoint *apm_history_points (const ApmSeries * s, gint64 since_us,
    guint * n_points);
/* The same from tier @tier (the partial newest interval included). */
ApmPoint *apm_history_points_tier (const ApmSeries * s, guint tier,
    gint64 since_us, guint * n_points);

/* {"name", "type", "help", "resolution_seconds", "step_seconds",
 * "series": [{"labels": {}, "points": [[unix_s, v] or [unix_s, count,
 * sum]]}]} or NULL if there is no such metric.  @step_us > 0 merges the
 * tier's points into steps of that length. */
JsonNode *apm_history_to_json (ApmRegistry * registry, const gchar * name,
    gint64 since_us, gint64 step_us, GHashTable * label_filter);

/* The state file's history section: every kept series with its rings
 * (caller frees); and back: series not present yet take their history
 * when they appear.  FALSE (nothing changed) if @data is malformed. */
GBytes *apm_history_save (ApmRegistry * registry);
gboolean apm_history_restore (ApmRegistry * registry, const guint8 * data,
    gsize len, guint * n_series);

/* Restored histories whose series have not appeared yet. */
guint apm_history_n_restored (ApmRegistry * registry);

/* apm-metrics.c: a series' history, and the registry's, freed */
void apm_history_series_free (struct _ApmSeriesHistory *history);
void apm_history_registry_free (struct _ApmHistoryConf *conf);

G_END_DECLS
