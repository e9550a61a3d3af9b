/* gst-apm: the OTLP exporter's settings (see apm-otlp-config.h) */
#include "apm-otlp-config.h"

#include <string.h>

static const gchar *const signal_names[] = { "traces", "logs", "metrics" };
static const gchar *const signal_vars[] = { "TRACES", "LOGS", "METRICS" };

const gchar *
apm_otlp_signal_name (ApmOtlpSignal signal)
{
  return signal_names[signal];
}

static const gchar *
lookup (ApmOtlpLookup func, gpointer data, const gchar * name)
{
  const gchar *v = func (name, data);

  /* an empty variable is an unset one (the SDK spec says so) */
  return v && *v ? v : NULL;
}

/* a per-signal variable, else the general one; @which receives the name
 * used, for messages */
static const gchar *
lookup_signal (ApmOtlpLookup func, gpointer data, ApmOtlpSignal signal,
    const gchar * suffix, gchar ** which)
{
  gchar *name = g_strdup_printf ("OTEL_EXPORTER_OTLP_%s_%s",
      signal_vars[signal], suffix);
  const gchar *v = lookup (func, data, name);

  if (!v) {
    g_free (name);
    name = g_strdup_printf ("OTEL_EXPORTER_OTLP_%s", suffix);
    v = lookup (func, data, name);
  }
  *which = name;
  return v;
}

static void
warn (GPtrArray * warnings, const gchar * format, ...) G_GNUC_PRINTF (2, 3);

static void
warn (GPtrArray * warnings, const gchar * format, ...)
{
  va_list args;
  gchar *line, *valid;

  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);
  /* values come from anywhere: keep the line UTF-8 */
  valid = g_utf8_make_valid (line, -1);
  g_free (line);
  if (warnings)
    g_ptr_array_add (warnings, valid);
  else
    g_free (valid);
}

/* a number of milliseconds or items in [@min, @max], else @def */
static guint
read_uint (ApmOtlpLookup func, gpointer data, const gchar * name, guint min,
    guint max, guint def, GPtrArray * warnings)
{
  const gchar *v = lookup (func, data, name);
  guint64 n;

  if (!v)
    return def;
  if (!g_ascii_string_to_unsigned (v, 10, min, max, &n, NULL)) {
    warn (warnings, "%s='%s' is not a whole number from %u to %u: using "
        "the default %u", name, v, min, max, def);
    return def;
  }
  return (guint) n;
}

static gboolean
valid_endpoint (const gchar * url)
{
  GUri *uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  gboolean ok = uri && g_uri_get_host (uri) && *g_uri_get_host (uri)
      && (g_strcmp0 (g_uri_get_scheme (uri), "http") == 0
      || g_strcmp0 (g_uri_get_scheme (uri), "https") == 0);

  if (uri)
    g_uri_unref (uri);
  return ok;
}

/* an HTTP header name: RFC 9110 token characters */
static gboolean
valid_header_name (const gchar * name)
{
  if (!*name)
    return FALSE;
  for (const gchar * c = name; *c; c++)
    if (!g_ascii_isalnum (*c) && !strchr ("!#$%&'*+-.^_`|~", *c))
      return FALSE;
  return TRUE;
}

/* no control characters (a header split by CR LF), valid UTF-8 */
static gboolean
valid_value (const gchar * value)
{
  for (const guchar * c = (const guchar *) value; *c; c++)
    if (*c < 0x20 || *c == 0x7f)
      return FALSE;
  return g_utf8_validate (value, -1, NULL);
}

gchar **
apm_otlp_parse_pairs (const gchar * text, const gchar * variable,
    GPtrArray * warnings)
{
  GPtrArray *out = g_ptr_array_new ();
  gchar **members = g_strsplit (text, ",", -1);

  for (guint i = 0; members[i]; i++) {
    gchar *member = g_strstrip (members[i]), *eq, *key, *value;

    if (!*member)
      continue;
    eq = strchr (member, '=');
    if (!eq) {
      warn (warnings, "%s: '%s' is not key=value: ignored", variable,
          member);
      continue;
    }
    *eq = '\0';
    key = g_strstrip (member);
    /* W3C baggage: properties after ';' are not ours */
    value = g_strstrip (eq + 1);
    {
      gchar *semi = strchr (value, ';');

      if (semi)
        *semi = '\0';
    }
    key = g_uri_unescape_string (key, NULL);
    value = g_uri_unescape_string (g_strstrip (value), NULL);
    if (!key || !*key || !value || !valid_value (key) || !valid_value (value)) {
      warn (warnings, "%s: member %u has an empty or malformed key or value "
          "(bad percent-encoding or control characters): ignored", variable,
          i + 1);
      g_free (key);
      g_free (value);
      continue;
    }
    g_ptr_array_add (out, key);
    g_ptr_array_add (out, value);
  }
  g_strfreev (members);
  g_ptr_array_add (out, NULL);
  return (gchar **) g_ptr_array_free (out, FALSE);
}

