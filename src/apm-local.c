/* gst-apm: metrics a single thread writes, folded into shared series later */
#include "apm-local.h"

guint64
apm_local_histogram_fold (const ApmLocalHistogram * h,
    ApmLocalHistogram * folded, ApmSeries * series)
{
  guint64 added = 0;

  g_return_val_if_fail (series->n_bounds == APM_LOCAL_N_BUCKETS - 1, 0);
  for (guint i = 0; i < APM_LOCAL_N_BUCKETS; i++) {
    guint32 d = apm_local_take32 (&h->counts[i], &folded->counts[i]);

    if (d) {
      __atomic_fetch_add (&series->buckets[i], d, __ATOMIC_RELAXED);
      added += d;
    }
  }
  {
    guint64 sum = apm_local_take (&h->sum_ns, &folded->sum_ns);

    if (sum)
      __atomic_fetch_add (&series->sum_ns, (gint64) sum, __ATOMIC_RELAXED);
  }
  return added;
}
