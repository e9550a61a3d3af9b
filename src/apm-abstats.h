/* gst-apm: statistics of A/B comparisons (pure functions, no state)
 *
 * Quantiles, the Mann-Whitney U test of two samples (processing times) and
 * the two-proportion z test (success rates), as
 * /monitoring/jobs/compare reports them.  Two-sided throughout; the
 * results match scipy.stats.mannwhitneyu (method "auto") and the pooled
 * two-proportion z test (statsmodels' proportions_ztest).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The @q quantile (0..1) of @sorted (ascending, @n > 0), interpolated
 * linearly between closest ranks (numpy's default, Hyndman-Fan type 7). */
gdouble apm_quantile_sorted (const gdouble * sorted, gsize n, gdouble q);

typedef struct
{
  gdouble u;                    /* U of the first sample */
  gdouble z;                    /* normal approximation; 0 when exact */
  gdouble p_value;              /* two-sided */
  gboolean exact;               /* from the exact distribution of U */
} ApmMannWhitney;

/* Mann-Whitney U test of @a (@na values) against @b (@nb), both > 0.
 * Exact p-value when there are no ties and either sample has at most 8
 * values (and the other at most about 790: the cost grows as the square of
 * the product); otherwise the normal approximation with tie correction and
 * continuity correction.  All values tied: p = 1. */
void apm_mann_whitney_u (const gdouble * a, gsize na, const gdouble * b,
    gsize nb, ApmMannWhitney * out);

typedef struct
{
  gdouble difference;           /* x1/n1 - x2/n2 */
  gdouble z;
  gdouble p_value;              /* two-sided */
} ApmTwoProportions;

/* Two-proportion z test, pooled variance: @x1 successes of @n1 against
 * @x2 of @n2 (n1, n2 > 0).  Equal rates with no variance (all succeeded,
 * or none): z = 0, p = 1. */
void apm_two_proportion_z (guint64 x1, guint64 n1, guint64 x2, guint64 n2,
    ApmTwoProportions * out);

/* P(Z > z) of the standard normal distribution. */
gdouble apm_normal_sf (gdouble z);

G_END_DECLS
