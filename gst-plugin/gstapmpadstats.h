/* gst-apm: per-pad counters, created once per pad, updated lock-free */
#pragma once

#include <gst/gst.h>
#include "apm-metrics.h"

G_BEGIN_DECLS

typedef struct _GstApmPadStats GstApmPadStats;

struct _GstApmPadStats
{
  ApmSeries *buffers;           /* NULL: pad not in a pipeline, ignored */
  ApmSeries *bytes;
  /* sink pads: the peer's series, for pull mode where only the sink pad's
   * hook runs (own references: the peer may go first) */
  ApmSeries *peer_buffers;
  ApmSeries *peer_bytes;
};

/* Slow path, once per pad: creates the stats and their series. */
GstApmPadStats *gst_apm_pad_stats_create (GstPad * pad);

extern GQuark gst_apm_pad_stats_quark;

/* The pad's stats, or NULL if the pad is ignored (not in a pipeline). */
static inline GstApmPadStats *
gst_apm_pad_stats_get (GstPad * pad)
{
  GstApmPadStats *st = g_object_get_qdata (G_OBJECT (pad),
      gst_apm_pad_stats_quark);

  if (G_UNLIKELY (!st))
    st = gst_apm_pad_stats_create (pad);
  return st->buffers ? st : NULL;
}

static inline void
gst_apm_pad_stats_count (GstApmPadStats * st, GstBuffer * buffer)
{
  apm_counter_add_int (st->buffers, 1);
  apm_counter_add_int (st->bytes, gst_buffer_get_size (buffer));
}

static inline void
gst_apm_pad_stats_count_peer (GstApmPadStats * st, GstBuffer * buffer)
{
  if (st->peer_buffers) {
    apm_counter_add_int (st->peer_buffers, 1);
    apm_counter_add_int (st->peer_bytes, gst_buffer_get_size (buffer));
  }
}

void gst_apm_pad_stats_count_list (GstApmPadStats * st, GstBufferList * list);

/* Element path inside its top-level pipeline ("decodebin0/wavparse0") and
 * the pipeline's name; FALSE if @element is not inside a pipeline. */
gboolean gst_apm_element_path (GstElement * element, gchar ** pipeline,
    gchar ** path);

G_END_DECLS
