/* gst-apm: the performance report as a self-contained, printable HTML page
 *
 * No script and no outside resource: tables and inline SVG charts, one
 * style sheet in the page.  Every text from the report (pipeline, element
 * and thread names come from the application, alert messages quote them)
 * goes through g_markup_escape_text().
 *
 * Reads per pipeline: "name", "state", "live", "run_seconds", "elements"
 * [{"name", "factory", "thread", "thread_name", "buffers",
 * "own_seconds_total", "own_mean_seconds", "own_p95_seconds",
 * "share_percent", "realtime_factor"}], "links" [{"from", "to"}], "paths"
 * [{"source", "sink", "count", "mean_seconds", "p95_seconds"}], "queues"
 * [{"name", "samples", "fill_mean_percent", "fill_max_percent"}],
 * "threads", "charts" (filled by apm_report_build), "alerts", "jobs",
 * "recommendations" [{"id", "severity", "element", "evidence", "advice"}].
 */
#include "apm-report.h"
#include "apm-json.h"

#include <math.h>
#include <string.h>

static void
esc (GString * out, const gchar * text)
{
  gchar *e = g_markup_escape_text (text ? text : "", -1);

  g_string_append (out, e);
  g_free (e);
}

static const gchar *
str (JsonObject * o, const gchar * name)
{
  return apm_json_string (o, name);
}

static gdouble
num (JsonObject * o, const gchar * name)
{
  return apm_json_number (o, name, NAN);
}

