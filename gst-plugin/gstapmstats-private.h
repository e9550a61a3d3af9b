/* gst-apm: what the files behind gstapmstats.h share (the tracer and the
 * aggregator use gstapmstats.h only)
 *
 * gstapmstats.c     metric families, pad stats: creation, the slow
 *                   lookups and peer links, flow-return series, caps
 * gstapmelementstats.c  element stats: creation, path and labels, rings,
 *                   buffer pools and queue levels
 * gstapmthread.c    per-thread state (pad cache, push stack): made and
 *                   freed, and the streaming threads' tids
 * gstapmfold.c      the service thread's fold of the pads' counts
 * gstapmpaths.c     end-to-end latency paths: the sources upstream of a
 *                   sink pad, refreshed when the topology changes
 */
#pragma once

#include "gstapmstats.h"

G_BEGIN_DECLS

/* Serialises creating stats and the series made later on the slow path
 * (flows, pools, latency paths).  Lock order: this, then the fold's. */
extern GMutex gst_apm_create_lock;

/* The metric families, made once by gst_apm_stats_ensure_families() (with
 * the create lock, before the first element's stats) */
typedef struct
{
  /* pads */
  ApmFamily *pad_buffers, *pad_bytes, *gaps, *overlaps, *discont, *jitter;
  ApmFamily *flows;
  /* elements */
  ApmFamily *processing, *buffers_in, *buffers_out, *bytes_in, *bytes_out;
  ApmFamily *media, *residence, *pooled, *allocated, *allocated_bytes;
  ApmFamily *pool_fresh;
  /* latency paths */
  ApmFamily *latency;
} GstApmFamilies;

extern GstApmFamilies gst_apm_families;
void gst_apm_stats_ensure_families (void);

/* Element stats (gstapmelementstats.c).  get_locked: @element's stats,
 * made if need be (with the create lock), or NULL for an element in no
 * bin; the element's qdata holds them. */
void gst_apm_element_stats_init (void);
GstApmElementStats *gst_apm_element_stats_get_locked (GstElement * element);
GstApmElementStats *gst_apm_element_stats_ref (GstApmElementStats * es);
void gst_apm_element_stats_unref (GstApmElementStats * es);

/* The fold (gstapmfold.c) folds every pad added here, until it is removed.
 * Add: a counted pad's new stats (called with the create lock: lock order
 * is the create lock, then the fold's).  Remove: the pad is going; what it
 * counted since the last fold is folded first. */
void gst_apm_fold_add_pad (GstApmPadStats * st);
void gst_apm_fold_remove_pad (GstApmPadStats * st);

/* The pad is going: its latency paths are released, their series retired
 * (gstapmpaths.c) */
void gst_apm_pad_stats_clear_paths (GstApmPadStats * st);

G_END_DECLS
