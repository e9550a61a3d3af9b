/* gst-apm: alert rules and alerts with a pending/firing/resolved lifecycle
 *
 * Rules are evaluated every alert interval on the service thread, over the
 * metric registry and its history.  A rule yields one alert per label set
 * (per pipeline, per element): pending while its condition holds for less
 * than `for`, then firing, then resolved when the condition clears or by
 * hand.  An alert that fires again after being resolved is a new alert with
 * a new id.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include "apm-metrics.h"

#include "apm-enums.h"

G_BEGIN_DECLS

typedef enum
{
  APM_AGG_LAST,                 /* current value */
  APM_AGG_AVG,                  /* over the window's samples */
  APM_AGG_MAX,
  APM_AGG_MIN,
  APM_AGG_RATE,                 /* per second, counters */
  APM_AGG_INCREASE,             /* counters */
  APM_AGG_P95,                  /* histograms: since the last evaluation */
  APM_AGG_RATIO,                /* increase(metric) / increase(denominator) */
  APM_AGG_CHANGE,               /* % change of the window's mean against the
                                 * baseline window before it */
  APM_AGG_PREDICT,              /* least-squares line over the window, at
                                 * the horizon */
} ApmAggregation;

typedef enum
{
  APM_CMP_GT,
  APM_CMP_GE,
  APM_CMP_LT,
  APM_CMP_LE,
  APM_CMP_EQ,
  APM_CMP_NE,
} ApmComparison;

/**
 * ApmAlertConditionFunc:
 * @user_data: the rule's data
 * @value: (out): the value that was tested, shown in the alert
 *
 * A custom rule's condition.  Runs on the service thread.
 *
 * Returns: %TRUE while the alert condition holds
 */
typedef gboolean (*ApmAlertConditionFunc) (gpointer user_data,
    gdouble * value);

typedef struct _ApmAlerts ApmAlerts;
typedef struct _ApmAlertRule ApmAlertRule;

/* A rule over a metric: "@agg(@metric{@match}[@window_s]) @op @threshold". */
ApmAlertRule *apm_alert_rule_new_expr (const gchar * name,
    const gchar * metric, ApmAggregation agg, gdouble window_s,
    ApmComparison op, gdouble threshold);
/* The same with its "for" duration, severity and message template set. */
ApmAlertRule *apm_alert_rule_new_expr_full (const gchar * name,
    const gchar * metric, ApmAggregation agg, gdouble window_s,
    ApmComparison op, gdouble threshold, gdouble for_s,
    ApmSeverity severity, const gchar * message);
/* A rule whose condition is computed by @func. */
ApmAlertRule *apm_alert_rule_new_func (const gchar * name,
    ApmAlertConditionFunc func, gpointer user_data, GDestroyNotify destroy);
void apm_alert_rule_set_severity (ApmAlertRule * rule, ApmSeverity severity);
/* "{{pipeline}} stalled for {{value}} s": {{label}}, {{value}},
 * {{threshold}} and {{rule}} are replaced; {{eta}} by when a predict
 * rule's line crosses the threshold ("3 h"), {{window}} and {{baseline}}
 * by durations ("5 min", "1 h"). */
void apm_alert_rule_set_message (ApmAlertRule * rule, const gchar * message);
void apm_alert_rule_set_for (ApmAlertRule * rule, gdouble seconds);
/* Only series with label @label equal to @value. */
void apm_alert_rule_add_match (ApmAlertRule * rule, const gchar * label,
    const gchar * value);
void apm_alert_rule_set_denominator (ApmAlertRule * rule,
    const gchar * metric);
/* Only label sets for which @metric (same labels) is currently > 0. */
void apm_alert_rule_set_require (ApmAlertRule * rule, const gchar * metric);
/* change: the baseline window, just before the rule's window (seconds) */
void apm_alert_rule_set_baseline (ApmAlertRule * rule, gdouble seconds);
/* predict: how far ahead the line is read (seconds) */
void apm_alert_rule_set_horizon (ApmAlertRule * rule, gdouble seconds);
void apm_alert_rule_free (ApmAlertRule * rule);

/* The rule as JSON, for /monitoring/status and the docs. */
JsonNode *apm_alert_rule_to_json (const ApmAlertRule * rule);

ApmAlerts *apm_alerts_new (ApmRegistry * registry, guint keep_history);
void apm_alerts_free (ApmAlerts * alerts);

/* Adds @rule (taking it), replacing a rule of the same name. */
void apm_alerts_add_rule (ApmAlerts * alerts, ApmAlertRule * rule);
/* A default: added unless a rule of that name exists or was removed (a
 * configuration's choice stands whatever the order); takes @rule. */
void apm_alerts_add_default_rule (ApmAlerts * alerts, ApmAlertRule * rule);
gboolean apm_alerts_remove_rule (ApmAlerts * alerts, const gchar * name);

/* Evaluates every rule.  Service thread. */
void apm_alerts_evaluate (ApmAlerts * alerts, gint64 now_wall_us);

/* Resolves alert @id by hand; returns it as JSON, or NULL if no active
 * alert has that id.  Any thread. */
JsonNode *apm_alerts_resolve (ApmAlerts * alerts, const gchar * id);

/* Active (pending and firing) alerts; with @firing_only only firing. */
JsonNode *apm_alerts_active_json (ApmAlerts * alerts, gboolean firing_only);
/* Resolved alerts, newest first, at most the history size. */
JsonNode *apm_alerts_history_json (ApmAlerts * alerts);
JsonNode *apm_alerts_rules_json (ApmAlerts * alerts);
/* Puts resolved alerts (as apm_alerts_history_json() writes them, newest
 * first) back into the history, before the alerts resolved since; for the
 * state file.  Malformed entries are skipped.  Returns how many. */
guint apm_alerts_restore_history (ApmAlerts * alerts, JsonArray * history);
/* Firing alerts: count and the highest severity (-1 if none). */
guint apm_alerts_n_firing (ApmAlerts * alerts, gint * worst_severity);
/* Alerts whose condition holds but not yet for the rule's "for". */
guint apm_alerts_n_pending (ApmAlerts * alerts);

typedef void (*ApmAlertRuleFunc) (const gchar * name, ApmSeverity severity,
    guint n_firing, gpointer user_data);
/* Calls @func for each rule, in evaluation order, with the number of its
 * alerts firing now (no lock of @alerts is held during the calls). */
void apm_alerts_foreach_rule (ApmAlerts * alerts, ApmAlertRuleFunc func,
    gpointer user_data);

/* Called (service thread, no lock held) when an alert goes pending,
 * firing or resolved: @event is "pending", "firing" or "resolved". */
typedef void (*ApmAlertListener) (const gchar * event, JsonNode * alert,
    gpointer user_data);
void apm_alerts_add_listener (ApmAlerts * alerts, ApmAlertListener func,
    gpointer user_data);

const gchar *apm_severity_to_string (ApmSeverity severity);
gboolean apm_severity_from_string (const gchar * text, ApmSeverity * out);
gboolean apm_aggregation_from_string (const gchar * text,
    ApmAggregation * out);
gboolean apm_comparison_from_string (const gchar * text, ApmComparison * out);

G_END_DECLS