static JsonArray *
arr (JsonObject * o, const gchar * name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

/* a cell: @v scaled, with @digits, or a dash */
static void
cell_num (GString * out, gdouble v, gdouble scale, gint digits)
{
  if (isnan (v))
    g_string_append (out, "<td class=n>–</td>");
  else
    g_string_append_printf (out, "<td class=n>%.*f</td>", digits, v * scale);
}

static void
cell_text (GString * out, const gchar * text)
{
  g_string_append (out, "<td>");
  esc (out, text);
  g_string_append (out, "</td>");
}

static void
table_head (GString * out, const gchar * const *columns)
{
  g_string_append (out, "<table><thead><tr>");
  for (guint i = 0; columns[i]; i++)
    g_string_append_printf (out, "<th>%s</th>", columns[i]);
  g_string_append (out, "</tr></thead><tbody>\n");
}

/* --- topology: columns by depth from the sources --- */

static void
render_topology (GString * out, JsonObject * p)
{
  JsonArray *elements = arr (p, "elements"), *links = arr (p, "links");
  guint n = elements ? json_array_get_length (elements) : 0;
  GHashTable *index = g_hash_table_new (g_str_hash, g_str_equal);
  gint *depth, *row, max_depth = 0, max_rows = 0, *rows_in;
  const gint bw = 150, bh = 34, gx = 40, gy = 16;

  if (!n) {
    g_hash_table_destroy (index);
    return;
  }
  depth = g_new0 (gint, n);
  row = g_new0 (gint, n);
  rows_in = g_new0 (gint, n + 1);
  for (guint i = 0; i < n; i++)
    g_hash_table_insert (index, (gpointer) str (json_array_get_object_element
            (elements, i), "name"), GUINT_TO_POINTER (i + 1));
  /* longest path from a source (bounded relaxation: no cycles in a
   * pipeline, but the bound keeps a bad document finite) */
  for (guint pass = 0; links && pass < n; pass++) {
    gboolean changed = FALSE;

    for (guint l = 0; l < json_array_get_length (links); l++) {
      JsonObject *lk = json_array_get_object_element (links, l);
      guint a = GPOINTER_TO_UINT (g_hash_table_lookup (index, str (lk,
                  "from")));
      guint b = GPOINTER_TO_UINT (g_hash_table_lookup (index, str (lk,
                  "to")));

      if (a && b && depth[b - 1] < depth[a - 1] + 1 && depth[a - 1] < (gint) n) {
        depth[b - 1] = depth[a - 1] + 1;
        changed = TRUE;
      }
    }
    if (!changed)
      break;
  }
  for (guint i = 0; i < n; i++) {
    row[i] = rows_in[MIN (depth[i], (gint) n)]++;
    max_depth = MAX (max_depth, depth[i]);
    max_rows = MAX (max_rows, row[i] + 1);
  }
  g_string_append_printf (out, "<svg class=topo role=img "
      "aria-label=\"topology\" width=\"%d\" height=\"%d\" "
      "viewBox=\"0 0 %d %d\" xmlns=\"http://www.w3.org/2000/svg\">\n",
      (max_depth + 1) * (bw + gx), max_rows * (bh + gy),
      (max_depth + 1) * (bw + gx), max_rows * (bh + gy));
  for (guint l = 0; links && l < json_array_get_length (links); l++) {
    JsonObject *lk = json_array_get_object_element (links, l);
    guint a = GPOINTER_TO_UINT (g_hash_table_lookup (index, str (lk,
                "from")));
    guint b = GPOINTER_TO_UINT (g_hash_table_lookup (index, str (lk, "to")));

    if (a && b)
      g_string_append_printf (out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" "
          "y2=\"%d\" stroke=\"#666\"/>\n", depth[a - 1] * (bw + gx) + bw,
          row[a - 1] * (bh + gy) + bh / 2, depth[b - 1] * (bw + gx),
          row[b - 1] * (bh + gy) + bh / 2);
  }
  for (guint i = 0; i < n; i++) {
    JsonObject *e = json_array_get_object_element (elements, i);
    gdouble share = num (e, "share_percent");

    g_string_append_printf (out, "<g><rect x=\"%d\" y=\"%d\" width=\"%d\" "
        "height=\"%d\" rx=\"4\" fill=\"%s\" stroke=\"#333\"/>"
        "<text x=\"%d\" y=\"%d\" font-size=\"11\">", depth[i] * (bw + gx),
        row[i] * (bh + gy), bw, bh, !isnan (share) && share >= 50 ?
        "#f6c6c6" : "#eef", depth[i] * (bw + gx) + 4, row[i] * (bh + gy) + 14);
    esc (out, str (e, "name"));
    g_string_append_printf (out, "</text><text x=\"%d\" y=\"%d\" "
        "font-size=\"10\" fill=\"#555\">", depth[i] * (bw + gx) + 4,
        row[i] * (bh + gy) + 28);
    esc (out, str (e, "factory"));
    if (!isnan (share))
      g_string_append_printf (out, " · %.0f %%", share);
    g_string_append (out, "</text></g>\n");
  }
  g_string_append (out, "</svg>\n");
  g_free (depth);
  g_free (row);
  g_free (rows_in);
  g_hash_table_destroy (index);
}

/* --- charts --- */

static const gchar *const palette[] = { "#1f77b4", "#d62728", "#2ca02c",
  "#ff7f0e", "#9467bd", "#8c564b"
};

static void
render_chart (GString * out, JsonObject * chart)
{
  JsonArray *series = arr (chart, "series");
  gdouble t0 = INFINITY, t1 = -INFINITY, v0 = 0, v1 = -INFINITY;
  const gint w = 560, h = 150, left = 60, bottom = 20;
  guint points = 0;

  g_string_append (out, "<figure><figcaption>");
  esc (out, str (chart, "title"));
  g_string_append (out, "</figcaption>\n");
  for (guint s = 0; series && s < json_array_get_length (series); s++) {
    JsonArray *pts = arr (json_array_get_object_element (series, s),
        "points");

    for (guint i = 0; pts && i < json_array_get_length (pts); i++) {
      JsonArray *pt = json_array_get_array_element (pts, i);
      gdouble t = json_array_get_double_element (pt, 0);
      gdouble v = json_array_get_double_element (pt, 1);

      t0 = MIN (t0, t);
      t1 = MAX (t1, t);
      v1 = MAX (v1, v);
      v0 = MIN (v0, v);
      points++;
    }
  }
  if (points < 2) {
    g_string_append (out, "<p class=muted>No history in this window (the "
        "service samples once a second while a pipeline runs).</p>"
        "</figure>\n");
    return;
  }
  if (t1 <= t0)
    t1 = t0 + 1;
  if (v1 <= v0)
    v1 = v0 + 1;
  g_string_append_printf (out, "<svg role=img width=\"%d\" height=\"%d\" "
      "viewBox=\"0 0 %d %d\" xmlns=\"http://www.w3.org/2000/svg\">"
      "<rect x=\"%d\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fafafa\" "
      "stroke=\"#ccc\"/>"
      "<text x=\"2\" y=\"12\" font-size=\"10\">%.3g %s</text>"
      "<text x=\"2\" y=\"%d\" font-size=\"10\">%.3g</text>"
      "<text x=\"%d\" y=\"%d\" font-size=\"10\">%.0f s</text>\n",
      w, h, w, h, left, w - left, h - bottom, v1, "", h - bottom, v0,
      w - 40, h - 4, t1 - t0);
  for (guint s = 0; series && s < json_array_get_length (series); s++) {
    JsonObject *so = json_array_get_object_element (series, s);
    JsonArray *pts = arr (so, "points");

    if (!pts || json_array_get_length (pts) == 0)
      continue;
    g_string_append_printf (out, "<polyline fill=\"none\" stroke=\"%s\" "
        "stroke-width=\"1.5\" points=\"", palette[s % G_N_ELEMENTS (palette)]);
    for (guint i = 0; i < json_array_get_length (pts); i++) {
      JsonArray *pt = json_array_get_array_element (pts, i);
      gdouble x = left + (w - left) * (json_array_get_double_element (pt,
              0) - t0) / (t1 - t0);
      gdouble y = (h - bottom) * (1 - (json_array_get_double_element (pt,
                  1) - v0) / (v1 - v0));

      g_string_append_printf (out, "%.1f,%.1f ", x, y);
    }
    g_string_append (out, "\"/>\n");
  }
  g_string_append (out, "</svg><ul class=legend>");
  for (guint s = 0; series && s < json_array_get_length (series); s++) {
    JsonObject *labels = json_object_get_object_member
        (json_array_get_object_element (series, s), "labels");
    GList *names = labels ? json_object_get_members (labels) : NULL;

    g_string_append_printf (out, "<li><span style=\"color:%s\">■</span> ",
        palette[s % G_N_ELEMENTS (palette)]);
    for (GList * l = names; l; l = l->next) {
      if (strcmp (l->data, "pipeline") == 0)
        continue;
      esc (out, l->data);
      g_string_append (out, "=");
      esc (out, str (labels, l->data));
      g_string_append (out, " ");
    }
    g_list_free (names);
    g_string_append (out, "</li>");
  }
  g_string_append_printf (out, "</ul><p class=muted>unit: ");
  esc (out, str (chart, "unit"));
  g_string_append (out, "</p></figure>\n");
}

/* --- tables --- */

static void
render_elements (GString * out, JsonArray * elements)
{
  static const gchar *const cols[] = { "element", "factory", "thread",
    "buffers", "own total (ms)", "own mean (µs)", "own p95 (µs)", "share %",
    "real-time ×", NULL
  };

  table_head (out, cols);
  for (guint i = 0; elements && i < json_array_get_length (elements); i++) {
    JsonObject *e = json_array_get_object_element (elements, i);
    gchar *thread = g_strdup_printf ("%s %.0f", str (e, "thread_name") ?
        str (e, "thread_name") : "", num (e, "thread"));

    g_string_append (out, "<tr>");
    cell_text (out, str (e, "name"));
    cell_text (out, str (e, "factory"));
    cell_text (out, thread);
    cell_num (out, num (e, "buffers"), 1, 0);
    cell_num (out, num (e, "own_seconds_total"), 1e3, 1);
    cell_num (out, num (e, "own_mean_seconds"), 1e6, 1);
    cell_num (out, num (e, "own_p95_seconds"), 1e6, 1);
    cell_num (out, num (e, "share_percent"), 1, 1);
    cell_num (out, num (e, "realtime_factor"), 1, 1);
    g_string_append (out, "</tr>\n");
    g_free (thread);
  }
  g_string_append (out, "</tbody></table>\n");
}

static void
render_paths_queues (GString * out, JsonObject * p)
{
  static const gchar *const pcols[] = { "source", "sink", "buffers",
    "mean (ms)", "p95 (ms)", NULL
  };
  static const gchar *const qcols[] = { "queue", "samples", "mean fill %",
    "max fill %", NULL
  };
  JsonArray *paths = arr (p, "paths"), *queues = arr (p, "queues");

  g_string_append (out, "<h3>End-to-end latency</h3>\n");
  if (!paths || !json_array_get_length (paths))
    g_string_append (out, "<p class=muted>No timestamped path from a "
        "source to a sink.</p>\n");
  else {
    table_head (out, pcols);
    for (guint i = 0; i < json_array_get_length (paths); i++) {
      JsonObject *o = json_array_get_object_element (paths, i);

      g_string_append (out, "<tr>");
      cell_text (out, str (o, "source"));
      cell_text (out, str (o, "sink"));
      cell_num (out, num (o, "count"), 1, 0);
      cell_num (out, num (o, "mean_seconds"), 1e3, 2);
      cell_num (out, num (o, "p95_seconds"), 1e3, 2);
      g_string_append (out, "</tr>\n");
    }
    g_string_append (out, "</tbody></table>\n");
  }
  if (queues && json_array_get_length (queues)) {
    g_string_append (out, "<h3>Queues</h3>\n");
    table_head (out, qcols);
    for (guint i = 0; i < json_array_get_length (queues); i++) {
      JsonObject *o = json_array_get_object_element (queues, i);

      g_string_append (out, "<tr>");
      cell_text (out, str (o, "name"));
      cell_num (out, num (o, "samples"), 1, 0);
      cell_num (out, num (o, "fill_mean_percent"), 1, 1);
      cell_num (out, num (o, "fill_max_percent"), 1, 1);
      g_string_append (out, "</tr>\n");
    }
    g_string_append (out, "</tbody></table>\n");
  }
}

static void
render_alerts_jobs (GString * out, JsonObject * p)
{
  static const gchar *const acols[] = { "rule", "severity", "state",
    "started", "message", NULL
  };
  static const gchar *const jcols[] = { "job", "status", "started", "ended",
    "error", NULL
  };
  JsonArray *alerts = arr (p, "alerts"), *jobs = arr (p, "jobs");

  g_string_append (out, "<h3>Alerts in the window</h3>\n");
  if (!alerts || !json_array_get_length (alerts))
    g_string_append (out, "<p class=muted>None.</p>\n");
  else {
    table_head (out, acols);
    for (guint i = 0; i < json_array_get_length (alerts); i++) {
      JsonObject *o = json_array_get_object_element (alerts, i);

      g_string_append (out, "<tr>");
      cell_text (out, str (o, "rule"));
      cell_text (out, str (o, "severity"));
      cell_text (out, str (o, "state"));
      cell_text (out, str (o, "started_at"));
      cell_text (out, str (o, "message"));
      g_string_append (out, "</tr>\n");
    }
    g_string_append (out, "</tbody></table>\n");
  }
  g_string_append (out, "<h3>Runs (jobs) in the window</h3>\n");
  if (!jobs || !json_array_get_length (jobs))
    g_string_append (out, "<p class=muted>None.</p>\n");
  else {
    table_head (out, jcols);
    for (guint i = 0; i < json_array_get_length (jobs); i++) {
      JsonObject *o = json_array_get_object_element (jobs, i);

      g_string_append (out, "<tr>");
      cell_text (out, str (o, "job_id"));
      cell_text (out, str (o, "status"));
      cell_text (out, str (o, "started_at"));
      cell_text (out, str (o, "ended_at"));
      cell_text (out, str (o, "error"));
      g_string_append (out, "</tr>\n");
    }
    g_string_append (out, "</tbody></table>\n");
  }
}

static void
render_evidence (GString * out, JsonObject * ev)
{
  GList *names = ev ? json_object_get_members (ev) : NULL;

  g_string_append (out, "<dl class=evidence>");
  for (GList * l = names; l; l = l->next) {
    JsonNode *n = json_object_get_member (ev, l->data);

    g_string_append (out, "<dt>");
    esc (out, l->data);
    g_string_append (out, "</dt><dd>");
    if (JSON_NODE_HOLDS_VALUE (n)
        && json_node_get_value_type (n) == G_TYPE_DOUBLE)
      g_string_append_printf (out, "%.4g", json_node_get_double (n));
    else if (JSON_NODE_HOLDS_VALUE (n)
        && json_node_get_value_type (n) == G_TYPE_INT64)
      g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (n));
    else if (JSON_NODE_HOLDS_VALUE (n))
      esc (out, json_node_get_string (n));
    else {
      gchar *text = json_to_string (n, FALSE);

      esc (out, text);
      g_free (text);
    }
    g_string_append (out, "</dd>");
  }
  g_list_free (names);
  g_string_append (out, "</dl>");
}

