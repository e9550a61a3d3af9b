/* gst-apm: optimization advice, rules over a snapshot of a pipeline
 *
 * The rules are pure functions of a GstApmSnapshot (no GStreamer object,
 * no registry): gstapmreport.c fills the snapshot from a pipeline and its
 * stats, the tests fill it by hand.  Each recommendation is a JSON object
 * {"id", "severity", "element", "evidence": {...}, "advice"}; the ids and
 * their definitions are in README.md ("Recommendations").
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Thresholds, as documented */
#define GST_APM_ADVICE_BOTTLENECK_SHARE 0.5     /* of its thread's busy time */
#define GST_APM_ADVICE_BOTTLENECK_BUSY 0.5      /* the thread's busy fraction */
#define GST_APM_ADVICE_BOTTLENECK_RTF 1.5       /* live pipelines */
#define GST_APM_ADVICE_SMALL_BUFFER_S 0.005
#define GST_APM_ADVICE_QUEUE_FULL_PERCENT 90.0
#define GST_APM_ADVICE_QUEUE_FULL_SHARE 0.5     /* of the samples */
#define GST_APM_ADVICE_SATURATED 0.9
#define GST_APM_ADVICE_ALLOC_RATE 500.0 /* buffers allocated per second */
#define GST_APM_ADVICE_POOL_REUSE 0.5
#define GST_APM_ADVICE_POOL_MIN 100     /* buffers acquired, to judge reuse */

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

/* The recommendations for @snap, most severe first: a JSON array. */
JsonArray *gst_apm_advise (const GstApmSnapshot * snap);

G_END_DECLS
