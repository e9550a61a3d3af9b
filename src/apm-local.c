/* gst-apm: metrics a single thread writes, folded into shared series later */
#include "apm-local.h"

const gint64 apm_seconds_bounds_ns[APM_LOCAL_N_BUCKETS - 1] = {
  10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000,
  5000000, 10000000, 25000000, 50000000, 100000000, 250000000, 500000000,
  1000000000
};

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
