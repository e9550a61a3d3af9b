/* gst-apm: alert rules: construction, settings, the expression as text,
 * and the message template */
#include "apm-alerts-private.h"

#include <math.h>
#include <string.h>

static const gchar *severity_names[] = { "info", "warning", "critical" };
static const gchar *agg_names[] = { "last", "avg", "max", "min", "rate",
  "increase", "p95", "ratio", "change", "predict"
};
static const gchar *cmp_names[] = { ">", ">=", "<", "<=", "==", "!=" };

const gchar *
apm_severity_to_string (ApmSeverity s)
{
  return severity_names[CLAMP (s, 0, 2)];
}

static gboolean
lookup_name (const gchar * const *names, guint n, const gchar * text,
    gint * out)
{
  for (guint i = 0; text && i < n; i++)
    if (g_ascii_strcasecmp (names[i], text) == 0) {
      *out = i;
      return TRUE;
    }
  return FALSE;
}

gboolean
apm_severity_from_string (const gchar * text, ApmSeverity * out)
{
  return lookup_name (severity_names, 3, text, (gint *) out);
}

gboolean
apm_aggregation_from_string (const gchar * text, ApmAggregation * out)
{
  return lookup_name (agg_names, G_N_ELEMENTS (agg_names), text, (gint *) out);
}

gboolean
apm_comparison_from_string (const gchar * text, ApmComparison * out)
{
  return lookup_name (cmp_names, G_N_ELEMENTS (cmp_names), text, (gint *) out);
}

static ApmAlertRule *
rule_new (const gchar * name)
{
  ApmAlertRule *r = g_new0 (ApmAlertRule, 1);

  r->name = g_strdup (name);
  r->severity = APM_SEVERITY_WARNING;
  r->baseline_s = 3600;
  r->horizon_s = 3600;
  r->match = g_ptr_array_new_with_free_func (g_free);
  r->snapshots = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  return r;
}

ApmAlertRule *
apm_alert_rule_new_expr (const gchar * name, const gchar * metric,
    ApmAggregation agg, gdouble window_s, ApmComparison op, gdouble threshold)
{
  ApmAlertRule *r;

  g_return_val_if_fail (name && metric, NULL);
  r = rule_new (name);
  r->metric = g_strdup (metric);
  r->agg = agg;
  r->window_s = window_s;
  r->op = op;
  r->threshold = threshold;
  return r;
}

ApmAlertRule *
apm_alert_rule_new_expr_full (const gchar * name, const gchar * metric,
    ApmAggregation agg, gdouble window_s, ApmComparison op,
    gdouble threshold, gdouble for_s, ApmSeverity severity,
    const gchar * message)
{
  ApmAlertRule *r = apm_alert_rule_new_expr (name, metric, agg, window_s, op,
      threshold);

  apm_alert_rule_set_for (r, for_s);
  apm_alert_rule_set_severity (r, severity);
  apm_alert_rule_set_message (r, message);
  return r;
}

ApmAlertRule *
apm_alert_rule_new_func (const gchar * name, ApmAlertConditionFunc func,
    gpointer user_data, GDestroyNotify destroy)
{
  ApmAlertRule *r;

  g_return_val_if_fail (name && func, NULL);
  r = rule_new (name);
  r->func = func;
  r->user_data = user_data;
  r->destroy = destroy;
  return r;
}

void
apm_alert_rule_set_severity (ApmAlertRule * r, ApmSeverity severity)
{
  r->severity = severity;
}

void
apm_alert_rule_set_message (ApmAlertRule * r, const gchar * message)
{
  g_free (r->message);
  r->message = g_strdup (message);
}

void
apm_alert_rule_set_for (ApmAlertRule * r, gdouble seconds)
{
  r->for_s = MAX (seconds, 0);
}

void
apm_alert_rule_add_match (ApmAlertRule * r, const gchar * label,
    const gchar * value)
{
  g_ptr_array_add (r->match, g_strdup (label));
  g_ptr_array_add (r->match, g_strdup (value));
}

void
apm_alert_rule_set_denominator (ApmAlertRule * r, const gchar * metric)
{
  g_free (r->denominator);
  r->denominator = g_strdup (metric);
}

void
apm_alert_rule_set_require (ApmAlertRule * r, const gchar * metric)
{
  g_free (r->require);
  r->require = g_strdup (metric);
}

void
apm_alert_rule_set_baseline (ApmAlertRule * r, gdouble seconds)
{
  r->baseline_s = MAX (seconds, 0);
}

void
apm_alert_rule_set_horizon (ApmAlertRule * r, gdouble seconds)
{
  r->horizon_s = MAX (seconds, 0);
}