static void
read_signal (ApmOtlpLookup func, gpointer data, ApmOtlpSignal signal,
    ApmOtlpSignalConfig * sc, GPtrArray * warnings)
{
  gchar *name = g_strdup_printf ("OTEL_EXPORTER_OTLP_%s_ENDPOINT",
      signal_vars[signal]);
  gchar *which = NULL, *exporter;
  const gchar *v = lookup (func, data, name);

  /* OTEL_TRACES_EXPORTER=none and the like turn a signal off */
  exporter = g_strdup_printf ("OTEL_%s_EXPORTER", signal_vars[signal]);
  if (g_strcmp0 (lookup (func, data, exporter), "none") == 0) {
    g_free (exporter);
    g_free (name);
    return;
  }
  if (lookup (func, data, exporter)
      && g_strcmp0 (lookup (func, data, exporter), "otlp") != 0)
    warn (warnings, "%s='%s': only otlp and none are supported: using otlp",
        exporter, lookup (func, data, exporter));
  g_free (exporter);

  if (v) {
    /* the per-signal URL is used as it is */
    if (valid_endpoint (v))
      sc->url = g_strdup (v);
    else
      warn (warnings, "%s='%s' is not an http:// or https:// URL: %s are "
          "not exported", name, v, signal_names[signal]);
  } else if ((v = lookup (func, data, "OTEL_EXPORTER_OTLP_ENDPOINT"))) {
    /* the base URL gets the signal's path */
    if (valid_endpoint (v))
      sc->url = g_strdup_printf ("%s%sv1/%s", v,
          g_str_has_suffix (v, "/") ? "" : "/", signal_names[signal]);
    else
      warn (warnings, "OTEL_EXPORTER_OTLP_ENDPOINT='%s' is not an http:// "
          "or https:// URL: %s are not exported", v, signal_names[signal]);
  }
  g_free (name);
  if (!sc->url)
    return;

  sc->encoding = APM_OTLP_PROTOBUF;
  v = lookup_signal (func, data, signal, "PROTOCOL", &which);
  if (v && strcmp (v, "http/json") == 0)
    sc->encoding = APM_OTLP_JSON;
  else if (v && strcmp (v, "grpc") == 0)
    warn (warnings, "%s=grpc is not supported (gst-apm speaks OTLP over "
        "HTTP only): using http/protobuf, to %s", which, sc->url);
  else if (v && strcmp (v, "http/protobuf") != 0)
    warn (warnings, "%s='%s' is not http/protobuf or http/json: using "
        "http/protobuf", which, v);
  g_clear_pointer (&which, g_free);

  v = lookup_signal (func, data, signal, "COMPRESSION", &which);
  if (v && strcmp (v, "gzip") == 0)
    sc->gzip = TRUE;
  else if (v && strcmp (v, "none") != 0)
    warn (warnings, "%s='%s' is not gzip or none: using none", which, v);
  g_clear_pointer (&which, g_free);

  v = lookup_signal (func, data, signal, "HEADERS", &which);
  {
    gchar **pairs = apm_otlp_parse_pairs (v ? v : "", which, warnings);
    GPtrArray *kept = g_ptr_array_new ();

    for (guint i = 0; pairs[i]; i += 2) {
      if (valid_header_name (pairs[i])) {
        g_ptr_array_add (kept, g_strdup (pairs[i]));
        g_ptr_array_add (kept, g_strdup (pairs[i + 1]));
      } else {
        warn (warnings, "%s: '%s' is not an HTTP header name: ignored", which,
            pairs[i]);
      }
    }
    g_ptr_array_add (kept, NULL);
    sc->headers = (gchar **) g_ptr_array_free (kept, FALSE);
    g_strfreev (pairs);
  }
  g_clear_pointer (&which, g_free);

  v = lookup_signal (func, data, signal, "TIMEOUT", &which);
  sc->timeout_ms = APM_OTLP_DEFAULT_TIMEOUT_MS;
  if (v) {
    guint64 n;

    if (g_ascii_string_to_unsigned (v, 10, 1, 600000, &n, NULL))
      sc->timeout_ms = n;
    else
      warn (warnings, "%s='%s' is not milliseconds from 1 to 600000: using "
          "the default %u", which, v, APM_OTLP_DEFAULT_TIMEOUT_MS);
  }
  g_free (which);

  /* the batch processors' settings (BSP: spans, BLRP: log records) */
  if (signal == APM_OTLP_METRICS) {
    sc->max_queue = sc->max_batch = 1;
    return;
  }
  {
    const gchar *prefix = signal == APM_OTLP_TRACES ? "OTEL_BSP" :
        "OTEL_BLRP";
    gchar *delay = g_strconcat (prefix, "_SCHEDULE_DELAY", NULL);
    gchar *queue = g_strconcat (prefix, "_MAX_QUEUE_SIZE", NULL);
    gchar *batch = g_strconcat (prefix, "_MAX_EXPORT_BATCH_SIZE", NULL);

    sc->schedule_delay_ms = read_uint (func, data, delay, 1, 3600000,
        signal == APM_OTLP_TRACES ? 5000 : 1000, warnings);
    sc->max_queue = read_uint (func, data, queue, 1, 1000000, 2048,
        warnings);
    sc->max_batch = read_uint (func, data, batch, 1, 1000000, 512, warnings);
    if (sc->max_batch > sc->max_queue) {
      warn (warnings, "%s=%u is larger than %s=%u: using %u", batch,
          sc->max_batch, queue, sc->max_queue, sc->max_queue);
      sc->max_batch = sc->max_queue;
    }
    g_free (delay);
    g_free (queue);
    g_free (batch);
  }
}

