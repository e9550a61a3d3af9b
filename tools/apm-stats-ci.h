/* gst-apm: confidence intervals for gst-apm compare
 *
 * Small samples (a handful of runs per variant), so Student's t rather
 * than the normal law, and no random numbers: the same runs give the same
 * intervals.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The 97.5 % quantile of Student's t with @df degrees of freedom (real,
 * > 0; Welch's df is not an integer): a two-sided 95 % interval. */
gdouble apm_stats_t975 (gdouble df);

/* Mean of @values and its 95 % t interval.  @n >= 2, else the interval
 * is the mean itself. */
void apm_stats_mean_ci (const gdouble * values, guint n, gdouble * mean,
    gdouble * lo, gdouble * hi);

/* The ratio of the geometric means of @b and @a with its 95 % interval:
 * Welch's t on the logarithms, so unequal variances are fine and the
 * interval is symmetric in ratio terms (B/A and A/B agree).  FALSE if a
 * side has fewer than two values or a value that is not positive. */
gboolean apm_stats_ratio_ci (const gdouble * a, guint na, const gdouble * b,
    guint nb, gdouble * ratio, gdouble * lo, gdouble * hi);

G_END_DECLS
