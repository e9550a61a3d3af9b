/* gst-apm: end-to-end latency paths, the sources upstream of a sink pad
 *
 * A sink element's sink pad follows up to GST_APM_MAX_PATHS sources: for
 * each, the source's ring (pts -> entry time) and a latency series.  The
 * pad's streaming thread refreshes them when the topology generation
 * changes (a link, an unlink, a source's ring replaced) and is their only
 * reader. */
#include "gstapmstats-private.h"

guint gst_apm_topology_generation = 1;

GstPad *
gst_apm_pad_real_peer (GstPad * pad)
{
  GstPad *peer = gst_pad_get_peer (pad);
  guint guard = 0;

  while (peer && guard++ < 16) {
    if (GST_IS_GHOST_PAD (peer)) {
      /* a bin's ghost pad: go inside */
      GstPad *target = gst_ghost_pad_get_target (GST_GHOST_PAD (peer));

      gst_object_unref (peer);
      peer = target;
    } else if (GST_IS_PROXY_PAD (peer)) {
      /* the inside of a bin's ghost pad: go outside (a proxy pad's parent
       * is its ghost pad, taken with a reference) */
      GstObject *ghost = gst_object_get_parent (GST_OBJECT (peer));

      if (!ghost || !GST_IS_GHOST_PAD (ghost)) {
        if (ghost)
          gst_object_unref (ghost);
        return peer;
      }
      gst_object_unref (peer);
      peer = gst_pad_get_peer (GST_PAD (ghost));
      gst_object_unref (ghost);
    } else {
      return peer;
    }
  }
  if (peer)
    gst_object_unref (peer);
  return NULL;
}

static void
collect_sources (GstPad * sinkpad, GPtrArray * sources, GHashTable * seen,
    guint depth)
{
  GstPad *src = gst_apm_pad_real_peer (sinkpad);
  GstElement *element;
  GstIterator *it;
  GValue v = G_VALUE_INIT;

  if (!src)
    return;
  element = GST_ELEMENT (gst_object_get_parent (GST_OBJECT (src)));
  gst_object_unref (src);
  if (!element)
    return;
  if (g_hash_table_contains (seen, element) || depth > 64
      || sources->len >= GST_APM_MAX_PATHS) {
    gst_object_unref (element);
    return;
  }
  g_hash_table_add (seen, element);
  if (element->numsinkpads == 0 && !GST_IS_BIN (element)) {
    g_ptr_array_add (sources, gst_object_ref (element));
  } else {
    it = gst_element_iterate_sink_pads (element);
    while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
      collect_sources (g_value_get_object (&v), sources, seen, depth + 1);
      g_value_reset (&v);
    }
    g_value_unset (&v);
    gst_iterator_free (it);
  }
  gst_object_unref (element);
}

void
gst_apm_pad_stats_refresh_paths (GstApmPadStats * st, GstPad * pad)
{
  GPtrArray *sources = g_ptr_array_new_with_free_func (gst_object_unref);
  GHashTable *seen = g_hash_table_new (NULL, NULL);
  guint gen = __atomic_load_n (&gst_apm_topology_generation,
      __ATOMIC_ACQUIRE);
  GstApmPath paths[GST_APM_MAX_PATHS];
  guint n = 0, old_n;

  /* push mode gives the pushing pad: the walk starts at its peer (no
   * object lock is held in pad-push-pre) */
  if (GST_PAD_IS_SRC (pad)) {
    GstPad *sink = gst_pad_get_peer (pad);

    if (sink) {
      collect_sources (sink, sources, seen, 0);
      gst_object_unref (sink);
    }
  } else {
    collect_sources (pad, sources, seen, 0);
  }
  g_hash_table_destroy (seen);

  g_mutex_lock (&gst_apm_create_lock);
  for (guint i = 0; i < sources->len && n < GST_APM_MAX_PATHS; i++) {
    GstApmElementStats *src =
        gst_apm_element_stats_get_locked (g_ptr_array_index (sources, i));
    const gchar *values[4];

    if (!src || !src->ring)
      continue;
    values[0] = st->element->pipeline;
    values[1] = src->path;
    values[2] = st->element->path;
    values[3] = NULL;
    paths[n].ring = gst_apm_ring_ref (__atomic_load_n (&src->ring,
            __ATOMIC_ACQUIRE));
    paths[n].latency = apm_family_series (gst_apm_families.latency, values);
    n++;
  }
  g_mutex_unlock (&gst_apm_create_lock);
  g_ptr_array_unref (sources);

  /* only this pad's streaming thread reads paths: swap them */
  old_n = st->n_paths;
  for (guint i = 0; i < old_n; i++) {
    gboolean kept = FALSE;

    for (guint j = 0; j < n; j++)
      kept |= paths[j].latency == st->paths[i].latency;
    gst_apm_ring_unref (st->paths[i].ring);
    if (kept)
      apm_series_unref (st->paths[i].latency);
    else
      apm_series_retire (st->paths[i].latency);
  }
  g_free (st->paths);
  st->paths = n ? g_memdup2 (paths, n * sizeof (GstApmPath)) : NULL;
  st->n_paths = n;
  st->topology_gen = gen;
}

void
gst_apm_pad_stats_clear_paths (GstApmPadStats * st)
{
  for (guint i = 0; i < st->n_paths; i++) {
    gst_apm_ring_unref (st->paths[i].ring);
    apm_series_retire (st->paths[i].latency);
  }
  st->n_paths = 0;
  g_clear_pointer (&st->paths, g_free);
}
