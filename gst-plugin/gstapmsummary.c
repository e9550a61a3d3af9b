/* gst-apm: the end-of-run summary (tracer param summary=)
 *
 * When a watched pipeline stops (its PAUSED to READY, the state-change
 * hook: the application's thread, elements and caps still in place), its
 * report is kept as JSON; at gst_deinit() or exit, whichever comes first,
 * the reports are printed as a table on stderr (summary=true), the way
 * gst-stats would, or written whole to a .json or .html file.  A pipeline
 * still running at that point is reported as it is.  Nothing is posted on
 * a bus; the reports hold no reference to any GStreamer object.
 */
#include "gstapmsummary.h"
#include "gstapmreport.h"
#include "gstapmwatch.h"
#include "apm-report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum
{
  SUMMARY_OFF,
  SUMMARY_STDERR,
  SUMMARY_JSON,
  SUMMARY_HTML,
} SummaryMode;

static GMutex summary_lock;
static SummaryMode mode;
static gchar *summary_path;
static GPtrArray *captured;     /* JsonObject, one per label, run order */
static gboolean finished, atexit_set;
static GPid owner;              /* a forked child prints nothing */

static void
at_exit (void)
{
  gst_apm_summary_finish ();
}

void
gst_apm_summary_configure (const gchar * setting)
{
  g_mutex_lock (&summary_lock);
  owner = getpid ();
  g_clear_pointer (&summary_path, g_free);
  if (!setting || g_ascii_strcasecmp (setting, "false") == 0)
    mode = SUMMARY_OFF;
  else if (g_ascii_strcasecmp (setting, "true") == 0)
    mode = SUMMARY_STDERR;
  else {
    mode = g_str_has_suffix (setting, ".html") ? SUMMARY_HTML : SUMMARY_JSON;
    summary_path = g_strdup (setting);
  }
  if (mode != SUMMARY_OFF && !captured)
    captured = g_ptr_array_new_with_free_func ((GDestroyNotify)
        json_object_unref);
  /* after the service's own exit handler is registered (at its creation,
   * before the params are read): exit handlers run in reverse, so this one
   * runs while the service is whole */
  if (mode != SUMMARY_OFF && !atexit_set) {
    atexit_set = TRUE;
    atexit (at_exit);
  }
  g_mutex_unlock (&summary_lock);
}

static void
keep (JsonObject * report)
{
  const gchar *name = json_object_get_string_member (report, "name");

  for (guint i = 0; i < captured->len; i++)
    if (g_strcmp0 (json_object_get_string_member (captured->pdata[i],
                "name"), name) == 0) {
      g_ptr_array_remove_index (captured, i);
      break;
    }
  g_ptr_array_add (captured, report);
}

void
gst_apm_summary_capture (GstElement * pipeline)
{
  gchar *label;
  JsonObject *report;

  g_mutex_lock (&summary_lock);
  if (mode == SUMMARY_OFF || finished) {
    g_mutex_unlock (&summary_lock);
    return;
  }
  g_mutex_unlock (&summary_lock);
  label = gst_apm_watch_peek_label (pipeline);
  if (!label)
    return;
  report = gst_apm_report_pipeline (pipeline, label);
  g_mutex_lock (&summary_lock);
  if (!finished)
    keep (report);
  else
    json_object_unref (report);
  g_mutex_unlock (&summary_lock);
  g_free (label);
}

/* --- the table --- */

static gdouble
num (JsonObject * o, const gchar * name)
{
  JsonNode *n = json_object_get_member (o, name);

  if (!n || !JSON_NODE_HOLDS_VALUE (n))
    return NAN;
  return json_node_get_value_type (n) == G_TYPE_INT64 ?
      (gdouble) json_node_get_int (n) : json_node_get_double (n);
}

static const gchar *
str (JsonObject * o, const gchar * name)
{
  return json_object_get_string_member_with_default (o, name, "");
}

/* @v scaled in a column of @width, or "-" */
static void
append_number (GString * out, gdouble v, gdouble scale, gint width,
    gint digits)
{
  if (isnan (v))
    g_string_append_printf (out, " %*s", width, "-");
  else
    g_string_append_printf (out, " %*.*f", width, digits, v * scale);
}

