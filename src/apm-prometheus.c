/* gst-apm: the exposition formats: Prometheus text 0.0.4 and OpenMetrics
 * 1.0.0
 *
 * OpenMetrics differs in: counter families named without _total (their
 * samples carry it), # UNIT for names ending in a unit, canonical floats in
 * le, quotes escaped in HELP, exemplars on histogram buckets, and # EOF at
 * the end.
 */
#include "apm-prometheus.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
apm_prometheus_append_number (GString * out, gdouble v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (isnan (v)) {
    g_string_append (out, "NaN");
  } else if (isinf (v)) {
    g_string_append (out, v > 0 ? "+Inf" : "-Inf");
  } else if (v == floor (v) && fabs (v) < 1e15) {
    g_string_append_printf (out, "%" G_GINT64_FORMAT, (gint64) v);
  } else {
    /* shortest text that reads back as the same double */
    g_ascii_formatd (buf, sizeof buf, "%.15g", v);
    if (g_ascii_strtod (buf, NULL) != v)
      g_ascii_formatd (buf, sizeof buf, "%.17g", v);
    g_string_append (out, buf);
  }
}

/* OpenMetrics' canonical float (what Go and the reference parsers write):
 * the shortest digits that read back as @v, in Python's repr layout
 * (1.0, 0.25, 1e-05) except that from 1e6 up it is exponent form (1e+06) */
static void
append_canonical_float (GString * out, gdouble v)
{
  gchar buf[40], digits[24];
  gint exp10, n = 0;
  gchar *e;

  if (isnan (v) || isinf (v) || v == 0) {
    if (v == 0)
      g_string_append (out, signbit (v) ? "-0.0" : "0.0");
    else
      apm_prometheus_append_number (out, v);
    return;
  }
  for (gint p = 1; p <= 17; p++) {
    g_snprintf (buf, sizeof buf, "%.*e", p - 1, v);
    if (g_ascii_strtod (buf, NULL) == v)
      break;
  }
  /* buf: [-]d[.ddd]e[+-]XX */
  e = strchr (buf, 'e');
  exp10 = atoi (e + 1);
  for (gchar * c = buf; c < e; c++)
    if (g_ascii_isdigit (*c))
      digits[n++] = *c;
  while (n > 1 && digits[n - 1] == '0')
    n--;
  digits[n] = '\0';
  if (v < 0)
    g_string_append_c (out, '-');
  if (exp10 < -4 || exp10 >= 16 || (v > 0 && exp10 >= 6)) {
    g_string_append_c (out, digits[0]);
    if (n > 1)
      g_string_append_printf (out, ".%s", digits + 1);
    g_string_append_printf (out, "e%c%02d", exp10 < 0 ? '-' : '+',
        ABS (exp10));
  } else if (exp10 >= 0) {
    for (gint i = 0; i <= exp10; i++)
      g_string_append_c (out, i < n ? digits[i] : '0');
    g_string_append_c (out, '.');
    g_string_append (out, n > exp10 + 1 ? digits + exp10 + 1 : "0");
  } else {
    g_string_append (out, "0.");
    for (gint i = 0; i < -exp10 - 1; i++)
      g_string_append_c (out, '0');
    g_string_append (out, digits);
  }
}

static void
append_escaped (GString * out, const gchar * s, gboolean quotes)
{
  for (; *s; s++) {
    if (*s == '\\')
      g_string_append (out, "\\\\");
    else if (*s == '\n')
      g_string_append (out, "\\n");
    else if (quotes && *s == '"')
      g_string_append (out, "\\\"");
    else
      g_string_append_c (out, *s);
  }
}

static void
append_labels (GString * out, const gchar * const *names,
    const gchar * const *values, const gchar * le)
{
  gboolean any = FALSE;

  for (guint i = 0; names[i]; i++) {
    g_string_append_c (out, any ? ',' : '{');
    g_string_append (out, names[i]);
    g_string_append (out, "=\"");
    append_escaped (out, values[i], TRUE);
    g_string_append_c (out, '"');
    any = TRUE;
  }
  if (le) {
    g_string_append (out, any ? ",le=\"" : "{le=\"");
    g_string_append (out, le);
    g_string_append_c (out, '"');
    any = TRUE;
  }
  if (any)
    g_string_append_c (out, '}');
}

typedef struct
{
  GString *out;
  gboolean openmetrics;
} Render;

