/* gst-apm: confidence intervals for gst-apm compare */
#include "apm-stats-ci.h"

#include <math.h>

/* Two-sided tail of Student's t: P(|T| > t) with @df degrees of freedom,
 * which is the regularised incomplete beta I_x(df/2, 1/2) at
 * x = df / (df + t^2).  Integrated numerically after w = s^(1/a), which
 * takes away the integrand's singularity at 0 when df < 2:
 * I_x(a, 1/2) = 1 / (a B(a, 1/2)) * integral over [0, x^a] of
 * (1 - s^(1/a))^(-1/2) ds.  Smooth where t is a 95 % quantile of small df
 * (x at most 0.9). */
static gdouble
t_two_sided_tail (gdouble t, gdouble df)
{
  const guint steps = 2000;     /* Simpson's rule, even */
  gdouble a = df / 2, x = df / (df + t * t), upper = pow (x, a);
  gdouble h = upper / steps, sum = 0, log_beta;

  for (guint i = 0; i <= steps; i++) {
    gdouble f = 1 / sqrt (1 - pow (i * h, 1 / a));

    sum += f * (i == 0 || i == steps ? 1 : i % 2 ? 4 : 2);
  }
  log_beta = lgamma (a) + lgamma (0.5) - lgamma (a + 0.5);
  return sum * h / 3 / a / exp (log_beta);
}

/* from 30 on, a table: the quantile is nearly linear in 1/df there, and
 * G_MAXDOUBLE stands for the normal law */
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
  df = MAX (df, 1);
  if (df < 30) {
    /* the tail falls as t grows: bisect for 0.05 (the quantile lies in
     * [1.96, 12.71] for df >= 1) */
    gdouble lo = 1.9, hi = 12.8;

    for (guint i = 0; i < 50; i++) {
      gdouble mid = (lo + hi) / 2;

      if (t_two_sided_tail (mid, df) > 0.05)
        lo = mid;
      else
        hi = mid;
    }
    return (lo + hi) / 2;
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
