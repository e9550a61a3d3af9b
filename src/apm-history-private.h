/* gst-apm: the history's internals, shared by apm-history.c (tiers,
 * sampling, reading), apm-history-json.c and apm-history-save.c.  All
 * under the registry's lock, or on the service thread that samples. */
#pragma once

#include "apm-history.h"
#include "apm-metrics-private.h"

G_BEGIN_DECLS

/* the interval being filled (not yet a point) */
typedef struct
{
  gint64 slot;                  /* -1: empty */
  guint n;
  gdouble min, max, sum, last;  /* gauges */
  gdouble inc, inc_sum;         /* counters; histogram count and sum */
  gdouble p95_wsum, p95_w, p95_min, p95_max;    /* histograms */
} HistoryAcc;

/* One tier of one series: @len points of @stride floats, the newest for
 * slot @head_slot (a slot is wall seconds / resolution) and each before it
 * one slot earlier; gaps are NaN.  Grows to @capacity, then wraps. */
typedef struct
{
  guint resolution_s;
  guint capacity;
  guint stride;
  guint alloc, len, start;
  gint64 head_slot;
  gfloat *points;
  HistoryAcc acc;
} HistoryRing;

struct _ApmSeriesHistory
{
  ApmMetricType type;
  guint n_tiers;
  gboolean primed;
  gint64 last_sample_s;
  gdouble prev_value;           /* newest sample: value, or count */
  gdouble prev_sum;             /* histograms */
  guint64 *prev_buckets;        /* histograms: per-bucket counts */
  HistoryRing tiers[];
};
typedef struct _ApmSeriesHistory ApmSeriesHistory;

struct _ApmHistoryConf
{
  guint n_tiers;
  ApmHistoryTier tiers[APM_HISTORY_MAX_TIERS];
  guint n_series;               /* with a history, at the last sample */
  gsize bytes;                  /* their rings' points, at the last sample */
  gsize max_bytes;              /* the budget */
  gboolean over_budget;         /* bytes >= max_bytes */
  gint64 now_us;
  /* from the state file, until their series appear:
   * "family\x1ekey" -> ApmSeriesHistory, and the set of family names */
  GHashTable *restored;
  GHashTable *restored_families;
};
typedef struct _ApmHistoryConf ApmHistoryConf;

G_GNUC_INTERNAL ApmHistoryConf *history_conf (ApmRegistry * r);
G_GNUC_INTERNAL guint history_stride (ApmMetricType type, guint resolution_s);
G_GNUC_INTERNAL ApmSeriesHistory *history_series_new (ApmHistoryConf * c,
    ApmMetricType type);
G_GNUC_INTERNAL gsize history_ring_bytes (const HistoryRing * ring);
G_GNUC_INTERNAL void history_ring_put (HistoryRing * ring, gint64 slot,
    const gfloat * values, gboolean may_grow);
G_GNUC_INTERNAL void history_acc_values (const HistoryRing * ring,
    ApmMetricType type, gfloat * out);
G_GNUC_INTERNAL guint history_pick_tier (ApmHistoryConf * c, gint64 span_us,
    gint64 step_us);
/* apm-history-save.c: the restored history of @s, if the state file had
 * one (taken from the table) */
G_GNUC_INTERNAL ApmSeriesHistory *history_adopt_restored (ApmHistoryConf * c,
    ApmFamily * f, ApmSeries * s);

G_END_DECLS