static void
append_table (GString * out, JsonObject * p)
{
  JsonArray *elements = json_object_get_array_member (p, "elements");
  JsonArray *paths = json_object_get_array_member (p, "paths");
  JsonArray *queues = json_object_get_array_member (p, "queues");
  JsonArray *recs = json_object_get_array_member (p, "recommendations");
  guint wname = 7, wfactory = 7, wthread = 6;

  g_string_append_printf (out, "apm summary: pipeline %s (%s", str (p,
          "name"), json_object_get_boolean_member_with_default (p, "live",
          FALSE) ? "live" : "not live");
  if (!isnan (num (p, "run_seconds")))
    g_string_append_printf (out, ", last run %.2f s", num (p,
            "run_seconds"));
  g_string_append (out, ")\n");
  for (guint i = 0; i < json_array_get_length (elements); i++) {
    JsonObject *e = json_array_get_object_element (elements, i);
    gchar *thread = g_strdup_printf ("%s %.0f", str (e, "thread_name"),
        num (e, "thread"));

    wname = MAX (wname, strlen (str (e, "name")));
    wfactory = MAX (wfactory, strlen (str (e, "factory")));
    wthread = MAX (wthread, strlen (thread));
    g_free (thread);
  }
  g_string_append_printf (out, "  %-*s  %-*s  %-*s %9s %10s %9s %9s "
      "%6s %8s\n", wname, "element", wfactory, "factory", wthread, "thread",
      "buffers", "total ms", "mean us", "p95 us", "share", "rt x");
  for (guint i = 0; i < json_array_get_length (elements); i++) {
    JsonObject *e = json_array_get_object_element (elements, i);
    gchar *thread = num (e, "thread") > 0 ? g_strdup_printf ("%s %.0f",
        str (e, "thread_name"), num (e, "thread")) : g_strdup ("-");
    gdouble share = num (e, "share_percent"), rtf = num (e,
        "realtime_factor");

    g_string_append_printf (out, "  %-*s  %-*s  %-*s %9.0f", wname,
        str (e, "name"), wfactory, str (e, "factory"), wthread, thread,
        num (e, "buffers"));
    append_number (out, num (e, "own_seconds_total"), 1e3, 10, 2);
    append_number (out, num (e, "own_mean_seconds"), 1e6, 9, 1);
    append_number (out, num (e, "own_p95_seconds"), 1e6, 9, 1);
    append_number (out, share, 1, 6, 1);
    append_number (out, rtf, 1, 8, 1);
    g_string_append_c (out, '\n');
    g_free (thread);
  }
  for (guint i = 0; paths && i < json_array_get_length (paths); i++) {
    JsonObject *o = json_array_get_object_element (paths, i);

    g_string_append_printf (out, "  latency %s -> %s: mean %.2f ms, p95 "
        "%.2f ms (%.0f buffers)\n", str (o, "source"), str (o, "sink"),
        num (o, "mean_seconds") * 1e3, num (o, "p95_seconds") * 1e3,
        num (o, "count"));
  }
  for (guint i = 0; queues && i < json_array_get_length (queues); i++) {
    JsonObject *o = json_array_get_object_element (queues, i);

    if (num (o, "samples") > 0)
      g_string_append_printf (out, "  queue %s: fill mean %.0f %%, max "
          "%.0f %% (%.0f samples)\n", str (o, "name"), num (o,
              "fill_mean_percent"), num (o, "fill_max_percent"), num (o,
              "samples"));
    else
      g_string_append_printf (out, "  queue %s: not sampled\n", str (o,
              "name"));
  }
  if (!recs || json_array_get_length (recs) == 0)
    g_string_append (out, "  recommendations: none\n");
  else
    g_string_append (out, "  recommendations:\n");
  for (guint i = 0; recs && i < json_array_get_length (recs); i++) {
    JsonObject *r = json_array_get_object_element (recs, i);

    g_string_append_printf (out, "    [%s] %s at %s: %s\n", str (r,
            "severity"), str (r, "id"), str (r, "element"), str (r,
            "advice"));
  }
}

static void
add_running (gpointer data, gpointer user_data)
{
  GstElement *pipeline = data;
  gchar *label = gst_apm_watch_pipeline_label (pipeline);
  JsonArray *all = user_data;
  gboolean seen = FALSE;

  for (guint i = 0; i < json_array_get_length (all); i++)
    seen |= g_strcmp0 (json_object_get_string_member
        (json_array_get_object_element (all, i), "name"), label) == 0;
  if (!seen)
    json_array_add_object_element (all, gst_apm_report_pipeline (pipeline,
            label));
  g_free (label);
}

void
gst_apm_summary_finish (void)
{
  ApmService *service;
  JsonArray *all;
  SummaryMode m;
  gchar *path;

  g_mutex_lock (&summary_lock);
  if (mode == SUMMARY_OFF || finished || owner != getpid ()) {
    g_mutex_unlock (&summary_lock);
    return;
  }
  finished = TRUE;
  m = mode;
  path = g_strdup (summary_path);
  all = json_array_new ();
  for (guint i = 0; i < captured->len; i++)
    json_array_add_object_element (all,
        json_object_ref (captured->pdata[i]));
  g_mutex_unlock (&summary_lock);
  /* pipelines the application never stopped */
  gst_apm_watch_foreach_pipeline (add_running, all);

  if (m == SUMMARY_STDERR) {
    GString *out = g_string_new (NULL);

    for (guint i = 0; i < json_array_get_length (all); i++)
      append_table (out, json_array_get_object_element (all, i));
    if (out->len)
      g_printerr ("%s", out->str);
    g_string_free (out, TRUE);
    json_array_unref (all);
  } else {
    gint64 now = g_get_real_time ();
    JsonNode *report;
    gchar *text;
    GError *error = NULL;

    service = apm_service_get_default ();
    report = apm_report_build (service, all, apm_service_start_time_us
        (service), now);
    text = m == SUMMARY_HTML ? apm_report_to_html (report) :
        json_to_string (report, TRUE);
    if (!g_file_set_contents (path, text, -1, &error)) {
      g_printerr ("apm: warning: summary not written: %s\n", error->message);
      g_clear_error (&error);
    }
    g_free (text);
    json_node_unref (report);
  }
  g_free (path);
}
