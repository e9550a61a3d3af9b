/* gst-apm compare: one run of one pipeline, in its own process
 *
 * The tracer and this program share libgstapm's process-wide service, so
 * the run's per-element figures are read straight from its registry (the
 * same series /metrics serves), after EOS and a flush of what the
 * streaming threads counted on their own.
 */
#include "gst-apm-compare.h"

#include <gst/gst.h>
#include <math.h>
#include <string.h>
#include <sys/resource.h>

#include "apm-metrics.h"
#include "apm-service.h"

/* how long a pipeline may take to finish after its EOS was sent */
#define EOS_GRACE_S 10
/* a non-live run without --duration: to EOS, but not for ever */
#define NON_LIVE_LIMIT_S 600

static gdouble
cpu_seconds (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
      (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static gboolean
apm_tracer_active (void)
{
  GList *tracers = gst_tracing_get_active_tracers ();
  gboolean found = FALSE;

  for (GList * l = tracers; l; l = l->next)
    if (strcmp (G_OBJECT_TYPE_NAME (l->data), "GstApmTracer") == 0)
      found = TRUE;
  g_list_free_full (tracers, gst_object_unref);
  return found;
}

/* element path (as the series' element label) -> position, upstream to
 * downstream, inside bins too */
static void
number_elements (GstBin * bin, const gchar * prefix, GHashTable * positions)
{
  GstIterator *it = gst_bin_iterate_sorted (bin);
  GValue item = G_VALUE_INIT;
  GPtrArray *sinks_first = g_ptr_array_new_with_free_func (gst_object_unref);

  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    g_ptr_array_add (sinks_first, g_value_dup_object (&item));
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  for (guint i = sinks_first->len; i > 0; i--) {
    GstElement *e = sinks_first->pdata[i - 1];
    gchar *path = prefix ? g_strdup_printf ("%s/%s", prefix,
        GST_OBJECT_NAME (e)) : g_strdup (GST_OBJECT_NAME (e));

    g_hash_table_insert (positions, g_strdup (path),
        GINT_TO_POINTER (g_hash_table_size (positions) + 1));
    if (GST_IS_BIN (e))
      number_elements (GST_BIN (e), path, positions);
    g_free (path);
  }
  g_ptr_array_unref (sinks_first);
}

static void
add_elements (JsonBuilder * b, GstElement * pipeline)
{
  ApmService *service = apm_service_get_default ();
  GPtrArray *series;
  GHashTable *positions = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, NULL);

  /* what the streaming threads counted since the last second's fold */
  apm_service_flush (service);
  series = apm_registry_list_series (apm_service_get_registry (service),
      "apm_element_processing_seconds");
  number_elements (GST_BIN (pipeline), NULL, positions);
  json_builder_set_member_name (b, "elements");
  json_builder_begin_array (b);
  for (guint i = 0; series && i < series->len; i++) {
    ApmSeries *s = series->pdata[i];
    const gchar *element = apm_series_label (s, "element");
    const gchar *factory = apm_series_label (s, "factory");
    guint64 count = apm_series_count (s);

    if (!element || count == 0)
      continue;
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "element");
    json_builder_add_string_value (b, element);
    json_builder_set_member_name (b, "factory");
    json_builder_add_string_value (b, factory ? factory : "");
    json_builder_set_member_name (b, "position");
    json_builder_add_int_value (b,
        GPOINTER_TO_INT (g_hash_table_lookup (positions, element)));
    json_builder_set_member_name (b, "buffers");
    json_builder_add_int_value (b, (gint64) count);
    json_builder_set_member_name (b, "own_seconds");
    json_builder_add_double_value (b, apm_series_sum (s));
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  if (series)
    g_ptr_array_unref (series);
  g_hash_table_unref (positions);
}

static void
print_error (GstMessage * msg)
{
  GError *err = NULL;
  gchar *debug = NULL;

  gst_message_parse_error (msg, &err, &debug);
  g_printerr ("ERROR from %s: %s\n%s%s", GST_OBJECT_NAME (msg->src),
      err->message, debug ? debug : "", debug ? "\n" : "");
  g_clear_error (&err);
  g_free (debug);
}

/* EOS (TRUE) or an error or @deadline_us passed (FALSE, *timed_out) */
static gboolean
wait_eos (GstBus * bus, gint64 deadline_us, gboolean * timed_out)
{
  *timed_out = FALSE;
  while (TRUE) {
    gint64 left = deadline_us - g_get_monotonic_time ();
    GstMessage *msg;

    if (deadline_us != G_MAXINT64 && left <= 0) {
      *timed_out = TRUE;
      return FALSE;
    }
    msg = gst_bus_timed_pop_filtered (bus, deadline_us == G_MAXINT64 ?
        GST_CLOCK_TIME_NONE : (GstClockTime) left * GST_USECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    if (!msg)
      continue;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      print_error (msg);
      gst_message_unref (msg);
      return FALSE;
    }
    gst_message_unref (msg);
    return TRUE;
  }
}

static gint
run (GstElement * pipeline, gdouble duration_s, gboolean always_duration,
    const gchar * result_path)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstStateChangeReturn ret;
  gboolean live, timed_out = FALSE, ok;
  gint64 t0, t1;
  gdouble cpu0, cpu1;
  JsonBuilder *b;
  JsonNode *root;
  gchar *text;
  GError *error = NULL;

  t0 = g_get_monotonic_time ();
  cpu0 = cpu_seconds ();
  ret = gst_element_set_state (pipeline, GST_STATE_PAUSED);
  /* live sources do not preroll: they run for the duration */
  live = ret == GST_STATE_CHANGE_NO_PREROLL;
  if (ret != GST_STATE_CHANGE_FAILURE)
    ret = gst_element_set_state (pipeline, GST_STATE_PLAYING);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);

    if (msg) {
      print_error (msg);
      gst_message_unref (msg);
    }
    g_printerr ("the pipeline does not start\n");
    gst_object_unref (bus);
    return 1;
  }
  ok = wait_eos (bus, live || always_duration ?
      t0 + (gint64) (duration_s * G_USEC_PER_SEC) :
      t0 + (gint64) NON_LIVE_LIMIT_S * G_USEC_PER_SEC, &timed_out);
  if (timed_out && !live && !always_duration) {
    /* videotestsrc ! fakesink, say: non-live, and never ends */
    g_printerr ("no EOS after %d s: a non-live pipeline that does not end "
        "needs --duration\n", NON_LIVE_LIMIT_S);
    gst_object_unref (bus);
    return 1;
  }
  if (timed_out) {
    gst_element_send_event (pipeline, gst_event_new_eos ());
    ok = wait_eos (bus, g_get_monotonic_time () + EOS_GRACE_S *
        G_USEC_PER_SEC, &timed_out);
    if (timed_out)
      g_printerr ("no EOS %d s after it was sent\n", EOS_GRACE_S);
  }
  t1 = g_get_monotonic_time ();
  cpu1 = cpu_seconds ();
  gst_object_unref (bus);
  if (!ok)
    return 1;

  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "live");
  json_builder_add_boolean_value (b, live);
  json_builder_set_member_name (b, "wall_seconds");
  json_builder_add_double_value (b, (t1 - t0) / 1e6);
  json_builder_set_member_name (b, "cpu_seconds");
  json_builder_add_double_value (b, cpu1 - cpu0);
  add_elements (b, pipeline);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  text = json_to_string (root, FALSE);
  if (!g_file_set_contents (result_path, text, -1, &error)) {
    g_printerr ("%s\n", error->message);
    g_clear_error (&error);
    ok = FALSE;
  }
  g_free (text);
  json_node_unref (root);
  g_object_unref (b);
  return ok ? 0 : 1;
}

gint
gst_apm_compare_run_one (const gchar * description, gdouble duration_s,
    gboolean always_duration, const gchar * result_path)
{
  GError *error = NULL;
  GstElement *pipeline;
  gint status;

  gst_init (NULL, NULL);
  if (!apm_tracer_active ()) {
    g_printerr ("the apm tracer is not available (is the gst-apm plugin in "
        "GST_PLUGIN_PATH?)\n");
    return 1;
  }
  pipeline = gst_parse_launch_full (description, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, &error);
  if (!pipeline) {
    g_printerr ("cannot parse the pipeline: %s\n", error->message);
    g_clear_error (&error);
    return 1;
  }
  /* one element alone: in a pipeline, as gst-launch-1.0 does */
  if (!GST_IS_PIPELINE (pipeline)) {
    GstElement *p = gst_pipeline_new (NULL);

    gst_bin_add (GST_BIN (p), pipeline);
    pipeline = p;
  }
  status = run (pipeline, duration_s, always_duration, result_path);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  return status;
}