void
apm_alert_rule_free (ApmAlertRule * r)
{
  if (!r)
    return;
  if (r->destroy)
    r->destroy (r->user_data);
  g_free (r->name);
  g_free (r->message);
  g_free (r->metric);
  g_free (r->denominator);
  g_free (r->require);
  g_ptr_array_unref (r->match);
  g_hash_table_destroy (r->snapshots);
  g_free (r);
}

JsonNode *
apm_alert_rule_to_json (const ApmAlertRule * r)
{
  JsonObject *o = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_string_member (o, "name", r->name);
  json_object_set_string_member (o, "severity", severity_names[r->severity]);
  json_object_set_double_member (o, "for_seconds", r->for_s);
  if (r->message)
    json_object_set_string_member (o, "message", r->message);
  if (r->metric) {
    GString *expr = g_string_new (NULL);

    g_string_append_printf (expr, "%s(%s", agg_names[r->agg], r->metric);
    if (r->match->len) {
      g_string_append_c (expr, '{');
      for (guint i = 0; i + 1 < r->match->len; i += 2)
        g_string_append_printf (expr, "%s%s=\"%s\"", i ? "," : "",
            (gchar *) r->match->pdata[i], (gchar *) r->match->pdata[i + 1]);
      g_string_append_c (expr, '}');
    }
    if (r->denominator)
      g_string_append_printf (expr, " / %s", r->denominator);
    if (r->window_s > 0)
      g_string_append_printf (expr, "[%gs]", r->window_s);
    if (r->agg == APM_AGG_CHANGE)
      g_string_append_printf (expr, " vs [%gs] before", r->baseline_s);
    if (r->agg == APM_AGG_PREDICT)
      g_string_append_printf (expr, " in %gs", r->horizon_s);
    g_string_append_printf (expr, ") %s %g", cmp_names[r->op], r->threshold);
    if (r->require)
      g_string_append_printf (expr, " if %s > 0", r->require);
    json_object_set_string_member (o, "expression", expr->str);
    json_object_set_string_member (o, "aggregation", agg_names[r->agg]);
    if (r->agg == APM_AGG_CHANGE)
      json_object_set_double_member (o, "baseline_seconds", r->baseline_s);
    if (r->agg == APM_AGG_PREDICT)
      json_object_set_double_member (o, "horizon_seconds", r->horizon_s);
    g_string_free (expr, TRUE);
  } else {
    json_object_set_string_member (o, "expression", "custom function");
  }
  json_node_take_object (node, o);
  return node;
}

/* "40 s", "10 min", "3 h", "2 days": what a person reads in a message */
static void
append_duration (GString * out, gdouble s)
{
  if (!isfinite (s))
    g_string_append (out, "never");
  else if (s < 90)
    g_string_append_printf (out, "%.0f s", s);
  else if (s < 90 * 60)
    g_string_append_printf (out, "%.0f min", s / 60);
  else if (s < 48 * 3600)
    g_string_append_printf (out, "%.0f h", s / 3600);
  else
    g_string_append_printf (out, "%.0f days", s / 86400);
}

gchar *
alert_rule_render_message (const ApmAlertRule * r, JsonObject * labels,
    gdouble value, gdouble eta_s)
{
  GString *out = g_string_new (NULL);
  const gchar *p = r->message ? r->message : "{{rule}}: {{value}}";

  while (*p) {
    const gchar *open = strstr (p, "{{"), *close;

    if (!open || !(close = strstr (open, "}}"))) {
      g_string_append (out, p);
      break;
    }
    g_string_append_len (out, p, open - p);
    {
      gchar *key = g_strstrip (g_strndup (open + 2, close - open - 2));

      if (strcmp (key, "value") == 0 && r->agg == APM_AGG_CHANGE)
        g_string_append_printf (out, "%.0f", fabs (value));
      else if (strcmp (key, "value") == 0)
        g_string_append_printf (out, "%.4g", value);
      else if (strcmp (key, "eta") == 0)
        append_duration (out, eta_s);
      else if (strcmp (key, "window") == 0)
        append_duration (out, r->window_s);
      else if (strcmp (key, "baseline") == 0)
        append_duration (out, r->baseline_s);
      else if (strcmp (key, "threshold") == 0)
        g_string_append_printf (out, "%.4g", r->threshold);
      else if (strcmp (key, "rule") == 0)
        g_string_append (out, r->name);
      else if (json_object_has_member (labels, key))
        g_string_append (out, json_object_get_string_member (labels, key));
      else
        g_string_append_printf (out, "{{%s}}", key);
      g_free (key);
    }
    p = close + 2;
  }
  return g_string_free (out, FALSE);
}
