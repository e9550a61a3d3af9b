/* gst-apm tests: the OTLP export's parts that need no collector
 *
 * The OTEL_* settings (apm-otlp-config.c): endpoints per signal, every
 * malformed value a warning naming its variable with the default used,
 * header values percent-decoded and checked; the protobuf wire format
 * (apm-protobuf.c) byte for byte; and a service with no endpoint has no
 * exporter at all.  What the collector receives is checked end to end by
 * tests/e2e/otlp-test.mjs with OpenTelemetry's own decoder.
 */
#include <gst/check/gstcheck.h>
#include <string.h>

#include "apm-otlp-config.h"
#include "apm-otlp-response.h"
#include "apm-protobuf.h"
#include "apm-service.h"

static const gchar *
lookup (const gchar * name, gpointer data)
{
  const gchar *const *vars = data;

  for (guint i = 0; vars[i]; i += 2)
    if (strcmp (vars[i], name) == 0)
      return vars[i + 1];
  return NULL;
}

static ApmOtlpConfig *
read_config (const gchar * const *vars, GPtrArray * warnings)
{
  return apm_otlp_config_read (lookup, (gpointer) vars, warnings);
}

/* the one warning that names @variable, or NULL */
static const gchar *
warning_about (GPtrArray * warnings, const gchar * variable)
{
  for (guint i = 0; i < warnings->len; i++)
    if (strstr (warnings->pdata[i], variable))
      return warnings->pdata[i];
  return NULL;
}

GST_START_TEST (test_nothing_set)
{
  const gchar *vars[] = { "OTEL_SERVICE_NAME", "x", NULL };
  GPtrArray *w = g_ptr_array_new_with_free_func (g_free);

  fail_unless (read_config (vars, w) == NULL, "no endpoint: no exporter");
  fail_unless_equals_int (w->len, 0);
  g_ptr_array_unref (w);
}

GST_END_TEST;

GST_START_TEST (test_endpoints)
{
  const gchar *base[] = { "OTEL_EXPORTER_OTLP_ENDPOINT",
    "http://collector:4318", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    "https://logs.example/ingest", "OTEL_METRICS_EXPORTER", "none", NULL
  };
  const gchar *slash[] = { "OTEL_EXPORTER_OTLP_ENDPOINT",
    "http://collector:4318/otlp/", NULL
  };
  GPtrArray *w = g_ptr_array_new_with_free_func (g_free);
  ApmOtlpConfig *c = read_config (base, w);

  fail_unless (c != NULL);
  fail_unless_equals_string (c->signal[APM_OTLP_TRACES].url,
      "http://collector:4318/v1/traces");
  /* a signal's own URL is used as it is */
  fail_unless_equals_string (c->signal[APM_OTLP_LOGS].url,
      "https://logs.example/ingest");
  fail_unless (c->signal[APM_OTLP_METRICS].url == NULL);
  fail_unless_equals_int (c->signal[APM_OTLP_TRACES].encoding,
      APM_OTLP_PROTOBUF);
  fail_unless_equals_int (c->signal[APM_OTLP_TRACES].timeout_ms, 10000);
  fail_unless_equals_int (c->signal[APM_OTLP_TRACES].schedule_delay_ms, 5000);
  fail_unless_equals_int (c->signal[APM_OTLP_LOGS].schedule_delay_ms, 1000);
  fail_unless_equals_int (c->metric_interval_ms, 60000);
  fail_unless_equals_int (w->len, 0);
  apm_otlp_config_free (c);

  c = read_config (slash, w);
  fail_unless_equals_string (c->signal[APM_OTLP_METRICS].url,
      "http://collector:4318/otlp/v1/metrics");
  apm_otlp_config_free (c);
  g_ptr_array_unref (w);
}

GST_END_TEST;

