/* gst-apm: what the files behind gstapmstats.h share (the tracer and the
 * aggregator use gstapmstats.h only)
 *
 * gstapmstats.c     metric families, pad stats: creation, the slow
 *                   lookups and peer links, flow-return series, caps
 * gstapmthread.c    per-thread state: the pad cache's owner, the tids
 * gstapmfold.c      the service thread's fold of the pads' counts
 */
#pragma once

#include "gstapmstats.h"

G_BEGIN_DECLS

/* The fold (gstapmfold.c) folds every pad added here, until it is removed.
 * Add: a counted pad's new stats (called with the create lock: lock order
 * is the create lock, then the fold's).  Remove: the pad is going; what it
 * counted since the last fold is folded first. */
void gst_apm_fold_add_pad (GstApmPadStats * st);
void gst_apm_fold_remove_pad (GstApmPadStats * st);

G_END_DECLS
