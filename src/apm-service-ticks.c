/* gst-apm: the service's periodic work
 *
 * On the service thread: each second the sweep tick flushes, runs the
 * collectors, samples resources, health, the log file and history, and
 * retires old series; every alert interval the alert tick flushes and
 * evaluates the rules.
 */
#include "apm-service-private.h"
#include "apm-history.h"

static void
run_collectors (ApmService * s, GArray * list)
{
  GArray *copy;

  g_mutex_lock (&s->lock);
  copy = g_array_copy (list);
  g_mutex_unlock (&s->lock);
  for (guint i = 0; i < copy->len; i++) {
    Collector *c = &g_array_index (copy, Collector, i);

    c->func (s, c->user_data);
  }
  g_array_unref (copy);
}

void
apm_service_flush (ApmService * s)
{
  run_collectors (s, s->flushers);
}

void
apm_service_add_collector (ApmService * s, ApmCollectFunc func,
    gpointer user_data)
{
  Collector c = { func, user_data };

  g_mutex_lock (&s->lock);
  g_array_append_val (s->collectors, c);
  g_mutex_unlock (&s->lock);
}

void
apm_service_add_flush_func (ApmService * s, ApmCollectFunc func,
    gpointer user_data)
{
  Collector c = { func, user_data };

  g_mutex_lock (&s->lock);
  g_array_append_val (s->flushers, c);
  g_mutex_unlock (&s->lock);
}

static gboolean
sweep_tick (gpointer user_data)
{
  ApmService *s = user_data;

  apm_service_flush (s);
  run_collectors (s, s->collectors);
  apm_sysres_sample (s->sysres);
  apm_health_tick (s->health);
  apm_log_check_file (s->log);
  apm_history_sample (s->registry, g_get_real_time ());
  apm_registry_sweep (s->registry, s->series_grace_us);
  return G_SOURCE_CONTINUE;
}

static gboolean
alert_tick (gpointer user_data)
{
  ApmService *s = user_data;

  apm_service_flush (s);
  apm_alerts_evaluate (s->alerts, g_get_real_time ());
  return G_SOURCE_CONTINUE;
}

void
apm_service_start_ticks (ApmService * s, guint alert_interval)
{
  GSource *tick;

  tick = g_timeout_source_new_seconds (1);
  g_source_set_callback (tick, sweep_tick, s, NULL);
  g_source_attach (tick, s->context);
  g_source_unref (tick);
  s->alert_source = g_timeout_source_new_seconds (alert_interval);
  g_source_set_callback (s->alert_source, alert_tick, s, NULL);
  g_source_attach (s->alert_source, s->context);
}

void
apm_service_stop_ticks (ApmService * s)
{
  if (s->alert_source) {
    g_source_destroy (s->alert_source);
    g_clear_pointer (&s->alert_source, g_source_unref);
  }
}

static gboolean
rearm_alerts (gpointer user_data)
{
  ApmService *s = user_data;
  guint interval = apm_service_get_alert_interval (s);

  if (s->alert_source) {
    g_source_destroy (s->alert_source);
    g_source_unref (s->alert_source);
  }
  s->alert_source = g_timeout_source_new_seconds (interval);
  g_source_set_callback (s->alert_source, alert_tick, s, NULL);
  g_source_attach (s->alert_source, s->context);
  return G_SOURCE_REMOVE;
}

void
apm_service_set_alert_interval (ApmService * s, guint seconds)
{
  gboolean running;

  g_return_if_fail (seconds >= 1);
  g_mutex_lock (&s->lock);
  s->alert_interval = seconds;
  s->alert_interval_set = TRUE;
  running = s->start_done && s->thread != NULL;
  g_mutex_unlock (&s->lock);
  if (running)
    apm_service_invoke (s, rearm_alerts, s, NULL);
}

guint
apm_service_get_alert_interval (ApmService * s)
{
  guint v;

  g_mutex_lock (&s->lock);
  v = s->alert_interval;
  g_mutex_unlock (&s->lock);
  return v;
}