/* the unit a name ends in (before _total), for OpenMetrics' # UNIT */
static const gchar *
unit_of (const gchar * family)
{
  static const gchar *const units[] = { "seconds", "bytes", "ratio", NULL };

  for (guint i = 0; units[i]; i++) {
    gsize n = strlen (family), u = strlen (units[i]);

    if (n > u + 1 && family[n - u - 1] == '_'
        && strcmp (family + n - u, units[i]) == 0)
      return units[i];
  }
  return NULL;
}

static void
render_family (const gchar * name, ApmMetricType type, const gchar * help,
    const gchar * const *label_names, GPtrArray * series, gpointer user_data)
{
  Render *r = user_data;
  GString *out = r->out;
  static const gchar *type_names[] = { "counter", "gauge", "histogram" };
  gchar *family = g_strdup (name);
  const gchar *sample_suffix = "";
  const gchar *unit;

  if (series->len == 0) {
    g_free (family);
    return;
  }
  /* OpenMetrics: the counter family is the name without _total, which
   * every sample carries */
  if (r->openmetrics && type == APM_METRIC_COUNTER) {
    if (g_str_has_suffix (family, "_total"))
      family[strlen (family) - strlen ("_total")] = '\0';
    sample_suffix = "_total";
  }

  g_string_append_printf (out, "# HELP %s ", family);
  append_escaped (out, help, r->openmetrics);
  g_string_append_printf (out, "\n# TYPE %s %s\n", family, type_names[type]);
  if (r->openmetrics && (unit = unit_of (family)))
    g_string_append_printf (out, "# UNIT %s %s\n", family, unit);

  for (guint i = 0; i < series->len; i++) {
    ApmSeries *s = g_ptr_array_index (series, i);
    const gchar *const *values = apm_series_label_values (s);

    if (type != APM_METRIC_HISTOGRAM) {
      g_string_append (out, family);
      g_string_append (out, sample_suffix);
      append_labels (out, label_names, values, NULL);
      g_string_append_c (out, ' ');
      apm_prometheus_append_number (out, apm_series_value (s));
      g_string_append_c (out, '\n');
    } else {
      guint64 counts[s->n_bounds + 1];
      gdouble sum = apm_series_histogram (s, counts);
      GString *le = g_string_sized_new (32);

      for (guint b = 0; b <= s->n_bounds; b++) {
        g_string_truncate (le, 0);
        if (b == s->n_bounds)
          g_string_append (le, "+Inf");
        else if (r->openmetrics)
          append_canonical_float (le, s->bounds[b]);
        else
          apm_prometheus_append_number (le, s->bounds[b]);
        g_string_append_printf (out, "%s_bucket", family);
        append_labels (out, label_names, values, le->str);
        g_string_append_printf (out, " %" G_GUINT64_FORMAT, counts[b]);
        /* the registry's lock is held: the exemplar is stable */
        if (r->openmetrics && s->extra && s->extra->exemplar.wall_us
            && s->extra->exemplar.bucket == b && counts[b] > 0) {
          const ApmExemplar *x = &s->extra->exemplar;

          g_string_append_printf (out, " # {trace_id=\"%s\"} ", x->trace_id);
          apm_prometheus_append_number (out, x->value);
          g_string_append_printf (out, " %" G_GINT64_FORMAT ".%06d",
              x->wall_us / G_USEC_PER_SEC, (gint) (x->wall_us % G_USEC_PER_SEC));
        }
        g_string_append_c (out, '\n');
      }
      g_string_append_printf (out, "%s_sum", family);
      append_labels (out, label_names, values, NULL);
      g_string_append_c (out, ' ');
      apm_prometheus_append_number (out, sum);
      g_string_append_printf (out, "\n%s_count", family);
      append_labels (out, label_names, values, NULL);
      g_string_append_printf (out, " %" G_GUINT64_FORMAT "\n",
          counts[s->n_bounds]);
      g_string_free (le, TRUE);
    }
  }
  g_free (family);
}

gchar *
apm_prometheus_render (ApmRegistry * registry, ApmExposition format,
    gsize * length)
{
  Render r = { g_string_sized_new (16384),
    format == APM_EXPOSITION_OPENMETRICS
  };

  apm_registry_foreach (registry, render_family, &r);
  if (r.openmetrics)
    g_string_append (r.out, "# EOF\n");
  if (length)
    *length = r.out->len;
  return g_string_free (r.out, FALSE);
}