static void
read_resource (ApmOtlpLookup func, gpointer data, ApmOtlpConfig * c,
    GPtrArray * warnings)
{
  const gchar *v = lookup (func, data, "OTEL_RESOURCE_ATTRIBUTES");
  const gchar *service = lookup (func, data, "OTEL_SERVICE_NAME");
  gchar **pairs = apm_otlp_parse_pairs (v ? v : "",
      "OTEL_RESOURCE_ATTRIBUTES", warnings);

  c->resource = apm_otlp_attrs_new ();
  if (service) {
    if (valid_value (service))
      apm_otlp_attrs_add_string (c->resource, "service.name", service);
    else
      warn (warnings, "OTEL_SERVICE_NAME has control characters or is not "
          "UTF-8: ignored");
  }
  for (guint i = 0; pairs[i]; i += 2) {
    gboolean dup = FALSE;

    /* OTEL_SERVICE_NAME wins over service.name here; first one wins */
    for (guint k = 0; k < c->resource->len; k++)
      dup |= strcmp (g_array_index (c->resource, ApmOtlpAttr, k).key,
          pairs[i]) == 0;
    if (!dup)
      apm_otlp_attrs_add_string (c->resource, pairs[i], pairs[i + 1]);
  }
  g_strfreev (pairs);
}

ApmOtlpConfig *
apm_otlp_config_read (ApmOtlpLookup func, gpointer data,
    GPtrArray * warnings)
{
  ApmOtlpConfig *c;
  const gchar *disabled = lookup (func, data, "OTEL_SDK_DISABLED");
  gboolean any = FALSE;

  if (disabled) {
    if (g_ascii_strcasecmp (disabled, "true") == 0)
      return NULL;
    if (g_ascii_strcasecmp (disabled, "false") != 0)
      warn (warnings, "OTEL_SDK_DISABLED='%s' is not true or false: using "
          "false", disabled);
  }
  c = g_new0 (ApmOtlpConfig, 1);
  for (guint s = 0; s < APM_OTLP_N_SIGNALS; s++) {
    read_signal (func, data, s, &c->signal[s], warnings);
    any |= c->signal[s].url != NULL;
  }
  if (!any) {
    apm_otlp_config_free (c);
    return NULL;
  }
  c->metric_interval_ms = read_uint (func, data,
      "OTEL_METRIC_EXPORT_INTERVAL", 100, 86400000,
      APM_OTLP_DEFAULT_METRIC_INTERVAL_MS, warnings);
  read_resource (func, data, c, warnings);
  return c;
}

void
apm_otlp_config_free (ApmOtlpConfig * c)
{
  if (!c)
    return;
  for (guint s = 0; s < APM_OTLP_N_SIGNALS; s++) {
    g_free (c->signal[s].url);
    g_strfreev (c->signal[s].headers);
  }
  if (c->resource)
    g_array_unref (c->resource);
  g_free (c);
}
