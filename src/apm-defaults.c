/* gst-apm: the core's default alert rules and health checks
 *
 * Error rate, memory and slow jobs, over what the core itself measures;
 * the GStreamer plugin adds its own (gst-plugin/gstapmrules.c) through
 * apm_service_add_setup().  A configuration file can replace or disable any
 * of them by name.
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
add_default_rules (ApmService * s)
{
  ApmAlerts *al = apm_service_get_alerts (s);
  ApmAlertRule *r;

  r = apm_alert_rule_new_func ("high_error_rate", high_error_rate, s, NULL);
  apm_alert_rule_set_severity (r, APM_SEVERITY_CRITICAL);
  apm_alert_rule_set_message (r, "{{value}} of the last 10 jobs failed");
  apm_alerts_add_default_rule (al, r);

  apm_alerts_add_default_rule (al,
      apm_alert_rule_new_expr_full ("high_memory_usage",
          "apm_system_memory_used_percent", APM_AGG_LAST, 0, APM_CMP_GT, 85,
          0, APM_SEVERITY_WARNING,
          "System memory usage is {{value}}% (above {{threshold}}%)"));

  /* a filesystem a pipeline writes to, at the rate of the last 10 min */
  r = apm_alert_rule_new_expr_full ("disk_filling",
      "apm_filesystem_avail_bytes", APM_AGG_PREDICT, 600, APM_CMP_LT, 0, 0,
      APM_SEVERITY_WARNING, "Disk {{mount}} full in {{eta}} at the rate of "
      "the last {{window}}");
  apm_alert_rule_set_horizon (r, 6 * 3600);
  apm_alerts_add_default_rule (al, r);

  r = apm_alert_rule_new_func ("slow_job_processing", slow_job, s, NULL);
  apm_alert_rule_set_severity (r, APM_SEVERITY_WARNING);
  apm_alert_rule_set_message (r, "A job has been running for {{value}} s "
      "(over 30 minutes)");
  apm_alerts_add_default_rule (al, r);
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
