/* gst-apm: a snapshot of a pipeline, as the report and the advice read it
 *
 * Plain data (no GStreamer object, no registry): gstapmsnapshotwalk.c
 * fills it from a pipeline and the tracer's stats, the tests by hand.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  GST_APM_KIND_SOURCE,
  GST_APM_KIND_FILTER,
  GST_APM_KIND_SINK,
} GstApmElementKind;

/* One element, as the report sees it; figures are totals over the window
 * (NaN or 0 when unknown). */
typedef struct
{
  gchar *name;                  /* path in the pipeline */
  gchar *factory;
  gchar *klass;                 /* "Filter/Converter/Audio", may be NULL */
  GstApmElementKind kind;
  gint tid;                     /* last streaming thread, 0: none */
  guint64 buffers;              /* received (sources: sent) */
  guint64 bytes_in, bytes_out;
  gboolean has_own;             /* own time is measured */
  guint64 own_count;
  gdouble own_total_s, own_mean_s, own_p95_s;
  gdouble media_s;              /* media time received (sources: sent) */
  /* buffers sent one by one, from a pool, and how many the pool made */
  guint64 allocated, pooled, pool_fresh;
  /* queues: fill samples against the tightest limit */
  gboolean is_queue;
  guint fill_samples, fill_high;
  gdouble fill_mean_percent, fill_max_percent;
  /* sinks */
  gboolean sync;
  guint64 qos_messages, qos_dropped;
  guint64 underruns;            /* counted by an apmonitor upstream of it */
  /* the negotiated format of the first sink and source pads, or NULL */
  gchar *caps_in, *caps_out;
} GstApmElementSnap;

typedef struct
{
  guint from, to;               /* indices into elements */
} GstApmLinkSnap;

typedef struct
{
  gint tid;
  gchar *name;
  gdouble cpu_s;                /* NaN: not known */
} GstApmThreadSnap;

typedef struct
{
  gchar *pipeline;
  gboolean live;
  gdouble wall_s;               /* the window's length */
  GArray *elements;             /* GstApmElementSnap */
  GArray *links;                /* GstApmLinkSnap */
  GArray *threads;              /* GstApmThreadSnap */
} GstApmSnapshot;

GstApmSnapshot *gst_apm_snapshot_new (const gchar * pipeline);
void gst_apm_snapshot_free (GstApmSnapshot * snap);
/* a zeroed element (NaN figures), appended; returns its index */
guint gst_apm_snapshot_add_element (GstApmSnapshot * snap,
    const gchar * name, const gchar * factory, GstApmElementKind kind);
GstApmElementSnap *gst_apm_snapshot_element (GstApmSnapshot * snap,
    guint index);
/* index of @name, or -1 */
gint gst_apm_snapshot_find (const GstApmSnapshot * snap, const gchar * name);
void gst_apm_snapshot_add_link (GstApmSnapshot * snap, guint from, guint to);
void gst_apm_snapshot_add_thread (GstApmSnapshot * snap, gint tid,
    const gchar * name, gdouble cpu_s);

/* Derived figures, shared with the report */
/* own time of the elements on thread @tid over the window (0..1) */
gdouble gst_apm_snapshot_thread_busy (const GstApmSnapshot * snap, gint tid);
/* media seconds per second of own time, or NaN */
gdouble gst_apm_snapshot_realtime_factor (const GstApmSnapshot * snap,
    guint index);
/* mean media duration of the element's buffers, or NaN */
gdouble gst_apm_snapshot_buffer_seconds (const GstApmSnapshot * snap,
    guint index);

/* own time of the element that counts as work: a queue's chain waits for
 * room when the queue is full, and the tracer counts that wait as its own
 * time */
gdouble gst_apm_snapshot_own_seconds (const GstApmSnapshot * snap,
    guint index);
gdouble gst_apm_element_snap_own_seconds (const GstApmElementSnap * e);
/* CPU time of thread @tid over the window (0..1), or NaN */
gdouble gst_apm_snapshot_thread_cpu_share (const GstApmSnapshot * snap,
    gint tid);
/* the first element linking into @index (upstream) or that @index links
 * into (downstream), or -1 */
gint gst_apm_snapshot_upstream_of (const GstApmSnapshot * snap, guint index);
gint gst_apm_snapshot_downstream_of (const GstApmSnapshot * snap,
    guint index);

G_END_DECLS
