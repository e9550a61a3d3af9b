/* gst-apm: what the alert files share (apm-alert-rule.c, apm-alerts.c): a
 * rule's fields and its message template.  G_GNUC_INTERNAL and
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

/* The rule's message template filled in for @labels and @value. */
G_GNUC_INTERNAL gchar *alert_rule_render_message (const ApmAlertRule * rule,
    JsonObject * labels, gdouble value);

G_END_DECLS
