/* gst-apm: Prometheus text exposition format 0.0.4 */
#include "apm-prometheus.h"

#include <math.h>
#include <stdlib.h>

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

static void
render_family (const gchar * name, ApmMetricType type, const gchar * help,
    const gchar * const *label_names, GPtrArray * series, gpointer user_data)
{
  GString *out = user_data;
  static const gchar *type_names[] = { "counter", "gauge", "histogram" };

  if (series->len == 0)
    return;

  g_string_append_printf (out, "# HELP %s ", name);
  append_escaped (out, help, FALSE);
  g_string_append_printf (out, "\n# TYPE %s %s\n", name, type_names[type]);

  for (guint i = 0; i < series->len; i++) {
    ApmSeries *s = g_ptr_array_index (series, i);
    const gchar *const *values = apm_series_label_values (s);

    if (type != APM_METRIC_HISTOGRAM) {
      g_string_append (out, name);
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
        if (b < s->n_bounds)
          apm_prometheus_append_number (le, s->bounds[b]);
        else
          g_string_append (le, "+Inf");
        g_string_append_printf (out, "%s_bucket", name);
        append_labels (out, label_names, values, le->str);
        g_string_append_printf (out, " %" G_GUINT64_FORMAT "\n", counts[b]);
      }
      g_string_append_printf (out, "%s_sum", name);
      append_labels (out, label_names, values, NULL);
      g_string_append_c (out, ' ');
      apm_prometheus_append_number (out, sum);
      g_string_append_printf (out, "\n%s_count", name);
      append_labels (out, label_names, values, NULL);
      g_string_append_printf (out, " %" G_GUINT64_FORMAT "\n",
          counts[s->n_bounds]);
      g_string_free (le, TRUE);
    }
  }
}

gchar *
apm_prometheus_render (ApmRegistry * registry, gsize * length)
{
  GString *out = g_string_sized_new (16384);

  apm_registry_foreach (registry, render_family, out);
  if (length)
    *length = out->len;
  return g_string_free (out, FALSE);
}
