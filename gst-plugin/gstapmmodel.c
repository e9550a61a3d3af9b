/* gst-apm: pipelines described for the REST API and the dashboard
 *
 * Built on the service thread when asked for, by walking the watched
 * pipelines (so elements added while running are there) and reading the
 * counters the tracer keeps.  Nothing here runs per buffer.
 *
 * The one place where the service thread holds a reference on a pipeline:
 * for the length of one request (the model or its DOT graph).  While it
 * does it only takes object locks, which GStreamer takes last and holds
 * briefly (iterators, peers, names, current caps): no stream or state lock,
 * no query, no property read, nothing that waits on a streaming thread.
 */
#include "gstapmmodel.h"
#include "gstapmonitor.h"
#include "gstapmaggregate.h"
#include "gstapmstats.h"
#include "gstapmwatch.h"

#include <math.h>
#include <string.h>

static void
set_seconds_summary (JsonObject * o, const gchar * name, ApmSeries * s)
{
  JsonObject *h = json_object_new ();
  guint64 n = s ? apm_series_count (s) : 0;

  json_object_set_int_member (h, "count", n);
  if (n) {
    gdouble p50 = apm_series_quantile (s, 0.5), p95 = apm_series_quantile (s,
        0.95);

    json_object_set_double_member (h, "mean_seconds", apm_series_sum (s) / n);
    json_object_set_double_member (h, "p50_seconds", p50);
    json_object_set_double_member (h, "p95_seconds", p95);
    json_object_set_double_member (h, "total_seconds", apm_series_sum (s));
  }
  json_object_set_object_member (o, name, h);
}

static const gchar *
element_kind (GstElement * e)
{
  if (GST_IS_BIN (e))
    return "bin";
  if (e->numsinkpads == 0)
    return "source";
  if (e->numsrcpads == 0)
    return "sink";
  return "filter";
}

static void
add_links (JsonArray * links, GstElement * e, const gchar * from)
{
  GstIterator *it = gst_element_iterate_src_pads (e);
  GValue v = G_VALUE_INIT;

  while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    GstPad *pad = g_value_get_object (&v);
    GstPad *sink = GST_IS_GHOST_PAD (pad) ? NULL : gst_apm_pad_real_peer (pad);
    GstObject *to = sink ? gst_object_get_parent (GST_OBJECT (sink)) : NULL;
    gchar *path;

    if (to && GST_IS_ELEMENT (to)
        && gst_apm_element_path (GST_ELEMENT (to), NULL, &path)) {
      JsonObject *l = json_object_new ();

      json_object_set_string_member (l, "from", from);
      json_object_set_string_member (l, "from_pad", GST_OBJECT_NAME (pad));
      json_object_set_string_member (l, "to", path);
      json_object_set_string_member (l, "to_pad", GST_OBJECT_NAME (sink));
      json_array_add_object_element (links, l);
      g_free (path);
    }
    if (to)
      gst_object_unref (to);
    if (sink)
      gst_object_unref (sink);
    g_value_reset (&v);
  }
  g_value_unset (&v);
  gst_iterator_free (it);
}

/* Buffers from pools: how many the pool had to allocate, how many it
 * handed out again. */
static void
describe_pool (JsonObject * o, GstApmElementStats * es)
{
  JsonObject *pool = json_object_new ();
  gdouble acquired = apm_series_value (es->pooled);
  gdouble fresh = MIN (apm_series_value (es->pool_fresh), acquired);

  json_object_set_int_member (pool, "acquired", (gint64) acquired);
  json_object_set_int_member (pool, "fresh", (gint64) fresh);
  json_object_set_int_member (pool, "reused", (gint64) (acquired - fresh));
  if (acquired > 0)
    json_object_set_double_member (pool, "reuse_ratio",
        (acquired - fresh) / acquired);
  json_object_set_object_member (o, "pool", pool);
}

/* a queue's level as its threads last sampled it, and how full that is
 * against the tightest of its limits (0 = unlimited) */
