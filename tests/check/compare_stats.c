/* gst-apm tests: the confidence intervals of gst-apm compare
 * (tools/apm-stats-ci.c), against reference values from
 * scipy.stats.t.ppf (quantiles) and a Welch interval worked out with
 * numpy/scipy */
#include <gst/check/gstcheck.h>
#include <math.h>
#include "../../tools/apm-stats-ci.h"

#define assert_close(value, expected, rel) G_STMT_START { \
    gdouble v_ = (value), e_ = (expected); \
    fail_unless (fabs (v_ - e_) <= (rel) * fabs (e_), \
        "%s = %.9g, expected %.9g", #value, v_, e_); \
  } G_STMT_END

/* integer df (any t table) and real df (Welch's): all within 1e-5 */
GST_START_TEST (test_t_quantiles)
{
  static const gdouble table[][2] = {
    {1, 12.706204736}, {1.5, 6.016663108}, {2, 4.302652730},
    {2.5, 3.574654842}, {5, 2.570581836}, {7.7, 2.321736753},
    {10, 2.228138852}, {15.3, 2.127815255}, {30, 2.042272456},
    {45, 2.014103389}, {120, 1.979930405}, {1e6, 1.959965},
  };

  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    assert_close (apm_stats_t975 (table[i][0]), table[i][1], 3e-5);
  /* below one degree of freedom: treated as one */
  assert_close (apm_stats_t975 (0.5), 12.706204736, 1e-5);
}

GST_END_TEST;

GST_START_TEST (test_mean_interval)
{
  const gdouble a[] = { 10.2, 11.0, 9.8, 10.5, 10.1 };
  gdouble mean, lo, hi;

  apm_stats_mean_ci (a, G_N_ELEMENTS (a), &mean, &lo, &hi);
  assert_close (mean, 10.32, 1e-12);
  assert_close (lo, 9.755076993, 1e-5);
  assert_close (hi, 10.884923007, 1e-5);
  /* one value: the interval is the value */
  apm_stats_mean_ci (a, 1, &mean, &lo, &hi);
  fail_unless (mean == 10.2 && lo == 10.2 && hi == 10.2);
}

GST_END_TEST;

GST_START_TEST (test_ratio_interval)
{
  const gdouble a[] = { 10.2, 11.0, 9.8, 10.5, 10.1 };
  const gdouble b[] = { 31.0, 29.5, 33.2, 30.1, 32.4, 30.8 };
  const gdouble zero[] = { 1.0, 0.0 };
  gdouble r, lo, hi, r2, lo2, hi2, scaled[G_N_ELEMENTS (a)];

  fail_unless (apm_stats_ratio_ci (a, G_N_ELEMENTS (a), b, G_N_ELEMENTS (b),
          &r, &lo, &hi));
  assert_close (r, 3.019845666, 1e-9);
  assert_close (lo, 2.842043992, 1e-5);
  assert_close (hi, 3.208770826, 1e-5);
  /* A/B is the inverse of B/A, interval included */
  fail_unless (apm_stats_ratio_ci (b, G_N_ELEMENTS (b), a, G_N_ELEMENTS (a),
          &r2, &lo2, &hi2));
  assert_close (r2, 1 / r, 1e-12);
  assert_close (lo2, 1 / hi, 1e-12);
  assert_close (hi2, 1 / lo, 1e-12);
  /* the same runs: 1, and 1 inside */
  fail_unless (apm_stats_ratio_ci (a, G_N_ELEMENTS (a), a, G_N_ELEMENTS (a),
          &r, &lo, &hi));
  assert_close (r, 1, 1e-12);
  fail_unless (lo < 1 && hi > 1);
  /* every run three times slower: exactly 3, an interval around it */
  for (guint i = 0; i < G_N_ELEMENTS (a); i++)
    scaled[i] = 3 * a[i];
  fail_unless (apm_stats_ratio_ci (a, G_N_ELEMENTS (a), scaled,
          G_N_ELEMENTS (a), &r, &lo, &hi));
  assert_close (r, 3, 1e-12);
  fail_unless (lo < 3 && hi > 3);
  /* not computable: one run, or a time of zero */
  fail_if (apm_stats_ratio_ci (a, 1, b, G_N_ELEMENTS (b), &r, &lo, &hi));
  fail_if (apm_stats_ratio_ci (a, G_N_ELEMENTS (a), zero, 2, &r, &lo, &hi));
}

GST_END_TEST;

static Suite *
compare_stats_suite (void)
{
  Suite *s = suite_create ("compare_stats");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_t_quantiles);
  tcase_add_test (tc, test_mean_interval);
  tcase_add_test (tc, test_ratio_interval);
  return s;
}

GST_CHECK_MAIN (compare_stats);
