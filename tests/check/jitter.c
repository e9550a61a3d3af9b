/* gst-apm tests: the arrival jitter estimator both the tracer and
 * apmonitor use (gst-plugin/gstapmjitter.h) */
#include <gst/check/gstcheck.h>
#include "gstapmjitter.h"

#define MS (GST_MSECOND)

/* buffers that arrive exactly as their timestamps advance: no jitter,
 * whatever the constant transit delay */
GST_START_TEST (test_steady_arrivals)
{
  GstApmJitter j;

  gst_apm_jitter_init (&j);
  for (guint i = 0; i < 100; i++)
    gst_apm_jitter_update (&j, 5 * GST_SECOND + i * 10 * MS, i * 10 * MS);
  fail_unless_equals_int64 (gst_apm_jitter_get_ns (&j), 0);
}

GST_END_TEST;

/* every other buffer 2 ms late: each spacing is off by 2 ms, and RFC
 * 3550's estimate J += (|D| - J) / 16 converges to 2 ms */
GST_START_TEST (test_alternating_delay)
{
  GstApmJitter j;
  gint64 prev = 0;

  gst_apm_jitter_init (&j);
  for (guint i = 0; i < 300; i++) {
    gst_apm_jitter_update (&j, i * 10 * MS + (i % 2 ? 2 * MS : 0),
        i * 10 * MS);
    /* it rises monotonically towards |D| */
    fail_unless (gst_apm_jitter_get_ns (&j) >= prev);
    prev = gst_apm_jitter_get_ns (&j);
  }
  fail_unless (prev > 2 * MS * 99 / 100 && prev <= 2 * MS,
      "jitter %" G_GINT64_FORMAT " ns, expected about 2 ms", prev);
}

GST_END_TEST;

/* the first pair after a restart (flush, gap event) is not compared with
 * the buffer before it; the estimate is kept; invalid PTS are skipped */
GST_START_TEST (test_restart_and_invalid)
{
  GstApmJitter j;
  gint64 before;

  gst_apm_jitter_init (&j);
  gst_apm_jitter_update (&j, 0, 0);
  gst_apm_jitter_update (&j, 26 * MS, 10 * MS);
  before = gst_apm_jitter_get_ns (&j);
  fail_unless_equals_int64 (before, 1 * MS);  /* |16 ms| / 16 */
  gst_apm_jitter_restart (&j);
  gst_apm_jitter_update (&j, 60 * GST_SECOND, 20 * MS);
  fail_unless_equals_int64 (gst_apm_jitter_get_ns (&j), before);
  gst_apm_jitter_update (&j, 61 * GST_SECOND, GST_CLOCK_TIME_NONE);
  fail_unless_equals_int64 (gst_apm_jitter_get_ns (&j), before);
  /* the next valid one pairs with the last valid one: on time */
  gst_apm_jitter_update (&j, 60 * GST_SECOND + 10 * MS, 30 * MS);
  fail_unless_equals_int64 (gst_apm_jitter_get_ns (&j),
      before - before / 16);
}

GST_END_TEST;

static Suite *
jitter_suite (void)
{
  Suite *s = suite_create ("apm_jitter");
  TCase *tc = tcase_create ("estimator");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_steady_arrivals);
  tcase_add_test (tc, test_alternating_delay);
  tcase_add_test (tc, test_restart_and_invalid);
  return s;
}

GST_CHECK_MAIN (jitter);
