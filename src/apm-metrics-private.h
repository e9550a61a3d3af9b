/* gst-apm: metric registry internals shared by the registry's own files */
#pragma once

#include "apm-metrics.h"

G_BEGIN_DECLS

struct _ApmFamily
{
  ApmRegistry *registry;
  gchar *name;
  gchar *help;
  ApmMetricType type;
  gchar **label_names;
  guint n_labels;
  gdouble *bounds;
  gint64 *bounds_ns;
  guint n_bounds;
  GHashTable *by_key;           /* set of ApmSeries by label values */
  GPtrArray *series;            /* creation order, same refs */
  gdouble scale;
  ApmSeries *overflow;
  gboolean keep_history;        /* asked for: sampled each second */
};

struct _ApmRegistry
{
  GMutex lock;
  GHashTable *families;         /* name -> ApmFamily */
  GPtrArray *order;
  guint max_series;
  guint n_series;
  guint64 n_dropped;
  struct _ApmHistoryConf *history;      /* tiers: apm-history.c */
};


G_END_DECLS
