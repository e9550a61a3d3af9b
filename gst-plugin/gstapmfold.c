/* gst-apm: the fold, the pads' own counts added to their series
 *
 * The streaming threads count into their pads' GstApmPadHot with plain
 * stores; the service thread runs gst_apm_stats_fold() before every read
 * and adds what changed since the last fold (GstApmPadStats.folded) to the
 * pad's and its element's series, with the interval's largest own time and
 * residence as the buckets' exemplars, tagged with the pipeline's run.  A
 * pad's last counts are folded when it goes (gst_apm_fold_remove_pad). */
#include "gstapmstats-private.h"
#include "gstapmwatch.h"

/* an example observation of the interval: the largest own time or
 * residence a pad saw, for its element's histogram bucket (OpenMetrics
 * exemplar), tagged with the pipeline's run once fold_lock is released */
typedef struct
{
  gchar *pipeline;
  ApmSeries *series;
  guint32 value_ns;
} Example;

static void
example_clear (Example * e)
{
  g_free (e->pipeline);
  apm_series_unref (e->series);
}

static void
take_example (GArray * examples, ApmLocalHistogram * h,
    GstApmElementStats * es, ApmSeries * series)
{
  guint32 max;
  Example e;

  /* a fold without examples leaves the maximum to the next one (whose own
   * count may then be 0: what it observed was counted already) */
  if (!examples)
    return;
  max = apm_local_histogram_take_max_ns (h);
  /* saturated: the value is not known, no example */
  if (!max || max == G_MAXUINT32)
    return;
  e.pipeline = g_strdup (es->pipeline);
  e.series = apm_series_ref (series);
  e.value_ns = max;
  g_array_append_val (examples, e);
}

/* Every counted pad's stats, for the fold; under fold_lock, which also
 * serialises folds.  Lock order: create_lock, then fold_lock. */
static GMutex fold_lock;
static GHashTable *pads;

static guint32
fold_counts (GstApmPadStats * st, guint32 buffers, guint64 bytes)
{
  GstApmElementStats *es = st->element;

  if (buffers) {
    apm_counter_add_int (st->buffers, buffers);
    apm_counter_add_int (st->is_sink ? es->buffers_in : es->buffers_out,
        buffers);
  }
  if (bytes) {
    apm_counter_add_int (st->bytes, bytes);
    apm_counter_add_int (st->is_sink ? es->bytes_in : es->bytes_out, bytes);
  }
  return buffers;
}

/* returns the buffers folded */
static guint32
fold_sink (GstApmPadStats * st, GArray * examples)
{
  GstApmElementStats *es = st->element;
  GstApmSinkHot *h = &st->hot.sink, *f = &st->folded.sink;
  guint64 media = apm_local_take (&h->media_ns, &f->media_ns);
  gint64 jitter = gst_apm_jitter_get_ns (&h->jitter);
  guint32 n, buffers = fold_counts (st, apm_local_take32 (&h->buffers,
          &f->buffers), apm_local_take (&h->bytes, &f->bytes));

  apm_local_histogram_fold (&h->processing, &f->processing, es->processing);
  take_example (examples, &h->processing, es, es->processing);
  if (media)
    apm_counter_add_int (es->media_in, media);
  if ((n = apm_local_take32 (&h->discont, &f->discont)))
    apm_counter_add_int (st->discont, n);
  if ((n = apm_local_take32 (&h->gaps, &f->gaps)))
    apm_counter_add_int (st->gaps, n);
  if ((n = apm_local_take32 (&h->overlaps, &f->overlaps)))
    apm_counter_add_int (st->overlaps, n);
  if (jitter != st->folded_jitter) {
    apm_gauge_set_int (st->jitter, jitter);
    st->folded_jitter = jitter;
  }
  return buffers;
}

