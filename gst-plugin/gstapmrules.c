/* gst-apm: the default alert rules over the metrics this plugin publishes
 *
 * Stalls, silence, clipping, latency budget, real-time factor and
 * underruns.  The core knows none of these names: the plugin hands the
 * rules to each service it gets (apm_service_add_setup, in plugin_init).
 */
#include "gstapmrules.h"

static void
add (ApmAlerts * al, ApmAlertRule * rule)
{
  apm_alerts_add_default_rule (al, rule);
}

void
gst_apm_rules_install (ApmService * service)
{
  ApmAlerts *al = apm_service_get_alerts (service);
  ApmAlertRule *r;

  add (al, apm_alert_rule_new_expr_full ("pipeline_stalled",
          "apm_pipeline_stalled_seconds", APM_AGG_LAST, 0, APM_CMP_GT, 0, 0,
          APM_SEVERITY_CRITICAL,
          "Pipeline {{pipeline}} is PLAYING but no buffer reached its sinks "
          "for {{value}} s"));
  add (al, apm_alert_rule_new_expr_full ("pipeline_stuck",
          "apm_pipeline_stuck_seconds", APM_AGG_LAST, 0, APM_CMP_GT, 0, 0,
          APM_SEVERITY_CRITICAL,
          "Pipeline {{pipeline}} is stuck in a state change for {{value}} s "
          "(see its health check for what has not completed)"));
  add (al, apm_alert_rule_new_expr_full ("recovery_failed",
          "apm_pipeline_recovery_gave_up", APM_AGG_LAST, 0, APM_CMP_GT, 0, 0,
          APM_SEVERITY_CRITICAL,
          "Automated recovery of {{pipeline}} gave up: its attempts in the "
          "window are spent"));
  add (al, apm_alert_rule_new_expr_full ("audio_silence",
          "apm_monitor_silent", APM_AGG_LAST, 0, APM_CMP_GT, 0, 10,
          APM_SEVERITY_WARNING, "Silence at {{monitor}} in {{pipeline}}"));

  r = apm_alert_rule_new_expr_full ("audio_clipping",
      "apm_monitor_clipped_samples_total", APM_AGG_RATIO, 30, APM_CMP_GT,
      0.01, 0, APM_SEVERITY_WARNING,
      "Clipping at {{monitor}} in {{pipeline}}: {{value}} of samples "
      "(over {{threshold}})");
  apm_alert_rule_set_denominator (r, "apm_monitor_samples_total");
  add (al, r);

  add (al, apm_alert_rule_new_expr_full ("latency_budget",
          "apm_pipeline_latency_seconds", APM_AGG_P95, 0, APM_CMP_GT, 0.5, 0,
          APM_SEVERITY_WARNING,
          "p95 latency {{source}} -> {{sink}} in {{pipeline}} is {{value}} s "
          "(budget {{threshold}} s)"));

  /* a live pipeline runs at 1.0 by construction: only a clear shortfall
   * over half a minute is a problem, not sampling noise */
  r = apm_alert_rule_new_expr_full ("realtime_factor_low",
      "apm_pipeline_realtime_factor", APM_AGG_AVG, 30, APM_CMP_LT, 0.95, 10,
      APM_SEVERITY_WARNING,
      "Live pipeline {{pipeline}} processes {{value}} s of media per second "
      "(below real time)");
  apm_alert_rule_set_require (r, "apm_pipeline_live");
  add (al, r);

  /* the last 5 min against the hour before them */
  r = apm_alert_rule_new_expr_full ("latency_regression",
      "apm_pipeline_latency_seconds", APM_AGG_CHANGE, 300, APM_CMP_GE, 50, 0,
      APM_SEVERITY_WARNING,
      "p95 latency {{source}} -> {{sink}} in {{pipeline}} up {{value}} % "
      "against the last {{baseline}}");
  apm_alert_rule_set_baseline (r, 3600);
  add (al, r);

  add (al, apm_alert_rule_new_expr_full ("audio_underruns",
          "apm_monitor_underruns_total", APM_AGG_INCREASE, 60, APM_CMP_GT, 0,
          0, APM_SEVERITY_WARNING,
          "{{value}} underruns at {{monitor}} in {{pipeline}} in the last "
          "minute"));
}
