/* gst-apm: the default alert rules and health checks
 *
 * The original spec's three rules (error rate, memory, slow jobs) plus the
 * audio ones, written over the metric names the GStreamer glue publishes.
 * A configuration file can replace any of them by name.
 */
#include "apm-defaults.h"
#include "apm-service.h"

/* more than 5 failures among the last 10 finished jobs */
static gboolean
high_error_rate (gpointer user_data, gdouble * value)
{
  ApmService *s = user_data;
  guint failed = apm_jobs_recent_failures (apm_service_get_jobs (s), 10);

  *value = failed;
  return failed > 5;
}

/* a job running for more than 30 minutes */
static gboolean
slow_job (gpointer user_data, gdouble * value)
{
  ApmService *s = user_data;

  *value = apm_jobs_longest_active_seconds (apm_service_get_jobs (s));
  return *value > 30 * 60;
}

static void
add_expr (ApmAlerts * al, const gchar * name, const gchar * metric,
    ApmAggregation agg, gdouble window, ApmComparison op, gdouble threshold,
    gdouble for_s, ApmSeverity sev, const gchar * message)
{
  ApmAlertRule *r = apm_alert_rule_new_expr (name, metric, agg, window, op,
      threshold);

  apm_alert_rule_set_for (r, for_s);
  apm_alert_rule_set_severity (r, sev);
  apm_alert_rule_set_message (r, message);
  apm_alerts_add_rule (al, r);
}

static void
add_default_rules (ApmService * s)
{
  ApmAlerts *al = apm_service_get_alerts (s);
  ApmAlertRule *r;

  r = apm_alert_rule_new_func ("high_error_rate", high_error_rate, s, NULL);
  apm_alert_rule_set_severity (r, APM_SEVERITY_CRITICAL);
  apm_alert_rule_set_message (r, "{{value}} of the last 10 jobs failed");
  apm_alerts_add_rule (al, r);

  add_expr (al, "high_memory_usage", "apm_system_memory_used_percent",
      APM_AGG_LAST, 0, APM_CMP_GT, 85, 0, APM_SEVERITY_WARNING,
      "System memory usage is {{value}}% (above {{threshold}}%)");

  r = apm_alert_rule_new_func ("slow_job_processing", slow_job, s, NULL);
  apm_alert_rule_set_severity (r, APM_SEVERITY_WARNING);
  apm_alert_rule_set_message (r, "A job has been running for {{value}} s "
      "(over 30 minutes)");
  apm_alerts_add_rule (al, r);

  add_expr (al, "pipeline_stalled", "apm_pipeline_stalled_seconds", APM_AGG_LAST, 0,
      APM_CMP_GT, 0, 0, APM_SEVERITY_CRITICAL,
      "Pipeline {{pipeline}} is PLAYING but no buffer reached its sinks for "
      "{{value}} s");
  add_expr (al, "audio_silence", "apm_monitor_silent", APM_AGG_LAST, 0,
      APM_CMP_GT, 0, 10, APM_SEVERITY_WARNING,
      "Silence at {{monitor}} in {{pipeline}}");
  r = apm_alert_rule_new_expr ("audio_clipping",
      "apm_monitor_clipped_samples_total", APM_AGG_RATIO, 30, APM_CMP_GT,
      0.01);
  apm_alert_rule_set_denominator (r, "apm_monitor_samples_total");
  apm_alert_rule_set_severity (r, APM_SEVERITY_WARNING);
  apm_alert_rule_set_message (r, "Clipping at {{monitor}} in {{pipeline}}: "
      "{{value}} of samples (over {{threshold}})");
  apm_alerts_add_rule (al, r);
  add_expr (al, "latency_budget", "apm_pipeline_latency_seconds",
      APM_AGG_P95, 0, APM_CMP_GT, 0.5, 0, APM_SEVERITY_WARNING,
      "p95 latency {{source}} -> {{sink}} in {{pipeline}} is {{value}} s "
      "(budget {{threshold}} s)");
  /* a live pipeline runs at 1.0 by construction: only a clear shortfall
   * over half a minute is a problem, not sampling noise */
  r = apm_alert_rule_new_expr ("realtime_factor_low",
      "apm_pipeline_realtime_factor", APM_AGG_AVG, 30, APM_CMP_LT, 0.95);
  apm_alert_rule_set_require (r, "apm_pipeline_live");
  apm_alert_rule_set_for (r, 10);
  apm_alert_rule_set_severity (r, APM_SEVERITY_WARNING);
  apm_alert_rule_set_message (r, "Live pipeline {{pipeline}} processes "
      "{{value}} s of media per second (below real time)");
  apm_alerts_add_rule (al, r);
  add_expr (al, "audio_underruns", "apm_monitor_underruns_total",
      APM_AGG_INCREASE, 60, APM_CMP_GT, 0, 0, APM_SEVERITY_WARNING,
      "{{value}} underruns at {{monitor}} in {{pipeline}} in the last minute");
}

static ApmHealthStatus
check_memory (gpointer user_data, gchar ** message, JsonObject ** details)
{
  ApmService *s = user_data;
  gdouble pct = apm_sysres_memory_used_percent (apm_service_get_sysres (s));

  *details = json_object_new ();
  json_object_set_double_member (*details, "used_percent", pct);
  if (pct >= 95) {
    *message = g_strdup_printf ("Memory usage critical: %.1f%%", pct);
    return APM_HEALTH_UNHEALTHY;
  }
  if (pct >= 85) {
    *message = g_strdup_printf ("Memory usage high: %.1f%%", pct);
    return APM_HEALTH_DEGRADED;
  }
  *message = g_strdup_printf ("Memory usage OK: %.1f%%", pct);
  return APM_HEALTH_HEALTHY;
}

static ApmHealthStatus
check_cpu (gpointer user_data, gchar ** message, JsonObject ** details)
{
  ApmService *s = user_data;
  gdouble pct = apm_sysres_cpu_percent (apm_service_get_sysres (s));

  *details = json_object_new ();
  json_object_set_double_member (*details, "cpu_percent", pct);
  *message = g_strdup_printf ("CPU load %.1f%%", pct);
  return pct >= 95 ? APM_HEALTH_DEGRADED : APM_HEALTH_HEALTHY;
}

static ApmHealthStatus
check_monitor (gpointer user_data, gchar ** message, JsonObject ** details)
{
  ApmService *s = user_data;
  ApmRegistry *reg = apm_service_get_registry (s);
  guint64 dropped = apm_registry_n_dropped (reg);

  *details = json_object_new ();
  json_object_set_int_member (*details, "series", apm_registry_n_series (reg));
  json_object_set_int_member (*details, "series_dropped", dropped);
  if (dropped) {
    *message = g_strdup_printf ("Series cap reached: %" G_GUINT64_FORMAT
        " series dropped", dropped);
    return APM_HEALTH_DEGRADED;
  }
  *message = g_strdup ("Monitor running");
  return APM_HEALTH_HEALTHY;
}

void
apm_defaults_install (ApmService * s)
{
  ApmHealth *h = apm_service_get_health (s);

  add_default_rules (s);
  apm_health_add_check (h, "memory", check_memory, s, NULL, 30);
  apm_health_add_check (h, "cpu", check_cpu, s, NULL, 30);
  apm_health_add_check (h, "monitor", check_monitor, s, NULL, 30);
}