/* returns the buffers folded */
static guint32
fold_src (GstApmPadStats * st, GArray * examples)
{
  GstApmElementStats *es = st->element;
  GstApmSrcHot *h = &st->hot.src, *f = &st->folded.src;
  guint32 n, buffers = fold_counts (st, apm_local_take32 (&h->buffers,
          &f->buffers), apm_local_take (&h->bytes, &f->bytes));
  guint64 b;

  apm_local_histogram_fold (&h->processing, &f->processing, es->processing);
  take_example (examples, &h->processing, es, es->processing);
  if ((n = apm_local_take32 (&h->pooled, &f->pooled)))
    apm_counter_add_int (es->pooled, n);
  /* counted only once pool_seen is published, after pool_fresh */
  if ((n = apm_local_take32 (&h->fresh, &f->fresh)))
    apm_counter_add_int (g_atomic_pointer_get (&es->pool_fresh), n);
  if ((n = apm_local_take32 (&h->allocated, &f->allocated)))
    apm_counter_add_int (es->allocated, n);
  if ((b = apm_local_take (&h->allocated_bytes, &f->allocated_bytes)))
    apm_counter_add_int (es->allocated_bytes, b);
  if (es->residence) {
    apm_local_histogram_fold (&h->residence, &f->residence, es->residence);
    take_example (examples, &h->residence, es, es->residence);
  }
  return buffers;
}

/* @examples: where to collect exemplars, or NULL */
static void
fold_pad (GstApmPadStats * st, GArray * examples)
{
  GstApmElementStats *es = st->element;
  gint tid = __atomic_load_n (&st->tid, __ATOMIC_RELAXED);
  guint32 buffers = st->is_sink ? fold_sink (st, examples) :
      fold_src (st, examples);

  if (tid && (buffers || !es->last_tid))
    es->last_tid = tid;
}

void
gst_apm_stats_fold (gboolean with_examples)
{
  GHashTableIter it;
  gpointer st;
  GArray *examples;
  GHashTable *traces;

  if (!with_examples) {
    /* the maxima stay for the service thread's next fold */
    g_mutex_lock (&fold_lock);
    if (pads) {
      g_hash_table_iter_init (&it, pads);
      while (g_hash_table_iter_next (&it, &st, NULL))
        fold_pad (st, NULL);
    }
    g_mutex_unlock (&fold_lock);
    return;
  }
  examples = g_array_new (FALSE, FALSE, sizeof (Example));
  traces = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_array_set_clear_func (examples, (GDestroyNotify) example_clear);
  g_mutex_lock (&fold_lock);
  if (pads) {
    g_hash_table_iter_init (&it, pads);
    while (g_hash_table_iter_next (&it, &st, NULL))
      fold_pad (st, examples);
  }
  g_mutex_unlock (&fold_lock);

  /* end-to-end latency: observed straight into its series by the sinks'
   * threads, which keep the interval's largest there */
  if (gst_apm_families.latency) {
    GPtrArray *paths = apm_registry_list_series (apm_service_get_registry
        (apm_service_get_default ()), "apm_pipeline_latency_seconds");

    for (guint i = 0; paths && i < paths->len; i++) {
      ApmSeries *s = g_ptr_array_index (paths, i);
      guint32 max = apm_series_take_max_ns (s);
      const gchar *pipeline = apm_series_label (s, "pipeline");
      Example e = { g_strdup (pipeline), apm_series_ref (s), max };

      if (max && max != G_MAXUINT32 && pipeline)
        g_array_append_val (examples, e);
      else
        example_clear (&e);
    }
    g_clear_pointer (&paths, g_ptr_array_unref);
  }

  /* the run each example belongs to, looked up once per pipeline and
   * outside fold_lock (the watch list and the jobs have their own locks) */
  for (guint i = 0; i < examples->len; i++) {
    Example *e = &g_array_index (examples, Example, i);
    gchar *trace_id = g_hash_table_lookup (traces, e->pipeline);

    if (!trace_id) {
      gchar id[APM_TRACE_ID_LEN + 1];

      trace_id = g_strdup (gst_apm_run_trace_id (e->pipeline, id) ? id : "");
      g_hash_table_insert (traces, g_strdup (e->pipeline), trace_id);
    }
    if (*trace_id)
      apm_histogram_set_exemplar (e->series, e->value_ns / 1e9, trace_id);
  }
  g_hash_table_unref (traces);
  g_array_unref (examples);
}

void
gst_apm_fold_add_pad (GstApmPadStats * st)
{
  g_mutex_lock (&fold_lock);
  if (!pads)
    pads = g_hash_table_new (NULL, NULL);
  g_hash_table_add (pads, st);
  g_mutex_unlock (&fold_lock);
}

void
gst_apm_fold_remove_pad (GstApmPadStats * st)
{
  g_mutex_lock (&fold_lock);
  fold_pad (st, NULL);
  g_hash_table_remove (pads, st);
  g_mutex_unlock (&fold_lock);
}
