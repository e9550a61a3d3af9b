/* gst-apm: the service's OpenTelemetry export
 *
 * The settings come from the environment (OTEL_*), else from what the
 * configuration file and the tracer's params set under the same names
 * (first setting wins).  The exporter exists only when an endpoint is
 * configured; it is made when the service thread starts, gets every log
 * line and job, and is flushed (bounded) when the thread stops.
 */
#include "apm-service-private.h"
#include "apm-otlp.h"

#include <string.h>

void
apm_service_set_otlp_setting (ApmService * s, const gchar * name,
    const gchar * value)
{
  g_return_if_fail (g_str_has_prefix (name, "OTEL_"));

  g_mutex_lock (&s->lock);
  if (!s->otlp_settings)
    s->otlp_settings = g_hash_table_new_full (g_str_hash, g_str_equal,
        g_free, g_free);
  if (!g_hash_table_contains (s->otlp_settings, name))
    g_hash_table_insert (s->otlp_settings, g_strdup (name), g_strdup (value));
  g_mutex_unlock (&s->lock);
  /* it may turn the export on: apm_service_ensure_exporting asks again */
  g_atomic_int_set (&s->export_decided, 0);
}

/* the environment first, as OpenTelemetry SDKs read it; then our own
 * settings (a copy, read without the lock) */
static const gchar *
lookup_setting (const gchar * name, gpointer data)
{
  GHashTable *settings = data;
  const gchar *v = g_getenv (name);

  if (v && *v)
    return v;
  return settings ? g_hash_table_lookup (settings, name) : NULL;
}

gboolean
apm_service_otlp_configured (ApmService * s)
{
  GPtrArray *warnings = g_ptr_array_new_with_free_func (g_free);
  GHashTable *settings = NULL;
  ApmOtlpConfig *config;

  g_mutex_lock (&s->lock);
  if (s->otlp_settings)
    settings = g_hash_table_ref (s->otlp_settings);
  g_mutex_unlock (&s->lock);
  /* its warnings are said when the exporter starts */
  config = apm_otlp_config_read (lookup_setting, settings, warnings);
  g_ptr_array_unref (warnings);
  if (settings)
    g_hash_table_unref (settings);
  if (!config)
    return FALSE;
  apm_otlp_config_free (config);
  return TRUE;
}

void
apm_service_start_otlp (ApmService * s)
{
  GPtrArray *warnings = g_ptr_array_new_with_free_func (g_free);
  GHashTable *settings = NULL;
  ApmOtlpConfig *config;
  ApmOtlp *otlp;

  g_mutex_lock (&s->lock);
  if (s->otlp_settings)
    settings = g_hash_table_ref (s->otlp_settings);
  g_mutex_unlock (&s->lock);
  config = apm_otlp_config_read (lookup_setting, settings, warnings);
  for (guint i = 0; i < warnings->len; i++) {
    /* the user set it to export: say so where they look first too */
    if (!apm_service_is_quiet (s))
      g_printerr ("apm: warning: %s\n", (gchar *) warnings->pdata[i]);
    apm_log_write (s->log, APM_LOG_WARNING, "otlp", NULL, NULL, "%s",
        (gchar *) warnings->pdata[i]);
  }
  g_ptr_array_unref (warnings);
  if (settings)
    g_hash_table_unref (settings);
  otlp = apm_otlp_new (config, s);
  g_rw_lock_writer_lock (&s->otlp_lock);
  s->otlp = otlp;
  g_rw_lock_writer_unlock (&s->otlp_lock);
}

void
apm_service_stop_otlp (ApmService * s)
{
  ApmOtlp *otlp = s->otlp;

  if (!otlp)
    return;
  apm_otlp_flush (otlp, APM_OTLP_EXIT_FLUSH_MS);
  g_rw_lock_writer_lock (&s->otlp_lock);
  s->otlp = NULL;
  g_rw_lock_writer_unlock (&s->otlp_lock);
  apm_otlp_free (otlp);
}

void
apm_service_otlp_log_line (ApmService * s, JsonNode * line)
{
  g_rw_lock_reader_lock (&s->otlp_lock);
  if (s->otlp)
    apm_otlp_on_log_line (s->otlp, line);
  g_rw_lock_reader_unlock (&s->otlp_lock);
}

void
apm_service_otlp_job (ApmService * s, JsonNode * job)
{
  g_rw_lock_reader_lock (&s->otlp_lock);
  if (s->otlp)
    apm_otlp_on_job (s->otlp, job);
  g_rw_lock_reader_unlock (&s->otlp_lock);
}