static void
describe_queue (JsonObject * o, GstElement * e, GstApmElementStats * es)
{
  guint buffers, bytes, max_buffers = 0, max_bytes = 0;
  guint64 time, max_time = 0;
  gdouble fill = 0;
  JsonObject *q;

  if (!gst_apm_element_stats_get_queue_level (es, &buffers, &bytes, &time))
    return;
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (e), "max-size-time"))
    g_object_get (e, "max-size-buffers", &max_buffers, "max-size-bytes",
        &max_bytes, "max-size-time", &max_time, NULL);
  if (max_buffers)
    fill = MAX (fill, 100.0 * buffers / max_buffers);
  if (max_bytes)
    fill = MAX (fill, 100.0 * bytes / max_bytes);
  if (max_time)
    fill = MAX (fill, 100.0 * time / max_time);
  q = json_object_new ();
  json_object_set_int_member (q, "buffers", buffers);
  json_object_set_int_member (q, "bytes", bytes);
  json_object_set_double_member (q, "seconds", time / 1e9);
  json_object_set_double_member (q, "fill_percent", fill);
  json_object_set_object_member (o, "queue", q);
}

/* @mean_own: the mean own time per buffer, or NaN without one */
static JsonObject *
describe_element (GstElement * e, const gchar * path, JsonArray * links,
    gdouble * mean_own)
{
  JsonObject *o = json_object_new ();
  GstApmElementStats *es = gst_apm_element_stats_peek (e);
  GstElementFactory *factory = gst_element_get_factory (e);

  *mean_own = NAN;
  json_object_set_string_member (o, "name", path);
  json_object_set_string_member (o, "factory", factory ?
      GST_OBJECT_NAME (factory) : G_OBJECT_TYPE_NAME (e));
  json_object_set_string_member (o, "kind", element_kind (e));
  json_object_set_string_member (o, "state",
      gst_element_state_get_name (GST_STATE (e)));
  if (es) {
    json_object_set_int_member (o, "thread", es->last_tid);
    {
      gdouble cpu = gst_apm_aggregate_thread_cpu_seconds (es->last_tid);

      if (!isnan (cpu))
        json_object_set_double_member (o, "thread_cpu_seconds", cpu);
    }
    json_object_set_int_member (o, "buffers_in",
        (gint64) apm_series_value (es->buffers_in));
    json_object_set_int_member (o, "buffers_out",
        (gint64) apm_series_value (es->buffers_out));
    json_object_set_int_member (o, "bytes_in",
        (gint64) apm_series_value (es->bytes_in));
    json_object_set_int_member (o, "bytes_out",
        (gint64) apm_series_value (es->bytes_out));
    json_object_set_double_member (o, "media_seconds",
        apm_series_value (es->media_in));
    if (!es->skip_own_time) {
      guint64 n = es->processing ? apm_series_count (es->processing) : 0;

      set_seconds_summary (o, "processing", es->processing);
      if (n)
        *mean_own = apm_series_sum (es->processing) / n;
    }
    if (es->residence)
      set_seconds_summary (o, "latency", es->residence);
    if (es->rtf)
      json_object_set_double_member (o, "realtime_factor",
          apm_series_value (es->rtf));
    if (es->pool_fresh)
      describe_pool (o, es);
    describe_queue (o, e, es);
  }
  if (GST_IS_APM_CHECKPOINT (e)) {
    JsonObject *span = gst_apm_checkpoint_describe_span (e);

    if (span)
      json_object_set_object_member (o, "span", span);
  }
  if (!GST_IS_BIN (e))
    add_links (links, e, path);
  return o;
}

