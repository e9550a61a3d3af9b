/* gst-apm tests: the statistics of A/B comparisons (src/apm-abstats.h)
 *
 * Reference values computed offline with SciPy 1.10.1 (Debian 12's
 * python3-scipy): scipy.stats.mannwhitneyu (x, y, alternative="two-sided",
 * method="auto"), the pooled two-proportion z test as
 * 2 * scipy.stats.norm.sf (|z|), and numpy.percentile (linear). */
#include <gst/check/gstcheck.h>
#include <math.h>
#include "apm-abstats.h"

#define REL_CLOSE(got, want, rel) \
  fail_unless (fabs ((got) - (want)) <= (rel) * fabs (want) + 1e-300, \
      "%s = %.17g, expected %.17g", #got, (gdouble) (got), (gdouble) (want))

typedef struct
{
  const gchar *name;
  const gdouble *x, *y;
  gsize nx, ny;
  gdouble u, p;
  gboolean exact;
} MwuCase;

static const gdouble sep_x[] = { 1.1, 2.3, 3.5, 4.0, 5.2 };
static const gdouble sep_y[] = { 6.1, 7.4, 8.0, 9.9, 10.5, 11.2 };
static const gdouble ovl_x[] = { 19, 22, 16, 29, 24 };
static const gdouble ovl_y[] = { 20, 11, 17, 12 };
static const gdouble sl_x[] = { 0.31, 0.77, 1.52 };
static const gdouble sl_y[] = { 0.0, 0.063, 0.126, 0.189, 0.252, 0.315,
  0.378, 0.35, 0.413, 0.476, 0.539, 0.602, 0.665, 0.728, 0.7, 0.763, 0.826,
  0.889, 0.952, 1.015, 1.078, 1.05, 1.113, 1.176, 1.239, 1.302, 1.365,
  1.428, 1.4, 1.463, 1.526, 1.589, 1.652, 1.715, 1.778, 1.75, 1.813, 1.876,
  1.939, 2.002, 2.065, 2.128, 2.1, 2.163, 2.226, 2.289, 2.352, 2.415, 2.478,
  2.45
};
static const gdouble e812_x[] = { 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5 };
static const gdouble e812_y[] = { 3.1, 4.2, 5.3, 6.4, 7.6, 8.7, 9.8, 10.9,
  12.0, 13.1, 14.2, 2.2
};
static const gdouble nnt_x[] = { 1.0, 3.601, 6.202, 8.803, 2.894, 5.495,
  8.096, 2.187, 4.788, 7.389, 1.48, 4.081, 6.682, 9.283, 3.374, 5.975,
  8.576, 2.667, 5.268, 7.869
};
static const gdouble nnt_y[] = { 1.6, 3.663, 5.726, 7.789, 2.062, 4.125,
  6.188, 8.251, 2.524, 4.587, 6.65, 8.713, 2.986, 5.049, 7.112, 9.175,
  3.448, 5.511, 7.574, 1.847, 3.91, 5.973, 8.036, 2.309
};
static const gdouble tie_x[] = { 1, 2, 2, 3, 3, 3, 4, 7, 8, 9 };
static const gdouble tie_y[] = { 2, 3, 4, 4, 5, 5, 6, 6, 6, 9, 10 };
static const gdouble sh_x[] = { 0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8,
  0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2.0, 2.1, 2.2, 2.3,
  2.4, 2.5, 2.6, 2.7, 2.8, 2.9
};
static const gdouble sh_y[] = { 1.25, 1.35, 1.45, 1.55, 1.65, 1.75, 1.85,
  1.95, 2.05, 2.15, 2.25, 2.35, 2.45, 2.55, 2.65, 2.75, 2.85, 2.95, 3.05,
  3.15, 3.25, 3.35, 3.45, 3.55, 3.65, 3.75, 3.85, 3.95, 4.05, 4.15
};
static const gdouble tied_x[] = { 2.0, 2.0, 2.0 };
static const gdouble tied_y[] = { 2.0, 2.0 };

#define CASE(n, x, y, u, p, e) \
  { n, x, y, G_N_ELEMENTS (x), G_N_ELEMENTS (y), u, p, e }

static const MwuCase mwu_cases[] = {
  CASE ("exact, separated", sep_x, sep_y, 0.0, 0.004329004329004329, TRUE),
  CASE ("exact, overlapping", ovl_x, ovl_y, 17.0, 0.1111111111111111, TRUE),
  CASE ("exact, 3 against 50", sl_x, sl_y, 51.0, 0.38333475625373525, TRUE),
  CASE ("exact, 8 against 12", e812_x, e812_y, 26.0, 0.09788044772564897,
      TRUE),
  CASE ("normal, no ties", nnt_x, nnt_y, 246.0, 0.8968542272490376, FALSE),
  CASE ("normal, ties", tie_x, tie_y, 36.0, 0.18918223289541858, FALSE),
  CASE ("normal, shifted", sh_x, sh_y, 153.0, 1.167436036255161e-05, FALSE),
  CASE ("all tied", tied_x, tied_y, 3.0, 1.0, FALSE),
};

GST_START_TEST (test_mann_whitney_against_scipy)
{
  for (guint i = 0; i < G_N_ELEMENTS (mwu_cases); i++) {
    const MwuCase *c = &mwu_cases[i];
    ApmMannWhitney r;

    apm_mann_whitney_u (c->x, c->nx, c->y, c->ny, &r);
    fail_unless (r.u == c->u, "%s: U = %g, expected %g", c->name, r.u, c->u);
    fail_unless (r.exact == c->exact, "%s: exact %d", c->name, r.exact);
    fail_unless (fabs (r.p_value - c->p) <= 1e-9 * c->p + 1e-15,
        "%s: p = %.17g, expected %.17g", c->name, r.p_value, c->p);
    /* swapping the samples: U becomes nx * ny - U, p stays */
    apm_mann_whitney_u (c->y, c->ny, c->x, c->nx, &r);
    fail_unless (r.u == c->nx * c->ny - c->u, "%s swapped: U = %g",
        c->name, r.u);
    fail_unless (fabs (r.p_value - c->p) <= 1e-9 * c->p + 1e-15,
        "%s swapped: p = %.17g", c->name, r.p_value);
  }
}

GST_END_TEST;

/* the exact distribution sums to 1 and is symmetric: with a single value
 * in each sample U is 0 or 1, each with probability 1/2 */
GST_START_TEST (test_mann_whitney_tiny)
{
  const gdouble a[] = { 1.0 }, b[] = { 2.0 };
  ApmMannWhitney r;

  apm_mann_whitney_u (a, 1, b, 1, &r);
  fail_unless (r.exact);
  fail_unless_equals_float (r.u, 0);
  fail_unless_equals_float (r.p_value, 1.0);
}

GST_END_TEST;

typedef struct
{
  guint64 x1, n1, x2, n2;
  gdouble z, p;
} PropCase;

static const PropCase prop_cases[] = {
  {45, 100, 30, 100, 2.1908902300206647, 0.02845973691631055},
  {98, 100, 90, 100, 2.3819653367016524, 0.0172205183320526},
  {7, 10, 3, 12, 2.110687091920543, 0.034799216209864314},
  {500, 1000, 520, 1000, -0.894606130121643, 0.37099767373660797},
};

GST_START_TEST (test_two_proportions)
{
  ApmTwoProportions r;

  for (guint i = 0; i < G_N_ELEMENTS (prop_cases); i++) {
    const PropCase *c = &prop_cases[i];

    apm_two_proportion_z (c->x1, c->n1, c->x2, c->n2, &r);
    REL_CLOSE (r.z, c->z, 1e-12);
    REL_CLOSE (r.p_value, c->p, 1e-9);
    REL_CLOSE (r.difference, (gdouble) c->x1 / c->n1 - (gdouble) c->x2 /
        c->n2, 1e-12);
  }
  /* no variance: all succeeded on both sides, or none */
  apm_two_proportion_z (10, 10, 4, 4, &r);
  fail_unless_equals_float (r.p_value, 1.0);
  fail_unless_equals_float (r.difference, 0.0);
  apm_two_proportion_z (0, 10, 0, 4, &r);
  fail_unless_equals_float (r.p_value, 1.0);
}

GST_END_TEST;

GST_START_TEST (test_quantiles)
{
  /* numpy.percentile ([0.1, 0.3, 0.5, 0.7, 0.9, 1.5, 2.0], q) */
  const gdouble d[] = { 0.1, 0.3, 0.5, 0.7, 0.9, 1.5, 2.0 };
  const gdouble one[] = { 4.2 };

  REL_CLOSE (apm_quantile_sorted (d, 7, 0), 0.1, 1e-15);
  REL_CLOSE (apm_quantile_sorted (d, 7, 0.5), 0.7, 1e-15);
  REL_CLOSE (apm_quantile_sorted (d, 7, 0.95), 1.8499999999999996, 1e-15);
  REL_CLOSE (apm_quantile_sorted (d, 7, 1), 2.0, 1e-15);
  REL_CLOSE (apm_quantile_sorted (one, 1, 0.95), 4.2, 1e-15);
  /* the normal tail */
  REL_CLOSE (apm_normal_sf (0), 0.5, 1e-15);
  REL_CLOSE (apm_normal_sf (1.959963984540054), 0.025, 1e-12);
}

GST_END_TEST;

static Suite *
abstats_suite (void)
{
  Suite *s = suite_create ("apm_abstats");
  TCase *tc = tcase_create ("general");

  tcase_add_test (tc, test_mann_whitney_against_scipy);
  tcase_add_test (tc, test_mann_whitney_tiny);
  tcase_add_test (tc, test_two_proportions);
  tcase_add_test (tc, test_quantiles);
  suite_add_tcase (s, tc);
  return s;
}

GST_CHECK_MAIN (abstats);