static void
render_recommendations (GString * out, JsonArray * recs)
{
  g_string_append (out, "<h3>Recommendations</h3>\n");
  if (!recs || !json_array_get_length (recs)) {
    g_string_append (out, "<p class=muted>None: no rule found a problem."
        "</p>\n");
    return;
  }
  g_string_append (out, "<ol class=recs>\n");
  for (guint i = 0; i < json_array_get_length (recs); i++) {
    JsonObject *r = json_array_get_object_element (recs, i);
    const gchar *sev = str (r, "severity");

    g_string_append (out, "<li class=\"");
    esc (out, sev);
    g_string_append (out, "\"><b>");
    esc (out, str (r, "id"));
    g_string_append (out, "</b> <span class=sev>");
    esc (out, sev);
    g_string_append (out, "</span> at <code>");
    esc (out, str (r, "element"));
    g_string_append (out, "</code><p>");
    esc (out, str (r, "advice"));
    g_string_append (out, "</p>");
    render_evidence (out, json_object_get_object_member (r, "evidence"));
    g_string_append (out, "</li>\n");
  }
  g_string_append (out, "</ol>\n");
}

static const gchar style[] =
    "body{font:14px/1.4 sans-serif;margin:1.5em;color:#222}"
    "h1{font-size:1.5em}h2{border-bottom:2px solid #444;margin-top:2em}"
    "table{border-collapse:collapse;margin:.5em 0}svg.topo{max-width:100%;height:auto}"
    "th,td{border:1px solid #bbb;padding:2px 6px;text-align:left}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "th{background:#eee}.muted{color:#777}figure{margin:.5em 0}"
    "figcaption{font-weight:bold}ul.legend{list-style:none;padding:0;"
    "margin:0;font-size:12px}ul.legend li{display:inline;margin-right:1em}"
    "ol.recs li{margin-bottom:.8em}li.critical .sev{color:#b00}"
    "li.warning .sev{color:#b60}li.info .sev{color:#06b}"
    "dl.evidence{display:grid;grid-template-columns:max-content auto;"
    "gap:0 1em;font-size:12px;margin:0}dl.evidence dd{margin:0}"
    "@media print{h2{page-break-before:always}h2:first-of-type"
    "{page-break-before:auto}}";

gchar *
apm_report_to_html (JsonNode * report)
{
  JsonObject *root = JSON_NODE_HOLDS_OBJECT (report) ?
      json_node_get_object (report) : NULL;
  JsonObject *window = root ? json_object_get_object_member (root, "window")
      : NULL;
  JsonArray *pipelines = arr (root, "pipelines");
  GString *out = g_string_new (NULL);

  g_string_append_printf (out, "<!DOCTYPE html>\n<html lang=en><head>"
      "<meta charset=utf-8><title>gst-apm performance report</title>"
      "<style>%s</style></head><body>\n<h1>Performance report</h1>\n<p>",
      style);
  g_string_append (out, "Generated ");
  esc (out, str (root, "generated_at"));
  g_string_append (out, "; window ");
  esc (out, str (window, "since"));
  g_string_append (out, " to ");
  esc (out, str (window, "until"));
  g_string_append (out, ". Element figures are totals since each pipeline "
      "started; charts, alerts and runs follow the window.</p>\n");
  if (!pipelines || !json_array_get_length (pipelines))
    g_string_append (out, "<p class=muted>No pipeline is watched.</p>\n");
  for (guint i = 0; pipelines && i < json_array_get_length (pipelines); i++) {
    JsonObject *p = json_array_get_object_element (pipelines, i);
    JsonArray *charts = arr (p, "charts");
    JsonNode *live = json_object_get_member (p, "live");

    g_string_append (out, "<section><h2>Pipeline ");
    esc (out, str (p, "name"));
    g_string_append (out, "</h2>\n<p>");
    esc (out, str (p, "state"));
    g_string_append (out, live && JSON_NODE_HOLDS_VALUE (live)
        && json_node_get_boolean (live) ? ", live" : ", not live");
    if (!isnan (num (p, "run_seconds")))
      g_string_append_printf (out, ", last run %.1f s", num (p,
              "run_seconds"));
    g_string_append (out, "</p>\n<h3>Topology</h3>\n");
    render_topology (out, p);
    g_string_append (out, "<h3>Elements, by own time</h3>\n");
    render_elements (out, arr (p, "elements"));
    render_paths_queues (out, p);
    g_string_append (out, "<h3>Latency and throughput</h3>\n");
    for (guint c = 0; charts && c < json_array_get_length (charts); c++)
      render_chart (out, json_array_get_object_element (charts, c));
    render_alerts_jobs (out, p);
    render_recommendations (out, arr (p, "recommendations"));
    g_string_append (out, "</section>\n");
  }
  g_string_append (out, "</body></html>\n");
  return g_string_free (out, FALSE);
}
