/* gst-apm tests: the ring of (pts, time) pairs the latency measures read
 * (gst-plugin/gstapmring.h): the newest entry at or before a PTS, found
 * near the newest end and deep in the ring alike */
#include <gst/check/gstcheck.h>
#include "gstapmring.h"

#define MS (GST_MSECOND)

/* entry i: PTS i * 10 ms, passed at 1 s + i * 10 ms + 3 ms */
static GstApmRing *
ring_with (guint size, guint max, guint n)
{
  GstApmRing *r = gst_apm_ring_new (size, max);

  for (guint i = 0; i < n; i++)
    gst_apm_ring_push (r, i * 10 * MS, GST_SECOND + i * 10 * MS + 3 * MS);
  return r;
}

static GstClockTime
passed (guint i)
{
  return GST_SECOND + i * 10 * MS + 3 * MS;
}

/* a buffer i entries behind the newest (a queue i deep) finds its own
 * entry, at every depth the ring still holds */
GST_START_TEST (test_every_depth)
{
  GstApmRing *r = ring_with (64, 64, 200);

  /* the slot next to be written is kept clear: 63 entries readable */
  for (guint back = 0; back < 63; back++) {
    guint i = 199 - back;

    fail_unless_equals_uint64 (gst_apm_ring_find (r, i * 10 * MS),
        passed (i));
    /* a PTS between two entries: the older one's */
    fail_unless_equals_uint64 (gst_apm_ring_find (r, i * 10 * MS + 4 * MS),
        passed (i));
  }
  /* newer than the newest: the newest */
  fail_unless_equals_uint64 (gst_apm_ring_find (r, 500 * 10 * MS),
      passed (199));
  gst_apm_ring_unref (r);
}

GST_END_TEST;

/* a PTS already overwritten is not found, and asks for a bigger ring; one
 * never written (before the first entry of a fresh ring) is not found */
GST_START_TEST (test_overwritten_and_unknown)
{
  GstApmRing *r = ring_with (64, 1024, 200);
  GstApmRing *fresh = ring_with (64, 64, 3);

  fail_unless_equals_uint64 (gst_apm_ring_find (r, 100 * 10 * MS),
      GST_CLOCK_TIME_NONE);
  fail_unless (r->wanted > 64 && r->wanted <= 1024, "wanted %u", r->wanted);

  /* 3 entries: each found, and nothing before the first */
  for (guint i = 0; i < 3; i++)
    fail_unless_equals_uint64 (gst_apm_ring_find (fresh, i * 10 * MS),
        passed (i));
  gst_apm_ring_reset (fresh);
  fail_unless_equals_uint64 (gst_apm_ring_find (fresh, 2 * 10 * MS),
      GST_CLOCK_TIME_NONE);
  gst_apm_ring_push (fresh, 7 * 10 * MS, passed (7));
  fail_unless_equals_uint64 (gst_apm_ring_find (fresh, 9 * 10 * MS),
      passed (7));
  fail_unless_equals_uint64 (gst_apm_ring_find (fresh, 6 * 10 * MS),
      GST_CLOCK_TIME_NONE);
  fail_unless_equals_uint64 (gst_apm_ring_find (r, GST_CLOCK_TIME_NONE),
      GST_CLOCK_TIME_NONE);
  gst_apm_ring_unref (fresh);
  gst_apm_ring_unref (r);
}

GST_END_TEST;

static Suite *
ring_suite (void)
{
  Suite *s = suite_create ("apm_ring");
  TCase *tc = tcase_create ("find");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_every_depth);
  tcase_add_test (tc, test_overwritten_and_unknown);
  return s;
}

GST_CHECK_MAIN (ring);
