/* gst-apm: pipelines stuck in a state change
 *
 * A state change that has not progressed for stuck-timeout seconds (a live
 * source whose data never reaches the sinks, a network source that never
 * delivers) leaves the pipeline waiting for preroll forever.  The hooks
 * keep when the pipeline's state last progressed and which sinks it has
 * (read in the thread that changes its state); the service thread decides
 * once a second, from that and the sinks' first buffers, without touching
 * the pipeline.
 */
#include "gstapmwatch-private.h"

#include <string.h>
#include "gstapmstats.h"

#define GST_CAT_DEFAULT apm_watch_debug

static gint stuck_timeout = -1;         /* seconds, atomic; -1: default */

void
gst_apm_stuck_configure (gint seconds)
{
  if (seconds > 0)
    g_atomic_int_compare_and_exchange (&stuck_timeout, -1, seconds);
}

gdouble
gst_apm_stuck_timeout (void)
{
  gint s = g_atomic_int_get (&stuck_timeout);

  return s > 0 ? s : GST_APM_DEFAULT_STUCK_TIMEOUT;
}

void
gst_apm_stuck_progress (PipelineWatch * w)
{
  g_mutex_lock (&w->lock);
  w->progress_us = g_get_monotonic_time ();
  g_mutex_unlock (&w->lock);
}

/* element-change-state-post of the top-level pipeline (no object lock
 * held): an ASYNC change posts no message until it completes, so keep the
 * state and target now.  Stored under the pipeline's object lock: a commit
 * by a streaming thread (then its STATE_CHANGED) is ordered after it. */
void
gst_apm_stuck_async (GstElement * pipeline)
{
  PipelineWatch *w = gst_apm_watch_of (pipeline);

  if (!w)
    return;
  GST_OBJECT_LOCK (pipeline);
  g_atomic_int_set (&w->state, GST_STATE (pipeline));
  g_atomic_int_set (&w->pending, GST_STATE_PENDING (pipeline));
  GST_OBJECT_UNLOCK (pipeline);
  gst_apm_stuck_progress (w);
}

/* In the thread changing the state (READY to PAUSED): the paths of the
 * pipeline's sink elements, inside bins too, for naming the ones that
 * never get a buffer.  Sinks added later (decodebin, playbin) are found by
 * their stats once they carry a buffer. */
void
gst_apm_stuck_scan_sinks (PipelineWatch * w, GstElement * pipeline)
{
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (pipeline));
  GPtrArray *sinks = g_ptr_array_new_with_free_func (g_free);
  GValue v = G_VALUE_INIT;
  gboolean done = FALSE;
  gchar *path, **old;

  while (!done) {
    switch (gst_iterator_next (it, &v)) {
      case GST_ITERATOR_OK:{
        GstElement *e = g_value_get_object (&v);

        if (!GST_IS_BIN (e) && GST_OBJECT_FLAG_IS_SET (e,
                GST_ELEMENT_FLAG_SINK)
            && gst_apm_element_path (e, NULL, &path))
          g_ptr_array_add (sinks, path);
        g_value_reset (&v);
        break;
      }
      case GST_ITERATOR_RESYNC:
        g_ptr_array_set_size (sinks, 0);
        gst_iterator_resync (it);
        break;
      default:
        done = TRUE;
        break;
    }
  }
  g_value_unset (&v);
  gst_iterator_free (it);
  g_ptr_array_add (sinks, NULL);
  g_mutex_lock (&w->lock);
  old = w->sinks;
  w->sinks = (gchar **) g_ptr_array_free (sinks, FALSE);
  g_mutex_unlock (&w->lock);
  g_strfreev (old);
}

typedef struct
{
  const gchar *label;
  GHashTable *fed;              /* sink paths with a buffer this run */
  GHashTable *known;            /* sink paths with stats */
} SinkScan;

static void
note_sink (gpointer data, gpointer user_data)
{
  GstApmElementStats *es = data;
  SinkScan *scan = user_data;

  if (!es->is_sink || g_strcmp0 (es->pipeline, scan->label) != 0)
    return;
  /* copies: the stats may go once the foreach lets go of them */
  g_hash_table_add (scan->known, g_strdup (es->path));
  if (es->first_ts)
    g_hash_table_add (scan->fed, g_strdup (es->path));
}

gchar *
gst_apm_stuck_missing_sinks (PipelineWatch * w)
{
  SinkScan scan = { w->label,
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL),
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL)
  };
  GPtrArray *missing = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer path;
  gchar *text = NULL, *list;

  g_mutex_lock (&w->lock);
  for (guint i = 0; w->sinks && w->sinks[i]; i++)
    g_ptr_array_add (missing, g_strdup (w->sinks[i]));
  g_mutex_unlock (&w->lock);
  gst_apm_element_stats_foreach (note_sink, &scan);
  /* sinks with stats (added after the scan too) that have no buffer */
  g_hash_table_iter_init (&iter, scan.known);
  while (g_hash_table_iter_next (&iter, &path, NULL))
    if (!g_hash_table_contains (scan.fed, path)
        && !g_ptr_array_find_with_equal_func (missing, path, g_str_equal,
            NULL))
      g_ptr_array_add (missing, g_strdup (path));
  for (guint i = missing->len; i > 0; i--)
    if (g_hash_table_contains (scan.fed, missing->pdata[i - 1]))
      g_ptr_array_remove_index (missing, i - 1);
  g_hash_table_destroy (scan.fed);
  g_hash_table_destroy (scan.known);
  if (missing->len) {
    guint n = missing->len;

    g_ptr_array_add (missing, NULL);
    list = g_strjoinv (", ", (gchar **) missing->pdata);
    text = g_strdup_printf ("%s %s %s no buffer", n > 1 ? "sinks" : "sink",
        list, n > 1 ? "have" : "has");
    g_free (list);
  }
  g_ptr_array_unref (missing);
  return text;
}

gdouble
gst_apm_stuck_update (PipelineWatch * w, GstState state, GstState pending)
{
  gint64 now = g_get_monotonic_time (), since;
  gdouble idle, timeout = gst_apm_stuck_timeout ();
  gchar *message = NULL, *missing;

  g_mutex_lock (&w->lock);
  since = w->progress_us;
  g_mutex_unlock (&w->lock);
  idle = since ? (now - since) / 1e6 : 0;
  if (pending == GST_STATE_VOID_PENDING || pending == state || idle < timeout) {
    idle = 0;
  } else {
    missing = gst_apm_stuck_missing_sinks (w);
    message = g_strdup_printf ("%s stuck in %s->%s for %.0f s: %s",
        w->label, gst_element_state_get_name (state),
        gst_element_state_get_name (pending), idle, missing ? missing :
        "every sink has a buffer; an element has not completed the change");
    g_free (missing);
  }
  g_mutex_lock (&w->lock);
  if (idle > 0 && w->stuck_s == 0)
    GST_INFO ("%s", message);
  w->stuck_s = idle;
  g_free (w->stuck_message);
  w->stuck_message = message;
  g_mutex_unlock (&w->lock);
  return idle;
}
