/* gst-apm: a snapshot of a pipeline: made, filled, and the figures the
 * report and the advice derive from it */
#include "gstapmsnapshot.h"

#include <math.h>

/* --- the snapshot --- */

static void
clear_element (gpointer data)
{
  GstApmElementSnap *e = data;

  g_free (e->name);
  g_free (e->factory);
  g_free (e->klass);
  g_free (e->caps_in);
  g_free (e->caps_out);
}

static void
clear_thread (gpointer data)
{
  g_free (((GstApmThreadSnap *) data)->name);
}

GstApmSnapshot *
gst_apm_snapshot_new (const gchar * pipeline)
{
  GstApmSnapshot *snap = g_new0 (GstApmSnapshot, 1);

  snap->pipeline = g_strdup (pipeline);
  snap->wall_s = NAN;
  snap->elements = g_array_new (FALSE, TRUE, sizeof (GstApmElementSnap));
  g_array_set_clear_func (snap->elements, clear_element);
  snap->links = g_array_new (FALSE, TRUE, sizeof (GstApmLinkSnap));
  snap->threads = g_array_new (FALSE, TRUE, sizeof (GstApmThreadSnap));
  g_array_set_clear_func (snap->threads, clear_thread);
  return snap;
}

void
gst_apm_snapshot_free (GstApmSnapshot * snap)
{
  if (!snap)
    return;
  g_free (snap->pipeline);
  g_array_unref (snap->elements);
  g_array_unref (snap->links);
  g_array_unref (snap->threads);
  g_free (snap);
}

guint
gst_apm_snapshot_add_element (GstApmSnapshot * snap, const gchar * name,
    const gchar * factory, GstApmElementKind kind)
{
  GstApmElementSnap e = { 0 };

  e.name = g_strdup (name);
  e.factory = g_strdup (factory);
  e.kind = kind;
  e.own_total_s = e.own_mean_s = e.own_p95_s = NAN;
  e.fill_mean_percent = e.fill_max_percent = NAN;
  g_array_append_val (snap->elements, e);
  return snap->elements->len - 1;
}

GstApmElementSnap *
gst_apm_snapshot_element (GstApmSnapshot * snap, guint index)
{
  return &g_array_index (snap->elements, GstApmElementSnap, index);
}

#define ELEMENT(snap, i) (&g_array_index ((snap)->elements, \
      GstApmElementSnap, (i)))

gint
gst_apm_snapshot_find (const GstApmSnapshot * snap, const gchar * name)
{
  for (guint i = 0; i < snap->elements->len; i++)
    if (g_strcmp0 (ELEMENT (snap, i)->name, name) == 0)
      return i;
  return -1;
}

void
gst_apm_snapshot_add_link (GstApmSnapshot * snap, guint from, guint to)
{
  GstApmLinkSnap l = { from, to };

  g_array_append_val (snap->links, l);
}

void
gst_apm_snapshot_add_thread (GstApmSnapshot * snap, gint tid,
    const gchar * name, gdouble cpu_s)
{
  GstApmThreadSnap t = { tid, g_strdup (name), cpu_s };

  g_array_append_val (snap->threads, t);
}

/* --- derived figures --- */

gdouble
gst_apm_element_snap_own_seconds (const GstApmElementSnap * e)
{
  return e->has_own && !e->is_queue && !isnan (e->own_total_s) ?
      e->own_total_s : 0;
}

gdouble
gst_apm_snapshot_own_seconds (const GstApmSnapshot * snap, guint index)
{
  return gst_apm_element_snap_own_seconds (ELEMENT (snap, index));
}

gdouble
gst_apm_snapshot_thread_busy (const GstApmSnapshot * snap, gint tid)
{
  gdouble busy = 0;

  if (!(snap->wall_s > 0) || tid == 0)
    return NAN;
  for (guint i = 0; i < snap->elements->len; i++)
    if (ELEMENT (snap, i)->tid == tid)
      busy += gst_apm_element_snap_own_seconds (ELEMENT (snap, i));
  return MIN (busy / snap->wall_s, 1.0);
}

gdouble
gst_apm_snapshot_realtime_factor (const GstApmSnapshot * snap, guint index)
{
  const GstApmElementSnap *e = ELEMENT (snap, index);
  gdouble own = gst_apm_element_snap_own_seconds (e);

  return own > 0 && e->media_s > 0 ? e->media_s / own : NAN;
}

gdouble
gst_apm_snapshot_buffer_seconds (const GstApmSnapshot * snap, guint index)
{
  const GstApmElementSnap *e = ELEMENT (snap, index);

  return e->buffers > 0 && e->media_s > 0 ? e->media_s / e->buffers : NAN;
}

gdouble
gst_apm_snapshot_thread_cpu_share (const GstApmSnapshot * snap, gint tid)
{
  for (guint i = 0; i < snap->threads->len; i++) {
    const GstApmThreadSnap *t = &g_array_index (snap->threads,
        GstApmThreadSnap, i);

    if (t->tid == tid && !isnan (t->cpu_s) && snap->wall_s > 0)
      return MIN (t->cpu_s / snap->wall_s, 1.0);
  }
  return NAN;
}

gint
gst_apm_snapshot_upstream_of (const GstApmSnapshot * snap, guint index)
{
  for (guint i = 0; i < snap->links->len; i++) {
    const GstApmLinkSnap *l = &g_array_index (snap->links, GstApmLinkSnap, i);

    if (l->to == index)
      return l->from;
  }
  return -1;
}

gint
gst_apm_snapshot_downstream_of (const GstApmSnapshot * snap, guint index)
{
  for (guint i = 0; i < snap->links->len; i++) {
    const GstApmLinkSnap *l = &g_array_index (snap->links, GstApmLinkSnap, i);

    if (l->from == index)
      return l->to;
  }
  return -1;
}

