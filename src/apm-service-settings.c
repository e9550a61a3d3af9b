/* gst-apm: the service's settings
 *
 * The tracer's parameters, the configuration file, apmonitor's properties
 * and the application may all configure the one service: the first setting
 * of each field wins, and a later different one is reported, not applied.
 * The service thread reads the listening settings once, when it starts.
 */
#include "apm-service-private.h"
#include "apm-access.h"

gboolean
apm_service_configure (ApmService * s, const ApmServiceConfig * config,
    gchar ** ignored)
{
  GString *why = g_string_new (NULL);

  g_mutex_lock (&s->lock);
  if (config->port >= 0) {
    if (!s->port_set) {
      s->port = config->port;
      s->port_set = TRUE;
    } else if (s->port != config->port) {
      g_string_append_printf (why, "port=%d ignored: already %d; ",
          config->port, s->port);
    }
  }
  if (config->address) {
    if (!s->address_set) {
      g_free (s->address);
      s->address = g_strdup (config->address);
      s->address_set = TRUE;
    } else if (g_strcmp0 (s->address, config->address) != 0) {
      g_string_append_printf (why, "address=%s ignored: already %s; ",
          config->address, s->address);
    }
  }
  if (config->ws_rate > 0 && !s->ws_rate_set) {
    s->ws_rate = CLAMP (config->ws_rate, 1, APM_MAX_WS_RATE);
    s->ws_rate_set = TRUE;
  }
  if (config->alert_interval > 0 && !s->alert_interval_set) {
    s->alert_interval = config->alert_interval;
    s->alert_interval_set = TRUE;
  }
  if (config->token)
    apm_access_set_token (s->access, config->token,
        config->token_for_all > 0);
  if (config->log_level >= 0)
    apm_log_set_min_level (s->log, config->log_level);
  if (config->log_stderr >= 0)
    apm_log_set_stderr (s->log, config->log_stderr);
  if (config->log_file) {
    GError *error = NULL;

    if (!apm_log_set_file (s->log, config->log_file, &error)) {
      g_string_append_printf (why, "%s; ", error->message);
      g_clear_error (&error);
    }
  }
  if (config->state_dir) {
    if (!s->state_dir_set) {
      s->state_dir = g_strdup (config->state_dir);
      s->state_dir_set = TRUE;
    } else if (g_strcmp0 (s->state_dir, config->state_dir) != 0) {
      g_string_append_printf (why, "state-dir=%s ignored: already %s; ",
          config->state_dir, s->state_dir);
    }
  }
  if (config->quiet >= 0 && !s->quiet_set) {
    s->quiet = config->quiet;
    s->quiet_set = TRUE;
  }
  g_mutex_unlock (&s->lock);
  if (config->otlp_endpoint)
    apm_service_set_otlp_setting (s, "OTEL_EXPORTER_OTLP_ENDPOINT",
        config->otlp_endpoint);

  if (why->len) {
    g_string_truncate (why, why->len - 2);
    if (ignored)
      *ignored = g_string_free (why, FALSE);
    else
      g_string_free (why, TRUE);
    return FALSE;
  }
  g_string_free (why, TRUE);
  if (ignored)
    *ignored = NULL;
  return TRUE;
}

void
apm_service_config_clear (ApmServiceConfig * config)
{
  g_clear_pointer (&config->token, g_free);
  g_clear_pointer (&config->address, g_free);
  g_clear_pointer (&config->log_file, g_free);
  g_clear_pointer (&config->run_traceparent, g_free);
  g_clear_pointer (&config->run_labels, g_strfreev);
  g_clear_pointer (&config->state_dir, g_free);
  g_clear_pointer (&config->otlp_endpoint, g_free);
  g_clear_pointer (&config->recovery, g_free);
}

gchar *
apm_service_get_address (ApmService * s)
{
  gchar *address;

  g_mutex_lock (&s->lock);
  address = g_strdup (s->address);
  g_mutex_unlock (&s->lock);
  return address;
}

gchar *
apm_service_dup_port_note (ApmService * s)
{
  gchar *note;

  g_mutex_lock (&s->lock);
  note = g_strdup (s->port_note);
  g_mutex_unlock (&s->lock);
  return note;
}

gboolean
apm_service_is_quiet (ApmService * s)
{
  gboolean quiet;

  g_mutex_lock (&s->lock);
  quiet = s->quiet;
  g_mutex_unlock (&s->lock);
  return quiet;
}
