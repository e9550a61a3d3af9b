/* gst-apm: statistics of A/B comparisons */
#include "apm-abstats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* above this many steps the exact distribution of U is not computed (it
 * runs on the service thread: 10 M steps are about 6 ms, 8 against 790
 * values); the normal approximation is close there anyway */
#define EXACT_MAX_WORK 10000000.0

gdouble
apm_normal_sf (gdouble z)
{
  return 0.5 * erfc (z / G_SQRT2);
}

gdouble
apm_quantile_sorted (const gdouble * sorted, gsize n, gdouble q)
{
  gdouble pos, frac;
  gsize lo;

  g_return_val_if_fail (sorted != NULL && n > 0, NAN);
  q = CLAMP (q, 0.0, 1.0);
  pos = q * (n - 1);
  lo = (gsize) floor (pos);
  if (lo >= n - 1)
    return sorted[n - 1];
  frac = pos - lo;
  return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

typedef struct
{
  gdouble value;
  guint sample;                 /* 0: a, 1: b */
} Obs;

static int
obs_cmp (const void *x, const void *y)
{
  gdouble a = ((const Obs *) x)->value, b = ((const Obs *) y)->value;

  return a < b ? -1 : a > b;
}

/* P(U >= @u) for samples of @m and @n values without ties: the number of
 * orderings with U = k follows f(m, n, k) = f(m - 1, n, k - n) + f(m, n - 1,
 * k), built up over n for every m' <= m (doubles: the counts overflow 64
 * bits long before the precision matters) */
static gdouble
exact_sf (gsize m, gsize n, gdouble u)
{
  gsize size = m * n + 1;
  gdouble **f = g_new (gdouble *, m + 1);
  gdouble total = 0, tail = 0;

  for (gsize i = 0; i <= m; i++) {
    f[i] = g_new0 (gdouble, size);
    f[i][0] = 1;                /* n' = 0: U is 0 */
  }
  /* in place: at step n', f[m' - 1] already holds n' (m' upwards) and
   * f[m'] still holds n' - 1; f[0] is 1 at U = 0 for every n' */
  for (gsize nn = 1; nn <= n; nn++)
    for (gsize i = 1; i <= m; i++)
      for (gsize k = i * nn + 1; k-- > nn;)
        f[i][k] += f[i - 1][k - nn];
  for (gsize k = 0; k < size; k++) {
    total += f[m][k];
    if (k >= u)
      tail += f[m][k];
  }
  for (gsize i = 0; i <= m; i++)
    g_free (f[i]);
  g_free (f);
  return tail / total;
}

void
apm_mann_whitney_u (const gdouble * a, gsize na, const gdouble * b,
    gsize nb, ApmMannWhitney * out)
{
  gsize n = na + nb;
  Obs *obs;
  gdouble rank_sum_a = 0, tie_term = 0, u1, u2, umax, mu, sigma;
  gboolean ties = FALSE;

  g_return_if_fail (a != NULL && b != NULL && na > 0 && nb > 0 && out);

  obs = g_new (Obs, n);
  for (gsize i = 0; i < na; i++)
    obs[i] = (Obs) { a[i], 0 };
  for (gsize i = 0; i < nb; i++)
    obs[na + i] = (Obs) { b[i], 1 };
  qsort (obs, n, sizeof (Obs), obs_cmp);
  /* average ranks (1-based) over runs of equal values */
  for (gsize i = 0; i < n;) {
    gsize j = i + 1;
    gdouble rank, t;

    while (j < n && obs[j].value == obs[i].value)
      j++;
    rank = (i + 1 + j) / 2.0;
    t = j - i;
    if (t > 1) {
      ties = TRUE;
      tie_term += t * t * t - t;
    }
    for (gsize k = i; k < j; k++)
      if (obs[k].sample == 0)
        rank_sum_a += rank;
    i = j;
  }
  g_free (obs);

  u1 = rank_sum_a - na * (na + 1) / 2.0;
  u2 = (gdouble) na * nb - u1;
  umax = MAX (u1, u2);
  out->u = u1;
  /* as scipy's method "auto"; the work grows as (min * max)^2 / 4 */
  out->exact = !ties && MIN (na, nb) <= 8
      && (gdouble) na * nb * na * nb / 4 <= EXACT_MAX_WORK;
  if (out->exact) {
    out->z = 0;
    out->p_value = MIN (1.0, 2 * exact_sf (MIN (na, nb), MAX (na, nb),
            umax));
    return;
  }
  mu = na * nb / 2.0;
  sigma = sqrt (na * nb / 12.0 * ((n + 1) - tie_term / ((gdouble) n * (n -
                  1))));
  if (!(sigma > 0)) {
    /* every value the same: nothing tells the samples apart */
    out->z = 0;
    out->p_value = 1;
    return;
  }
  out->z = (umax - mu - 0.5) / sigma;
  out->p_value = CLAMP (2 * apm_normal_sf (out->z), 0.0, 1.0);
}

void
apm_two_proportion_z (guint64 x1, guint64 n1, guint64 x2, guint64 n2,
    ApmTwoProportions * out)
{
  gdouble p1, p2, pooled, se;

  g_return_if_fail (n1 > 0 && n2 > 0 && x1 <= n1 && x2 <= n2 && out);

  p1 = (gdouble) x1 / n1;
  p2 = (gdouble) x2 / n2;
  pooled = (gdouble) (x1 + x2) / (n1 + n2);
  se = sqrt (pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2));
  out->difference = p1 - p2;
  if (!(se > 0)) {
    out->z = 0;
    out->p_value = 1;
    return;
  }
  out->z = (p1 - p2) / se;
  out->p_value = CLAMP (2 * apm_normal_sf (fabs (out->z)), 0.0, 1.0);
}