static JsonNode *
describe_pipeline (GstElement * pipeline, const gchar * label)
{
  JsonObject *root = json_object_new ();
  JsonArray *elements = json_array_new (), *links = json_array_new ();
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (pipeline));
  GValue v = G_VALUE_INIT;
  GstState state, pending;
  JsonObject *slowest = NULL;
  gdouble slowest_mean = -1;
  JsonNode *node;

  GST_OBJECT_LOCK (pipeline);
  state = GST_STATE (pipeline);
  pending = GST_STATE_PENDING (pipeline);
  GST_OBJECT_UNLOCK (pipeline);
  /* the label (what the series say and the URL takes); the GstObject's
   * own name differs for a second pipeline of the same name */
  json_object_set_string_member (root, "name", label);
  {
    gchar *name = gst_object_get_name (GST_OBJECT (pipeline));

    json_object_set_string_member (root, "object_name", name);
    g_free (name);
  }
  json_object_set_string_member (root, "state",
      gst_element_state_get_name (state));
  json_object_set_string_member (root, "pending_state",
      gst_element_state_get_name (pending));

  while (TRUE) {
    GstIteratorResult r = gst_iterator_next (it, &v);

    if (r == GST_ITERATOR_RESYNC) {
      /* the bin changed under us: start over */
      gst_iterator_resync (it);
      json_array_unref (elements);
      json_array_unref (links);
      elements = json_array_new ();
      links = json_array_new ();
      slowest = NULL;
      slowest_mean = -1;
      continue;
    }
    if (r != GST_ITERATOR_OK)
      break;
    {
      GstElement *e = g_value_get_object (&v);
      gchar *path;

      if (gst_apm_element_path (e, NULL, &path)) {
        gdouble mean;
        JsonObject *o = describe_element (e, path, links, &mean);

        if (!isnan (mean) && mean > slowest_mean) {
          slowest_mean = mean;
          slowest = o;
        }
        json_array_add_object_element (elements, o);
        g_free (path);
      }
    }
    g_value_reset (&v);
  }
  g_value_unset (&v);
  gst_iterator_free (it);

  /* the element with the highest mean own time per buffer */
  if (slowest) {
    json_object_set_boolean_member (slowest, "bottleneck", TRUE);
    json_object_set_string_member (root, "bottleneck",
        json_object_get_string_member (slowest, "name"));
  } else {
    json_object_set_null_member (root, "bottleneck");
  }
  json_object_set_array_member (root, "elements", elements);
  json_object_set_array_member (root, "links", links);
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, root);
  return node;
}

/* GStreamer titles the graph with the pipeline's name: title it with
 * @label instead, so twins' graphs tell which is which. */
static gchar *
dot_of (GstElement * pipeline, const gchar * label)
{
  gchar *dot = gst_debug_bin_to_dot_data (GST_BIN (pipeline),
      GST_DEBUG_GRAPH_SHOW_ALL);
  gchar *name = gst_object_get_name (GST_OBJECT (pipeline));
  /* as gstdebugutils.c writes it: label="<GstPipeline>\nNAME..." */
  gchar *title = g_strdup_printf ("label=\"<%s>\\n%s",
      G_OBJECT_TYPE_NAME (pipeline), name);
  gchar *at = strstr (dot, title);

  if (at && g_strcmp0 (name, label) != 0) {
    gsize keep = at - dot + strlen (title) - strlen (name);
    gchar *relabelled = g_strdup_printf ("%.*s%s%s", (gint) keep, dot, label,
        at + strlen (title));

    g_free (dot);
    dot = relabelled;
  }
  g_free (title);
  g_free (name);
  return dot;
}

typedef struct
{
  const gchar *name;
  JsonArray *all;
  JsonNode *found;
  gchar *dot;
} DescribeCtx;

static void
describe_one (gpointer data, gpointer user_data)
{
  GstElement *pipeline = data;
  DescribeCtx *ctx = user_data;
  gchar *label = gst_apm_watch_pipeline_label (pipeline);

  if (!ctx->name)
    json_array_add_element (ctx->all, describe_pipeline (pipeline, label));
  else if (!ctx->found && !ctx->dot && g_strcmp0 (label, ctx->name) == 0) {
    if (ctx->all)
      ctx->found = describe_pipeline (pipeline, label);
    else
      ctx->dot = dot_of (pipeline, label);
  }
  g_free (label);
}

static JsonNode *
describe (const gchar * name, gpointer user_data)
{
  DescribeCtx ctx = { name, json_array_new (), NULL, NULL };

  gst_apm_watch_foreach_pipeline (describe_one, &ctx);
  if (name) {
    json_array_unref (ctx.all);
    return ctx.found;
  }
  {
    JsonNode *node = json_node_new (JSON_NODE_ARRAY);

    json_node_take_array (node, ctx.all);
    return node;
  }
}

static gchar *
dot (const gchar * name, gpointer user_data)
{
  DescribeCtx ctx = { name, NULL, NULL, NULL };

  gst_apm_watch_foreach_pipeline (describe_one, &ctx);
  return ctx.dot;
}

void
gst_apm_model_install (ApmService * service)
{
  apm_service_set_pipelines_provider (service, describe, dot, NULL);
}
