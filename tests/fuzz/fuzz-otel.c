/* libFuzzer harness: the OTEL_* settings (apm-otlp-config.c) and the OTLP
 * writers fed with what they let through.  The input is the variables'
 * values, one per line, in the order of `names` below (missing lines:
 * unset). */
#include "apm-otlp-config.h"
#include "apm-otlp-data.h"

#include <json-glib/json-glib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);

static const gchar *const names[] = {
  "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL",
  "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TIMEOUT",
  "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_SDK_DISABLED",
  "OTEL_METRIC_EXPORT_INTERVAL", "OTEL_BSP_SCHEDULE_DELAY",
  "OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
  "OTEL_BLRP_MAX_QUEUE_SIZE", "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
  "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_TRACES_EXPORTER",
  "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
  "OTEL_EXPORTER_OTLP_COMPRESSION",
};

static const gchar *
lookup (const gchar * name, gpointer data)
{
  return g_hash_table_lookup (data, name);
}

static void
check_signal (const ApmOtlpSignalConfig * sc)
{
  GUri *uri;

  if (!sc->url)
    return;
  uri = g_uri_parse (sc->url, G_URI_FLAGS_NONE, NULL);
  g_assert (uri);
  g_assert (g_str_equal (g_uri_get_scheme (uri), "http")
      || g_str_equal (g_uri_get_scheme (uri), "https"));
  g_uri_unref (uri);
  g_assert (sc->timeout_ms >= 1 && sc->timeout_ms <= 600000);
  g_assert (sc->max_batch >= 1 && sc->max_batch <= sc->max_queue);
  for (guint i = 0; sc->headers[i]; i += 2) {
    g_assert (sc->headers[i + 1]);
    g_assert (*sc->headers[i]);
    /* nothing that would split or corrupt an HTTP header */
    for (const gchar * c = sc->headers[i]; *c; c++)
      g_assert (g_ascii_isgraph (*c) && !strchr ("()<>@,;:\\\"/[]?={}", *c));
    for (const guchar * c = (const guchar *) sc->headers[i + 1]; *c; c++)
      g_assert (*c >= 0x20 && *c != 0x7f);
  }
}

/* the writers with the fuzzed resource: protobuf, and JSON that parses */
static void
encode (ApmOtlpConfig * config)
{
  ApmOtlpResource res = { config->resource, "gst-apm", "0" };
  GPtrArray *spans = g_ptr_array_new_with_free_func ((GDestroyNotify)
      apm_otlp_span_free);
  ApmOtlpSpan *span = apm_otlp_span_new ("fuzz");
  GBytes *pb, *json;
  JsonParser *parser = json_parser_new ();

  memset (span->trace_id, 1, 16);
  memset (span->span_id, 2, 8);
  for (guint i = 0; i < config->resource->len; i++) {
    ApmOtlpAttr *a = &g_array_index (config->resource, ApmOtlpAttr, i);

    g_assert (g_utf8_validate (a->key, -1, NULL));
    g_assert (g_utf8_validate (a->s, -1, NULL));
    apm_otlp_span_add_event (span, 1, a->s, NULL);
  }
  g_ptr_array_add (spans, span);
  pb = apm_otlp_encode_traces (&res, spans, APM_OTLP_PROTOBUF);
  json = apm_otlp_encode_traces (&res, spans, APM_OTLP_JSON);
  g_assert (g_bytes_get_size (pb) > 0);
  g_assert (json_parser_load_from_data (parser, g_bytes_get_data (json, NULL),
          g_bytes_get_size (json), NULL));
  g_object_unref (parser);
  g_bytes_unref (pb);
  g_bytes_unref (json);
  g_ptr_array_unref (spans);
}

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  gchar *text = g_strndup ((const gchar *) data, size);
  gchar **lines = g_strsplit (text, "\n", G_N_ELEMENTS (names));
  GHashTable *vars = g_hash_table_new (g_str_hash, g_str_equal);
  GPtrArray *warnings = g_ptr_array_new_with_free_func (g_free);
  ApmOtlpConfig *config;

  for (guint i = 0; lines[i] && i < G_N_ELEMENTS (names); i++)
    g_hash_table_insert (vars, (gpointer) names[i], lines[i]);
  config = apm_otlp_config_read (lookup, vars, warnings);
  for (guint i = 0; i < warnings->len; i++)
    g_assert (g_utf8_validate (warnings->pdata[i], -1, NULL));
  if (config) {
    for (guint s = 0; s < APM_OTLP_N_SIGNALS; s++)
      check_signal (&config->signal[s]);
    g_assert (config->metric_interval_ms >= 100);
    encode (config);
    apm_otlp_config_free (config);
  }
  g_ptr_array_unref (warnings);
  g_hash_table_unref (vars);
  g_strfreev (lines);
  g_free (text);
  return 0;
}
