/* gst-apm: what the alert files share (apm-alert-rule.c, apm-alert-eval.c,
 * apm-alerts.c): a rule's fields and its evaluation.  G_GNUC_INTERNAL and
 * names without the apm_ prefix keep these out of the library's symbols. */
#pragma once

#include "apm-alerts.h"

G_BEGIN_DECLS

struct _ApmAlertRule
{
  gchar *name;
  ApmSeverity severity;
  gchar *message;
  gdouble for_s;
  /* expression */
  gchar *metric;
  ApmAggregation agg;
  gdouble window_s;
  gdouble baseline_s;           /* change: the window before the window */
  gdouble horizon_s;            /* predict: how far ahead */
  ApmComparison op;
  gdouble threshold;
  GPtrArray *match;             /* label, value, label, value ... */
  gchar *denominator;
  gchar *require;
  /* callback */
  ApmAlertConditionFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
  /* p95: bucket counts at the previous evaluation, per series key */
  GHashTable *snapshots;
};

/* A label set for which a rule's condition holds now */
typedef struct
{
  gchar *key;                   /* rule name, or rule \x1e series key */
  JsonObject *labels;
  gdouble value;
  gdouble eta_s;                /* predict: when the line crosses, or NaN */
} ApmAlertHit;

/* The label sets (ApmAlertHit) for which @rule holds now, over @registry or
 * from a custom rule's function.  The caller takes the hits (the array has
 * no free function).  Service thread, with the rules lock held: p95 rules
 * keep their bucket snapshots in the rule. */
G_GNUC_INTERNAL GPtrArray *alert_rule_collect_hits (ApmAlertRule * rule,
    ApmRegistry * registry, gint64 now_wall_us);

/* The rule's message template filled in for @labels, @value and (predict
 * rules) @eta_s. */
G_GNUC_INTERNAL gchar *alert_rule_render_message (const ApmAlertRule * rule,
    JsonObject * labels, gdouble value, gdouble eta_s);

G_END_DECLS
