/* gst-apm: the configuration file's "otlp" block
 *
 * {"otlp": {"endpoint": "http://collector:4318", "protocol": "http/json",
 *   "headers": {"authorization": "Bearer x"}, "timeout_ms": 5000,
 *   "service_name": "transcoder", "resource_attributes": {"k": "v"},
 *   "traces_endpoint": ..., "logs_endpoint": ..., "metrics_endpoint": ...,
 *   "metric_interval_ms": 60000, "enabled": true}}
 *
 * Each key becomes the OTEL_* setting of the same meaning, used where the
 * environment does not set it (apm-service-otlp.c).
 */
#include "apm-config-private.h"

#include <string.h>

static const struct
{
  const gchar *key;
  const gchar *variable;
} string_keys[] = {
  {"endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT"},
  {"traces_endpoint", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"},
  {"logs_endpoint", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"},
  {"metrics_endpoint", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"},
  {"protocol", "OTEL_EXPORTER_OTLP_PROTOCOL"},
  {"service_name", "OTEL_SERVICE_NAME"},
};

/* {"k": "v", ...} as "k=v,..." percent-encoded (the variables' format) */
static gchar *
pairs_text (ApmConfigCtx * ctx, JsonObject * o, const gchar * key)
{
  JsonObject *pairs = apm_config_get_object (ctx, o, key);
  GList *members = pairs ? json_object_get_members (pairs) : NULL;
  GString *text = g_string_new (NULL);

  for (GList * l = members; l; l = l->next) {
    const gchar *v = apm_config_get_string (ctx, pairs, l->data, key);
    gchar *ek, *ev;

    if (!v)
      continue;
    ek = g_uri_escape_string (l->data, NULL, FALSE);
    ev = g_uri_escape_string (v, NULL, FALSE);
    g_string_append_printf (text, "%s%s=%s", text->len ? "," : "", ek, ev);
    g_free (ek);
    g_free (ev);
  }
  g_list_free (members);
  return g_string_free (text, text->len == 0);
}

/* Appends OTEL_* name, value pairs to @settings. */
void
apm_config_parse_otlp (ApmConfigCtx * ctx, JsonObject * root,
    GPtrArray * settings)
{
  static const gchar *const keys[] = { "endpoint", "traces_endpoint",
    "logs_endpoint", "metrics_endpoint", "protocol", "headers", "timeout_ms",
    "service_name", "resource_attributes", "metric_interval_ms", "enabled",
    NULL
  };
  JsonObject *o = apm_config_get_object (ctx, root, "otlp");
  gdouble n;
  gboolean enabled;
  gchar *text;

  if (!o)
    return;
  apm_config_check_keys (ctx, o, keys, "otlp", "otlp");
  for (guint i = 0; i < G_N_ELEMENTS (string_keys); i++) {
    const gchar *v = apm_config_get_string (ctx, o, string_keys[i].key,
        "otlp");

    if (!v)
      continue;
    if (g_str_has_suffix (string_keys[i].key, "endpoint")
        && !g_str_has_prefix (v, "http://")
        && !g_str_has_prefix (v, "https://"))
      apm_config_fail (ctx, "otlp", string_keys[i].key,
          "otlp.%s must be an http:// or https:// URL", string_keys[i].key);
    if (strcmp (string_keys[i].key, "protocol") == 0
        && strcmp (v, "http/protobuf") != 0 && strcmp (v, "http/json") != 0)
      apm_config_fail (ctx, "otlp", "protocol", "otlp.protocol must be "
          "http/protobuf or http/json (grpc is not supported)");
    g_ptr_array_add (settings, g_strdup (string_keys[i].variable));
    g_ptr_array_add (settings, g_strdup (v));
  }
  if ((text = pairs_text (ctx, o, "headers"))) {
    g_ptr_array_add (settings, g_strdup ("OTEL_EXPORTER_OTLP_HEADERS"));
    g_ptr_array_add (settings, text);
  }
  if ((text = pairs_text (ctx, o, "resource_attributes"))) {
    g_ptr_array_add (settings, g_strdup ("OTEL_RESOURCE_ATTRIBUTES"));
    g_ptr_array_add (settings, text);
  }
  if (apm_config_get_number (ctx, o, "timeout_ms", "otlp", 1, 600000, &n)) {
    g_ptr_array_add (settings, g_strdup ("OTEL_EXPORTER_OTLP_TIMEOUT"));
    g_ptr_array_add (settings, g_strdup_printf ("%u", (guint) n));
  }
  if (apm_config_get_number (ctx, o, "metric_interval_ms", "otlp", 100,
          86400000, &n)) {
    g_ptr_array_add (settings, g_strdup ("OTEL_METRIC_EXPORT_INTERVAL"));
    g_ptr_array_add (settings, g_strdup_printf ("%u", (guint) n));
  }
  if (apm_config_get_bool (ctx, o, "enabled", "otlp", &enabled)) {
    g_ptr_array_add (settings, g_strdup ("OTEL_SDK_DISABLED"));
    g_ptr_array_add (settings, g_strdup (enabled ? "false" : "true"));
  }
}
