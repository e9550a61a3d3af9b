/* gst-apm compare --html: the comparison as one page that needs nothing
 * else (inline style, an SVG interval plot per comparison, no script) */
#include "gst-apm-compare.h"

#include <math.h>
#include <string.h>

#define PLOT_W 260
#define PLOT_H 18

static void
append_escaped (GString * out, const gchar * text)
{
  gchar *safe = g_markup_escape_text (text, -1);

  g_string_append (out, safe);
  g_free (safe);
}

/* the interval on a log axis from @min to @max, with 1 marked */
static void
append_plot (GString * out, const ApmCompareRatio * r, gdouble min,
    gdouble max)
{
  gdouble span = log (max) - log (min);
#define X(v) (4 + (PLOT_W - 8) * (log (v) - log (min)) / span)

  g_string_append_printf (out, "<svg width=\"%d\" height=\"%d\" "
      "viewBox=\"0 0 %d %d\"><line x1=\"%.1f\" y1=\"0\" x2=\"%.1f\" "
      "y2=\"%d\" class=\"one\"/>", PLOT_W, PLOT_H, PLOT_W, PLOT_H, X (1.0),
      X (1.0), PLOT_H);
  if (r->ok)
    g_string_append_printf (out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" "
        "y2=\"%d\" class=\"ci%s\"/><circle cx=\"%.1f\" cy=\"%d\" r=\"3.5\" "
        "class=\"ci%s\"/>", X (r->lo), PLOT_H / 2, X (r->hi), PLOT_H / 2,
        r->significant ? " sig" : "", X (r->ratio), PLOT_H / 2,
        r->significant ? " sig" : "");
  g_string_append (out, "</svg>");
#undef X
}

static void
append_row (GString * out, const ApmCompareRatio * r, const gchar * what,
    gdouble min, gdouble max)
{
  gchar *verdict = apm_compare_verdict (r, what);

  g_string_append (out, "<tr><td>");
  append_escaped (out, verdict);
  if (r->ok)
    g_string_append_printf (out, "</td><td class=\"num\">%.3f</td>"
        "<td class=\"num\">%.3f&ndash;%.3f</td><td>", r->ratio, r->lo,
        r->hi);
  else
    g_string_append (out, "</td><td>-</td><td>-</td><td>");
  append_plot (out, r, min, max);
  g_string_append (out, "</td></tr>\n");
  g_free (verdict);
}

static void
widen (const ApmCompareRatio * r, gdouble * min, gdouble * max)
{
  if (!r->ok)
    return;
  *min = MIN (*min, r->lo);
  *max = MAX (*max, r->hi);
}

static void
append_cells (GString * out, GArray * values, gdouble scale)
{
  gchar *cell = apm_compare_format_ci (values, scale);

  g_string_append (out, "<td class=\"num\">");
  append_escaped (out, cell);
  g_string_append (out, "</td>");
  g_free (cell);
}