GST_START_TEST (test_malformed_values)
{
  const gchar *vars[] = {
    "OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318",
    "OTEL_EXPORTER_OTLP_TIMEOUT", "10s",
    "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc",
    "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/json",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "a=b, bad ,c=%ZZ,x y=1, k = v%20w%2C,e=%0d%0aInjected: 1",
    "OTEL_BSP_MAX_QUEUE_SIZE", "100", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "500",
    "OTEL_METRIC_EXPORT_INTERVAL", "-5",
    "OTEL_SDK_DISABLED", "maybe",
    "OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs,team=audio%20ops",
    "OTEL_SERVICE_NAME", "transcoder", NULL
  };
  GPtrArray *w = g_ptr_array_new_with_free_func (g_free);
  ApmOtlpConfig *c = read_config (vars, w);
  ApmOtlpSignalConfig *t;
  const gchar *line;

  fail_unless (c != NULL);
  t = &c->signal[APM_OTLP_TRACES];
  /* each problem names its variable, and its default runs */
  line = warning_about (w, "OTEL_EXPORTER_OTLP_TIMEOUT");
  fail_unless (line && strstr (line, "10s") && strstr (line, "10000"), "%s",
      line);
  fail_unless_equals_int (t->timeout_ms, 10000);
  line = warning_about (w, "OTEL_EXPORTER_OTLP_PROTOCOL");
  fail_unless (line && strstr (line, "grpc is not supported"), "%s", line);
  fail_unless_equals_int (t->encoding, APM_OTLP_PROTOBUF);
  fail_unless_equals_int (c->signal[APM_OTLP_LOGS].encoding, APM_OTLP_JSON);
  fail_unless (warning_about (w, "OTEL_METRIC_EXPORT_INTERVAL") != NULL);
  fail_unless_equals_int (c->metric_interval_ms, 60000);
  fail_unless (warning_about (w, "OTEL_SDK_DISABLED") != NULL);
  fail_unless (warning_about (w, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE") != NULL);
  fail_unless_equals_int (t->max_batch, 100);

  /* headers: good pairs kept, percent-decoded; no header injection */
  fail_unless (warning_about (w, "OTEL_EXPORTER_OTLP_HEADERS") != NULL);
  fail_unless_equals_int (g_strv_length (t->headers), 4);
  fail_unless_equals_string (t->headers[0], "a");
  fail_unless_equals_string (t->headers[1], "b");
  fail_unless_equals_string (t->headers[2], "k");
  fail_unless_equals_string (t->headers[3], "v w,");

  /* OTEL_SERVICE_NAME wins over the attribute */
  {
    GArray *r = c->resource;

    fail_unless_equals_string (g_array_index (r, ApmOtlpAttr, 0).key,
        "service.name");
    fail_unless_equals_string (g_array_index (r, ApmOtlpAttr, 0).s,
        "transcoder");
    fail_unless_equals_int (r->len, 2);
    fail_unless_equals_string (g_array_index (r, ApmOtlpAttr, 1).s,
        "audio ops");
  }
  apm_otlp_config_free (c);
  g_ptr_array_unref (w);
}

GST_END_TEST;

GST_START_TEST (test_off_switches)
{
  const gchar *disabled[] = { "OTEL_EXPORTER_OTLP_ENDPOINT",
    "http://127.0.0.1:4318", "OTEL_SDK_DISABLED", "TRUE", NULL
  };
  const gchar *bad_url[] = { "OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://x/", NULL };
  GPtrArray *w = g_ptr_array_new_with_free_func (g_free);

  fail_unless (read_config (disabled, w) == NULL);
  fail_unless (read_config (bad_url, w) == NULL);
  fail_unless (warning_about (w, "OTEL_EXPORTER_OTLP_ENDPOINT") != NULL);
  g_ptr_array_unref (w);
}

GST_END_TEST;

static void
assert_bytes (GBytes * b, const guint8 * want, gsize len)
{
  gsize n;
  const guint8 *got = g_bytes_get_data (b, &n);

  fail_unless_equals_int (n, len);
  for (gsize i = 0; i < len; i++)
    fail_unless (got[i] == want[i], "byte %" G_GSIZE_FORMAT ": %02x, not "
        "%02x", i, got[i], want[i]);
}

GST_START_TEST (test_protobuf_wire)
{
  ApmPbWriter w;
  ApmPbMark m;
  GBytes *b;
  static const guint8 scalars[] = {
    0x08, 0x96, 0x01,           /* field 1 varint 150 (the spec's example) */
    0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,   /* -1 */
    0x19, 1, 0, 0, 0, 0, 0, 0, 0,       /* fixed64 1, little endian */
    0x25, 0x78, 0x56, 0x34, 0x12,       /* fixed32 */
    0x2a, 0x02, 'h', 'i',       /* string */
  };

  apm_pb_writer_init (&w);
  apm_pb_uint64 (&w, 1, 150);
  apm_pb_int64 (&w, 2, -1);
  apm_pb_fixed64 (&w, 3, 1);
  apm_pb_fixed32 (&w, 4, 0x12345678);
  apm_pb_string (&w, 5, "hi");
  b = apm_pb_writer_finish (&w);
  assert_bytes (b, scalars, sizeof scalars);
  g_bytes_unref (b);

  /* a nested message of 200 bytes: its length takes two bytes, inserted
   * before it when it ends */
  apm_pb_writer_init (&w);
  m = apm_pb_begin (&w, 2);
  {
    gchar text[199];

    memset (text, 'a', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    /* 1 key + 2 length + 198 = 201 bytes */
    apm_pb_string (&w, 1, text);
  }
  apm_pb_end (&w, m);
  apm_pb_uint64 (&w, 3, 1);
  b = apm_pb_writer_finish (&w);
  {
    gsize n;
    const guint8 *d = g_bytes_get_data (b, &n);

    fail_unless_equals_int (n, 1 + 2 + 201 + 2);
    fail_unless (d[0] == 0x12 && d[1] == ((201 & 0x7f) | 0x80) && d[2] == 1);
    fail_unless (d[3] == 0x0a && d[4] == ((198 & 0x7f) | 0x80) && d[5] == 1);
    fail_unless (d[n - 2] == 0x18 && d[n - 1] == 1);
  }
  g_bytes_unref (b);
}

GST_END_TEST;

/* no endpoint: the running service has no exporter, no OTLP series */
GST_START_TEST (test_service_without_endpoint)
{
  ApmService *s = apm_service_get_default ();
  ApmRegistry *reg = apm_service_get_registry (s);
  GError *error = NULL;
  ApmServiceConfig config = APM_SERVICE_CONFIG_INIT;

  config.port = 0;
  config.quiet = TRUE;
  apm_service_configure (s, &config, NULL);
  fail_unless (apm_service_ensure_started (s, &error));
  fail_unless (apm_registry_lookup (reg, "apm_otlp_exported_total") == NULL);
  fail_unless (apm_registry_lookup (reg, "apm_otlp_dropped_total") == NULL);
  apm_service_shutdown ();
}

GST_END_TEST;

/* Retry-After: seconds or an HTTP date; a longer wait than an hour is an
 * hour, not ignored; nonsense is no wait of its own */
GST_START_TEST (test_retry_after_values)
{
  fail_unless_equals_int (apm_otlp_retry_after_ms ("2"), 2000);
  fail_unless_equals_int (apm_otlp_retry_after_ms ("7200"), 3600 * 1000);
  fail_unless_equals_int (apm_otlp_retry_after_ms ("soon"), 0);
  fail_unless_equals_int (apm_otlp_retry_after_ms ("-5"), 0);
  fail_unless_equals_int (apm_otlp_retry_after_ms (NULL), 0);
  fail_unless_equals_int (apm_otlp_retry_after_ms
      ("Wed, 21 Oct 2015 07:28:00 GMT"), 0);
}

GST_END_TEST;

static Suite *
otlp_suite (void)
{
  Suite *s = suite_create ("otlp");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_nothing_set);
  tcase_add_test (tc, test_endpoints);
  tcase_add_test (tc, test_malformed_values);
  tcase_add_test (tc, test_off_switches);
  tcase_add_test (tc, test_protobuf_wire);
  tcase_add_test (tc, test_retry_after_values);
  tcase_add_test (tc, test_service_without_endpoint);
  return s;
}

int
main (int argc, char **argv)
{
  /* the environment of whoever runs the tests must not turn export on */
  static const gchar *const names[] = { "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", NULL
  };

  for (guint i = 0; names[i]; i++)
    g_unsetenv (names[i]);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (otlp_suite (), "otlp", __FILE__);
}
