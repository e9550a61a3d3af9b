/* gst-apm: confidence intervals for gst-apm compare */
#include "apm-stats-ci.h"

#include <math.h>

/* t(0.975, df) for df = 1..30 */
static const gdouble t975_small[] = {
  12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624,
  2.306004, 2.262157, 2.228139, 2.200985, 2.178813, 2.160369, 2.144787,
  2.131450, 2.119905, 2.109816, 2.100922, 2.093024, 2.085963, 2.079614,
  2.073873, 2.068658, 2.063899, 2.059539, 2.055529, 2.051831, 2.048407,
  2.045230, 2.042272
};

/* and beyond, with df = G_MAXDOUBLE standing for the normal law */
static const struct
{
  gdouble df, t;
} t975_large[] = {
  {30, 2.042272}, {40, 2.021075}, {60, 2.000298}, {120, 1.979930},
  {G_MAXDOUBLE, 1.959964},
};

gdouble
apm_stats_t975 (gdouble df)
{
  /* between table points the quantile is nearly linear in 1/df */
  if (df <= 1)
    return t975_small[0];
  if (df < 30) {
    guint k = (guint) floor (df);
    gdouble x0 = 1.0 / k, x1 = 1.0 / (k + 1), x = 1.0 / df;

    return t975_small[k - 1] + (t975_small[k] - t975_small[k - 1]) *
        (x - x0) / (x1 - x0);
  }
  for (guint i = 0; i + 1 < G_N_ELEMENTS (t975_large); i++) {
    if (df <= t975_large[i + 1].df) {
      gdouble x0 = 1.0 / t975_large[i].df, x = 1.0 / df;
      gdouble x1 = t975_large[i + 1].df == G_MAXDOUBLE ? 0 :
          1.0 / t975_large[i + 1].df;

      return t975_large[i].t + (t975_large[i + 1].t - t975_large[i].t) *
          (x - x0) / (x1 - x0);
    }
  }
  return 1.959964;
}

static void
mean_var (const gdouble * v, guint n, gdouble * mean, gdouble * var)
{
  gdouble m = 0, ss = 0;

  for (guint i = 0; i < n; i++)
    m += v[i];
  m /= n;
  for (guint i = 0; i < n; i++)
    ss += (v[i] - m) * (v[i] - m);
  *mean = m;
  *var = n > 1 ? ss / (n - 1) : 0;
}

void
apm_stats_mean_ci (const gdouble * values, guint n, gdouble * mean,
    gdouble * lo, gdouble * hi)
{
  gdouble m, var, half;

  if (n == 0) {
    *mean = *lo = *hi = NAN;
    return;
  }
  mean_var (values, n, &m, &var);
  half = n > 1 ? apm_stats_t975 (n - 1) * sqrt (var / n) : 0;
  *mean = m;
  *lo = m - half;
  *hi = m + half;
}

gboolean
apm_stats_ratio_ci (const gdouble * a, guint na, const gdouble * b,
    guint nb, gdouble * ratio, gdouble * lo, gdouble * hi)
{
  gdouble *la, *lb, ma, va, mb, vb, sa, sb, se2, df, half;

  if (na < 2 || nb < 2)
    return FALSE;
  for (guint i = 0; i < na; i++)
    if (!(a[i] > 0) || !isfinite (a[i]))
      return FALSE;
  for (guint i = 0; i < nb; i++)
    if (!(b[i] > 0) || !isfinite (b[i]))
      return FALSE;
  la = g_new (gdouble, na);
  lb = g_new (gdouble, nb);
  for (guint i = 0; i < na; i++)
    la[i] = log (a[i]);
  for (guint i = 0; i < nb; i++)
    lb[i] = log (b[i]);
  mean_var (la, na, &ma, &va);
  mean_var (lb, nb, &mb, &vb);
  g_free (la);
  g_free (lb);
  sa = va / na;
  sb = vb / nb;
  se2 = sa + sb;
  /* Welch-Satterthwaite; identical runs (no spread at all) give a point */
  df = se2 > 0 ? se2 * se2 / (sa * sa / (na - 1) + sb * sb / (nb - 1)) : 1;
  half = se2 > 0 ? apm_stats_t975 (df) * sqrt (se2) : 0;
  *ratio = exp (mb - ma);
  *lo = exp (mb - ma - half);
  *hi = exp (mb - ma + half);
  return TRUE;
}