gchar *
apm_compare_render_html (GPtrArray * variants, GPtrArray * ratios,
    GPtrArray * totals, guint runs, guint warmup, gdouble noise)
{
  GString *out = g_string_new (NULL);
  ApmCompareVariant *base = variants->pdata[0];

  g_string_append (out, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
      "<meta charset=\"utf-8\"><title>gst-apm compare</title><style>\n"
      "body{font:14px system-ui,sans-serif;margin:2em;color:#222}\n"
      "table{border-collapse:collapse;margin:1em 0}\n"
      "td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left}"
      "\n.num{text-align:right;font-variant-numeric:tabular-nums}\n"
      "code{background:#f4f4f4;padding:1px 4px}\n"
      "svg .one{stroke:#999;stroke-dasharray:3 2}\n"
      "svg line.ci{stroke:#888;stroke-width:3}svg circle.ci{fill:#888}\n"
      "svg line.sig{stroke:#c0392b}svg circle.sig{fill:#c0392b}\n"
      "</style></head><body>\n<h1>gst-apm compare</h1>\n");
  g_string_append_printf (out, "<p>%u runs of each variant, taking turns, "
      "after %u warm-up round%s. Means with 95 %% confidence intervals; "
      "ratios are of geometric means, significant when the whole interval "
      "is beyond 1 &plusmn; %g %%.</p>\n<table><tr><th>variant</th>"
      "<th>pipeline</th></tr>\n", runs, warmup, warmup == 1 ? "" : "s",
      noise * 100);
  for (guint i = 0; i < variants->len; i++) {
    ApmCompareVariant *v = variants->pdata[i];

    g_string_append_printf (out, "<tr><td>%s%s</td><td><code>", v->name,
        i == 0 ? " (baseline)" : "");
    append_escaped (out, v->description);
    g_string_append_printf (out, "</code>%s</td></tr>\n", v->live ?
        " (live: ran for the duration)" : "");
  }
  g_string_append (out, "</table>\n<h2>Each variant</h2>\n<table><tr>"
      "<th></th>");
  for (guint i = 0; i < variants->len; i++)
    g_string_append_printf (out, "<th>%s</th>", ((ApmCompareVariant *)
            variants->pdata[i])->name);
  g_string_append (out, "</tr>\n<tr><td>wall time (s)</td>");
  for (guint i = 0; i < variants->len; i++)
    append_cells (out, ((ApmCompareVariant *) variants->pdata[i])->wall, 1);
  g_string_append (out, "</tr>\n<tr><td>CPU time (s)</td>");
  for (guint i = 0; i < variants->len; i++)
    append_cells (out, ((ApmCompareVariant *) variants->pdata[i])->cpu, 1);
  g_string_append (out, "</tr>\n");
  /* own time per buffer: the baseline's elements, then others' */
  for (guint i = 0; i < variants->len; i++) {
    ApmCompareVariant *v = variants->pdata[i];

    for (guint e = 0; e < v->elements->len; e++) {
      ApmCompareElement *el = v->elements->pdata[e];
      gboolean earlier = FALSE;

      for (guint j = 0; j < i && !earlier; j++) {
        ApmCompareVariant *w = variants->pdata[j];

        for (guint f = 0; f < w->elements->len && !earlier; f++)
          earlier = strcmp (((ApmCompareElement *) w->elements->pdata[f])->
              element, el->element) == 0;
      }
      if (earlier)
        continue;
      g_string_append (out, "<tr><td>");
      append_escaped (out, el->element);
      g_string_append (out, " (&micro;s per buffer)</td>");
      for (guint j = 0; j < variants->len; j++) {
        ApmCompareVariant *w = variants->pdata[j];
        GArray *values = NULL;

        for (guint f = 0; f < w->elements->len; f++)
          if (strcmp (((ApmCompareElement *) w->elements->pdata[f])->
                  element, el->element) == 0)
            values = ((ApmCompareElement *) w->elements->pdata[f])->
                own_per_buffer;
        append_cells (out, values, 1e6);
      }
      g_string_append (out, "</tr>\n");
    }
  }
  g_string_append (out, "</table>\n");
  for (guint i = 0; i < ratios->len; i++) {
    GArray *per_variant = ratios->pdata[i];
    ApmCompareVariant *v = variants->pdata[i + 1];
    gdouble min = 1 / 1.25, max = 1.25;

    for (guint t = 0; t < 2; t++)
      widen (totals->pdata[2 * i + t], &min, &max);
    for (guint k = 0; k < per_variant->len; k++)
      widen (&g_array_index (per_variant, ApmCompareRatio, k), &min, &max);
    min /= 1.1;
    max *= 1.1;
    g_string_append_printf (out, "<h2>%s against %s</h2>\n<table><tr>"
        "<th>verdict</th><th>%s/%s</th><th>95 %% interval</th><th>"
        "%.2g &ndash; %.2g (log)</th></tr>\n", v->name, base->name, v->name,
        base->name, min, max);
    append_row (out, totals->pdata[2 * i], "wall time", min, max);
    append_row (out, totals->pdata[2 * i + 1], "CPU time", min, max);
    for (guint k = 0; k < per_variant->len; k++)
      append_row (out, &g_array_index (per_variant, ApmCompareRatio, k),
          NULL, min, max);
    g_string_append (out, "</table>\n");
  }
  g_string_append (out, "</body></html>\n");
  return g_string_free (out, FALSE);
}
