/* gst-apm: trends: the tiered history (roll-up, tier choice, bounds), the
 * state file (round trip, restart, damaged files) and the trend rules
 * (change, predict) over history fed with a clock of the test's own */
#include "apmtestutil.h"
#include "apm-history.h"
#include "apm-state.h"
#include "apm-service.h"
#include "apm-alerts.h"
#include "apm-jobs.h"
#include "apm-config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#define S ((gint64) G_USEC_PER_SEC)
/* a round time, so slots line up with the test's arithmetic */
#define T0 ((gint64) 1800000000 * S)

static const ApmHistoryTier small_tiers[] = { {1, 60}, {10, 600}, {60, 3600}
};

static ApmRegistry *
registry_with (const ApmHistoryTier * tiers, guint n)
{
  ApmRegistry *r = apm_registry_new (0);

  apm_history_set_tiers (r, tiers, n);
  return r;
}

static ApmSeries *
gauge (ApmRegistry * r, const gchar * name)
{
  static const gchar *const labels[] = { "mount", NULL };
  static const gchar *const values[] = { "/data", NULL };
  ApmFamily *f = apm_registry_family (r, name, APM_METRIC_GAUGE, "test",
      labels, NULL, 0);

  apm_history_keep (r, name);
  return apm_family_series (f, values);
}

static ApmPoint *
read_tier (ApmSeries * s, guint tier, gint64 since, guint * n)
{
  return apm_history_points_tier (s, tier, since, n);
}

/* --- tiers --- */

GST_START_TEST (test_rollup_gauge)
{
  ApmRegistry *r = registry_with (small_tiers, 3);
  ApmSeries *s = gauge (r, "g");
  ApmPoint *p;
  guint n;

  /* 0..29 over 30 s: 1 s points, and three 10 s points */
  for (gint i = 0; i < 30; i++) {
    apm_gauge_set (s, i);
    apm_history_sample (r, T0 + i * S);
  }
  p = read_tier (s, 0, 0, &n);
  fail_unless_equals_int (n, 30);
  fail_unless_equals_int64 (p[0].t_us, T0);
  fail_unless_equals_float (p[29].v, 29);
  g_free (p);

  p = read_tier (s, 1, 0, &n);
  fail_unless_equals_int (n, 3);
  fail_unless_equals_int64 (p[1].t_us, T0 + 10 * S);
  fail_unless_equals_float (p[1].min, 10);
  fail_unless_equals_float (p[1].max, 19);
  fail_unless_equals_float (p[1].avg, 14.5);
  fail_unless_equals_float (p[1].v, 19);
  g_free (p);

  p = read_tier (s, 2, 0, &n);
  fail_unless_equals_int (n, 1);
  fail_unless_equals_float (p[0].min, 0);
  fail_unless_equals_float (p[0].max, 29);
  fail_unless_equals_float (p[0].avg, 14.5);
  g_free (p);

  /* the 1 s tier keeps 60 points: after 200 s, the last 60 and the
   * second being filled */
  for (gint i = 30; i < 200; i++) {
    apm_gauge_set (s, i);
    apm_history_sample (r, T0 + i * S);
  }
  p = read_tier (s, 0, 0, &n);
  fail_unless_equals_int (n, 61);
  fail_unless_equals_float (p[0].v, 139);
  fail_unless_equals_float (p[60].v, 199);
  g_free (p);

  /* a gap of 20 s: no points there, and the others stay */
  apm_gauge_set (s, 500);
  apm_history_sample (r, T0 + 220 * S);
  p = read_tier (s, 0, T0 + 195 * S, &n);
  fail_unless_equals_int (n, 6);
  fail_unless_equals_float (p[4].v, 199);
  fail_unless_equals_int64 (p[5].t_us, T0 + 220 * S);
  g_free (p);

  apm_series_unref (s);
  apm_registry_free (r);
}

GST_END_TEST;

GST_START_TEST (test_rollup_counter_histogram)
{
  ApmRegistry *r = registry_with (small_tiers, 3);
  ApmFamily *fc = apm_registry_family (r, "c_total", APM_METRIC_COUNTER,
      "test", NULL, NULL, 0);
  ApmFamily *fh = apm_registry_family (r, "h_seconds", APM_METRIC_HISTOGRAM,
      "test", NULL, apm_seconds_buckets, apm_n_seconds_buckets);
  ApmSeries *c = apm_family_series (fc, NULL);
  ApmSeries *h = apm_family_series (fh, NULL);
  ApmPoint *p;
  guint n;

  apm_history_keep (r, "c_total");
  apm_history_keep (r, "h_seconds");
  /* +5 a second; 100 observations of 1 ms a second, then of 100 ms */
  for (gint i = 0; i < 40; i++) {
    apm_counter_add_int (c, 5);
    for (gint k = 0; k < 100; k++)
      apm_histogram_observe (h, i < 20 ? 0.001 : 0.1);
    apm_history_sample (r, T0 + i * S);
  }
  p = read_tier (c, 1, 0, &n);
  fail_unless_equals_int (n, 4);
  /* the first sample has no increase before it: 45 in the first 10 s */
  fail_unless_equals_float (p[0].delta, 45);
  fail_unless_equals_float (p[1].delta, 50);
  fail_unless_equals_float (p[3].v, 200);       /* the running total */
  fail_unless_equals_float (p[2].v, 150);
  g_free (p);

  p = read_tier (h, 1, 0, &n);
  fail_unless_equals_int (n, 4);
  fail_unless_equals_float (p[1].delta, 1000);
  fail_unless_equals_float (p[3].v, 4000);
  fail_unless (fabs (p[3].sum - (2000 * 0.001 + 2000 * 0.1)) < 1e-6);
  /* p95 of 1 ms observations within their bucket (0.5 ms, 1 ms] */
  fail_unless (p[1].avg > 0.0005 && p[1].avg <= 0.001, "p95 %g", p[1].avg);
  fail_unless (p[3].avg > 0.05 && p[3].avg <= 0.1, "p95 %g", p[3].avg);
  g_free (p);

  apm_series_unref (c);
  apm_series_unref (h);
  apm_registry_free (r);
}

GST_END_TEST;

GST_START_TEST (test_pick_tier)
{
  ApmRegistry *r = apm_registry_new (0);        /* the default tiers */
  ApmHistoryTier t[APM_HISTORY_MAX_TIERS];
  GError *error = NULL;

  fail_unless_equals_int (apm_history_get_tiers (r, t), 3);
  fail_unless_equals_int (t[0].resolution_s, 1);
  fail_unless_equals_int (t[1].retention_s, 6 * 3600);
  fail_unless_equals_int (t[2].retention_s, 7 * 86400);
  fail_unless_equals_int (apm_history_pick_tier (r, 600 * S, 0), 0);
  fail_unless_equals_int (apm_history_pick_tier (r, 3600 * S, 0), 1);
  fail_unless_equals_int (apm_history_pick_tier (r, 3600 * S, 60 * S), 2);
  fail_unless_equals_int (apm_history_pick_tier (r, 600 * S, 10 * S), 1);
  fail_unless_equals_int (apm_history_pick_tier (r, 86400 * S, 60 * S), 2);
  fail_unless_equals_int (apm_history_pick_tier (r, 86400 * S, 1 * S), 2);
  fail_unless_equals_int (apm_history_pick_tier (r, 30 * 86400 * S, 0), 2);

  /* validation */
  {
    ApmHistoryTier bad1[] = { {10, 600}, {15, 6000} };
    ApmHistoryTier bad2[] = { {10, 600}, {5, 6000} };
    ApmHistoryTier bad3[] = { {10, 600}, {60, 300} };
    ApmHistoryTier bad4[] = { {0, 600} };

    fail_if (apm_history_tiers_check (bad1, 2, &error));
    fail_unless (strstr (error->message, "multiple"), "%s", error->message);
    g_clear_error (&error);
    fail_if (apm_history_tiers_check (bad2, 2, &error));
    g_clear_error (&error);
    fail_if (apm_history_tiers_check (bad3, 2, &error));
    fail_unless (strstr (error->message, "retention"), "%s", error->message);
    g_clear_error (&error);
    fail_if (apm_history_tiers_check (bad4, 1, &error));
    g_clear_error (&error);
    fail_unless (apm_history_tiers_check (small_tiers, 3, &error));
  }
  apm_registry_free (r);
}

GST_END_TEST;

/* the configuration file's tiers: checked, with the file's line */
GST_START_TEST (test_config_tiers)
{
  const gchar *good = "{\"history\": {\"tiers\": [{\"resolution\": 1, "
      "\"retention\": 900}, {\"resolution\": 30, \"retention\": 86400}], "
      "\"max_bytes\": 33554432},\n"
      "\"state_dir\": \"/tmp/x\"}";
  const gchar *bad = "{\n\"history\": {\"tiers\": [{\"resolution\": 1, "
      "\"retention\": 900},\n {\"resolution\": 45, \"retention\": 86400}, "
      "{\"resolution\": 60, \"retention\": 604800}]}}";
  const gchar *bad_rule = "{\"rules\": [{\"name\": \"x\", \"metric\": \"m\","
      " \"aggregation\": \"avg\", \"horizon\": 60, \"threshold\": 1}]}";
  const gchar *good_rule = "{\"rules\": [{\"name\": \"x\", \"metric\": \"m\","
      " \"aggregation\": \"change\", \"window\": 300, \"baseline\": 3600, "
      "\"op\": \">=\", \"threshold\": 50}, {\"name\": \"y\", \"metric\": "
      "\"m\", \"aggregation\": \"predict\", \"window\": 300, \"horizon\": "
      "21600, \"op\": \"<\", \"threshold\": 0}]}";
  GError *error = NULL;

  fail_unless (apm_config_check_data ("c.json", good, strlen (good), &error));
  fail_unless (apm_config_check_data ("c.json", good_rule,
          strlen (good_rule), &error));
  fail_if (apm_config_check_data ("c.json", bad, strlen (bad), &error));
  fail_unless (strstr (error->message, "c.json:2:") &&
      strstr (error->message, "multiple of the previous"), "%s",
      error->message);
  g_clear_error (&error);
  fail_if (apm_config_check_data ("c.json", bad_rule, strlen (bad_rule),
          &error));
  fail_unless (strstr (error->message, "horizon"), "%s", error->message);
  g_clear_error (&error);
}

GST_END_TEST;

GST_START_TEST (test_json_step)
{
  ApmRegistry *r = apm_registry_new (0);
  ApmSeries *s = gauge (r, "g");
  gint64 now = g_get_real_time () / S * S;
  JsonNode *doc;
  JsonObject *o;
  JsonArray *points;

  for (gint i = 0; i < 1200; i++) {
    apm_gauge_set (s, i % 60);
    apm_history_sample (r, now - (1200 - i) * S);
  }
  /* an hour in 60 s steps: the 1 min tier */
  doc = apm_history_to_json (r, "g", now - 3600 * S, 60 * S, NULL);
  o = json_node_get_object (doc);
  fail_unless_equals_int (json_object_get_int_member (o,
          "resolution_seconds"), 60);
  points = json_array_get_array_element (json_object_get_array_member
      (json_array_get_object_element (json_object_get_array_member (o,
                  "series"), 0), "points"), 5);
  /* [t, last, min, max, mean] */
  fail_unless_equals_int (json_array_get_length (points), 5);
  fail_unless_equals_float (json_array_get_double_element (points, 2), 0);
  fail_unless_equals_float (json_array_get_double_element (points, 3), 59);
  json_node_unref (doc);
  /* ten minutes in 30 s steps: the 10 s tier, merged */
  doc = apm_history_to_json (r, "g", now - 600 * S, 30 * S, NULL);
  o = json_node_get_object (doc);
  fail_unless_equals_int (json_object_get_int_member (o,
          "resolution_seconds"), 10);
  fail_unless_equals_float (json_object_get_double_member (o,
          "step_seconds"), 30);
  points = json_object_get_array_member (json_array_get_object_element
      (json_object_get_array_member (o, "series"), 0), "points");
  fail_unless (json_array_get_length (points) >= 20 &&
      json_array_get_length (points) <= 21, "%u",
      json_array_get_length (points));
  json_node_unref (doc);
  apm_series_unref (s);
  apm_registry_free (r);
}

GST_END_TEST;

/* what memory a week at the default tiers costs per gauge, counter and
 * histogram series (printed for the README) */
GST_START_TEST (test_memory_bounded)
{
  ApmRegistry *r = apm_registry_new (0);
  ApmSeries *s = gauge (r, "g");
  JsonNode *tiers;
  JsonArray *arr;
  gint64 total = 0;

  /* 8 days at one sample a minute fill the 1 min tier; the others fill at
   * their own size after their retention */
  for (gint64 t = 0; t < 8 * 86400; t += 60) {
    apm_gauge_set (s, t);
    apm_history_sample (r, T0 + t * S);
  }
  for (gint64 t = 8 * 86400; t < 8 * 86400 + 6 * 3600 + 60; t++) {
    apm_gauge_set (s, t);
    apm_history_sample (r, T0 + t * S);
  }
  tiers = apm_history_tiers_json (r);
  arr = json_node_get_array (tiers);
  for (guint i = 0; i < json_array_get_length (arr); i++) {
    JsonObject *o = json_array_get_object_element (arr, i);
    gint64 bytes = json_object_get_int_member (o, "bytes");

    total += bytes;
    GST_INFO ("tier %" G_GINT64_FORMAT " s: %" G_GINT64_FORMAT " bytes",
        json_object_get_int_member (o, "resolution_seconds"), bytes);
  }
  g_printerr ("history of one gauge at the default tiers, full: %"
      G_GINT64_FORMAT " bytes\n", total);
  /* 900 x 4 + 2160 x 16 + 10080 x 16 bytes of points, and the rings */
  fail_unless (total < 900 * 4 + 2160 * 16 + 10080 * 16 + 1024, "%"
      G_GINT64_FORMAT, total);
  json_node_unref (tiers);
  apm_series_unref (s);
  apm_registry_free (r);
}

GST_END_TEST;

/* --- the state file --- */

static gboolean
flag_condition (gpointer user_data, gdouble * value)
{
  *value = 1;
  return *(gboolean *) user_data;
}

/* a registry with a kept gauge, alerts with one resolved, jobs with two
 * finished */
typedef struct
{
  ApmRegistry *reg;
  ApmAlerts *alerts;
  ApmJobs *jobs;
  ApmSeries *s;
  gboolean holds;
} World;

/* the state file keeps what is recent: the worlds sample ten minutes ago
 * (T0 is a fixed date, which the restore would drop as too old once it has
 * passed, and as ahead of the clock before) */
static gint64
world_t0 (void)
{
  return (g_get_real_time () / S / 60 - 10) * 60 * S;
}

static void
world_init (World * w, gboolean fill)
{
  gint64 t0 = world_t0 ();

  w->reg = registry_with (small_tiers, 3);
  w->alerts = apm_alerts_new (w->reg, 100);
  w->jobs = apm_jobs_new (100, NULL);
  w->s = gauge (w->reg, "g");
  if (!fill)
    return;
  for (gint i = 0; i < 30; i++) {
    apm_gauge_set (w->s, i * 2);
    apm_history_sample (w->reg, t0 + i * S);
  }
  apm_alerts_add_rule (w->alerts, apm_alert_rule_new_func ("flag",
          flag_condition, &w->holds, NULL));
  w->holds = TRUE;
  apm_alerts_evaluate (w->alerts, t0);
  w->holds = FALSE;
  apm_alerts_evaluate (w->alerts, t0 + S);
  g_free (apm_jobs_start (w->jobs, "job-a", "p"));
  apm_jobs_complete (w->jobs, "job-a", "success", NULL);
  g_free (apm_jobs_start (w->jobs, "job-b", "p"));
  apm_jobs_complete (w->jobs, "job-b", "failed", "boom");
}

static void
world_clear (World * w)
{
  apm_series_unref (w->s);
  apm_alerts_free (w->alerts);
  apm_jobs_free (w->jobs);
  apm_registry_free (w->reg);
}

GST_START_TEST (test_state_round_trip)
{
  World a = { 0 }, b = { 0 };
  GBytes *bytes;
  GError *error = NULL;
  ApmPoint *pa, *pb;
  guint na, nb;
  JsonNode *doc;
  JsonArray *arr;

  world_init (&a, TRUE);
  bytes = apm_state_encode (a.reg, a.alerts, a.jobs);
  world_init (&b, FALSE);
  /* the series in @b exists already: it takes its history at its next
   * sample */
  fail_unless (apm_state_decode (g_bytes_get_data (bytes, NULL),
          g_bytes_get_size (bytes), b.reg, b.alerts, b.jobs, &error),
      "%s", error ? error->message : "");
  fail_unless_equals_int (apm_history_n_restored (b.reg), 1);
  apm_gauge_set (b.s, 100);
  apm_history_sample (b.reg, world_t0 () + 40 * S);
  fail_unless_equals_int (apm_history_n_restored (b.reg), 0);
  for (guint tier = 0; tier < 3; tier++) {
    pa = read_tier (a.s, tier, 0, &na);
    pb = read_tier (b.s, tier, 0, &nb);
    /* the same points, then the new one */
    fail_unless (nb >= na, "tier %u: %u < %u", tier, nb, na);
    for (guint i = 0; i < na; i++) {
      fail_unless_equals_int64 (pa[i].t_us, pb[i].t_us);
      fail_unless_equals_float (pa[i].v, pb[i].v);
      if (tier)
        fail_unless_equals_float (pa[i].avg, pb[i].avg);
    }
    g_free (pa);
    g_free (pb);
  }
  pb = read_tier (b.s, 0, 0, &nb);
  fail_unless_equals_float (pb[nb - 1].v, 100);
  g_free (pb);

  doc = apm_alerts_history_json (b.alerts);
  arr = json_object_get_array_member (json_node_get_object (doc), "alerts");
  fail_unless_equals_int (json_array_get_length (arr), 1);
  fail_unless_equals_string (json_object_get_string_member
      (json_array_get_object_element (arr, 0), "rule"), "flag");
  fail_unless_equals_string (json_object_get_string_member
      (json_array_get_object_element (arr, 0), "resolved_by"), "auto");
  json_node_unref (doc);
  doc = apm_jobs_to_json (b.jobs, 0);
  arr = json_object_get_array_member (json_node_get_object (doc), "finished");
  fail_unless_equals_int (json_array_get_length (arr), 2);
  /* newest first, as before */
  fail_unless_equals_string (json_object_get_string_member
      (json_array_get_object_element (arr, 0), "job_id"), "job-b");
  fail_unless_equals_string (json_object_get_string_member
      (json_array_get_object_element (arr, 0), "error"), "boom");
  json_node_unref (doc);

  g_bytes_unref (bytes);
  world_clear (&a);
  world_clear (&b);
}

GST_END_TEST;

/* a history saved while the clock was hours ahead is not restored: every
 * new point would look like a step back in time and be dropped */
GST_START_TEST (test_state_from_the_future)
{
  World a = { 0 }, b = { 0 };
  GBytes *bytes;
  GError *error = NULL;
  gint64 ahead = world_t0 () + 3 * 3600 * S;

  world_init (&a, FALSE);
  for (gint i = 0; i < 10; i++) {
    apm_gauge_set (a.s, i);
    apm_history_sample (a.reg, ahead + i * S);
  }
  bytes = apm_state_encode (a.reg, a.alerts, a.jobs);
  world_init (&b, FALSE);
  fail_unless (apm_state_decode (g_bytes_get_data (bytes, NULL),
          g_bytes_get_size (bytes), b.reg, b.alerts, b.jobs, &error),
      "%s", error ? error->message : "");
  fail_unless_equals_int (apm_history_n_restored (b.reg), 0);
  g_bytes_unref (bytes);
  world_clear (&a);
  world_clear (&b);
}

GST_END_TEST;

/* damaged in every way we can think of, and at random: reported, never a
 * crash, nothing restored */
GST_START_TEST (test_state_damaged)
{
  World a = { 0 }, b = { 0 };
  GBytes *bytes;
  const guint8 *data;
  gsize len;
  guint8 *copy;
  GError *error = NULL;
  GRand *rand = g_rand_new_with_seed (1234);

  world_init (&a, TRUE);
  world_init (&b, FALSE);
  bytes = apm_state_encode (a.reg, a.alerts, a.jobs);
  data = g_bytes_get_data (bytes, &len);
  copy = g_memdup2 (data, len);

  /* foreign */
  fail_if (apm_state_decode ((const guint8 *) "{\"json\": true}", 14,
          b.reg, b.alerts, b.jobs, &error));
  fail_unless (strstr (error->message, "not a gst-apm state file"), "%s",
      error->message);
  g_clear_error (&error);
  /* another version */
  copy[8] = 99;
  fail_if (apm_state_decode (copy, len, b.reg, b.alerts, b.jobs, &error));
  fail_unless (strstr (error->message, "version 99"), "%s", error->message);
  g_clear_error (&error);
  copy[8] = data[8];
  /* truncated anywhere */
  for (gsize cut = 0; cut < len; cut += 1 + cut / 7) {
    fail_if (apm_state_decode (copy, cut, b.reg, b.alerts, b.jobs, &error));
    g_clear_error (&error);
  }
  /* one flipped byte anywhere */
  for (guint i = 0; i < 500; i++) {
    gsize at = g_rand_int_range (rand, 0, len);

    copy[at] ^= 1 << g_rand_int_range (rand, 0, 8);
    fail_if (apm_state_decode (copy, len, b.reg, b.alerts, b.jobs, &error),
        "a flip at %" G_GSIZE_FORMAT " went unnoticed", at);
    g_clear_error (&error);
    memcpy (copy, data, len);
  }
  fail_unless_equals_int (apm_history_n_restored (b.reg), 0);
  g_free (copy);
  g_bytes_unref (bytes);

  /* past the checksum: the history section alone, mangled, must be read
   * safely too (a bug that wrote garbage with a right checksum) */
  bytes = apm_history_save (a.reg);
  data = g_bytes_get_data (bytes, &len);
  copy = g_memdup2 (data, len);
  for (guint i = 0; i < 2000; i++) {
    gsize at = g_rand_int_range (rand, 0, len);
    gsize cut = i % 3 == 0 ? (gsize) g_rand_int_range (rand, 0, len) : len;

    copy[at] = g_rand_int_range (rand, 0, 256);
    apm_history_restore (b.reg, copy, cut, NULL);
    memcpy (copy, data, len);
  }
  g_free (copy);
  g_bytes_unref (bytes);
  g_rand_free (rand);
  world_clear (&a);
  world_clear (&b);
}

GST_END_TEST;

GST_START_TEST (test_state_file_set_aside)
{
  gchar *dir = g_dir_make_tmp ("apm-trends-XXXXXX", NULL);
  gchar *path = g_build_filename (dir, APM_STATE_FILE, NULL);
  gchar *problem = NULL;
  World a = { 0 }, b = { 0 };
  GBytes *bytes;
  GError *error = NULL;
  GDir *d;
  const gchar *name;
  guint n_aside = 0;

  world_init (&a, TRUE);
  world_init (&b, FALSE);
  /* no file: nothing to say */
  fail_if (apm_state_load_file (path, b.reg, b.alerts, b.jobs, &problem));
  fail_unless (problem == NULL);
  /* a good file is read */
  bytes = apm_state_encode (a.reg, a.alerts, a.jobs);
  fail_unless (apm_state_write_file (path, bytes, &error));
  fail_unless (apm_state_load_file (path, b.reg, NULL, NULL, &problem));
  fail_unless (problem == NULL);
  /* a truncated one is set aside, named in the problem */
  fail_unless (g_file_set_contents (path, g_bytes_get_data (bytes, NULL),
          g_bytes_get_size (bytes) / 2, NULL));
  fail_if (apm_state_load_file (path, b.reg, b.alerts, b.jobs, &problem));
  fail_unless (problem && strstr (problem, ".corrupt-"), "%s", problem);
  fail_unless (!g_file_test (path, G_FILE_TEST_EXISTS));
  g_free (problem);
  d = g_dir_open (dir, 0, NULL);
  while ((name = g_dir_read_name (d))) {
    gchar *full = g_build_filename (dir, name, NULL);

    n_aside += strstr (name, APM_STATE_FILE ".corrupt-") != NULL;
    g_unlink (full);
    g_free (full);
  }
  g_dir_close (d);
  fail_unless_equals_int (n_aside, 1);
  g_rmdir (dir);
  g_bytes_unref (bytes);
  g_free (path);
  g_free (dir);
  world_clear (&a);
  world_clear (&b);
}

GST_END_TEST;

/* a real restart: the service stops (writing its state) and a new one
 * starts with the same state dir: the history of a series, the alert
 * history and the finished jobs are back, over HTTP */
static gboolean
has_points (JsonNode * doc, gpointer user_data)
{
  JsonArray *series = json_object_get_array_member (json_node_get_object
      (doc), "series");

  return json_array_get_length (series) > 0 &&
      json_array_get_length (json_object_get_array_member
      (json_array_get_object_element (series, 0), "points")) >=
      GPOINTER_TO_UINT (user_data);
}

static gchar *
start_service_in (const gchar * dir)
{
  ApmServiceConfig config = APM_SERVICE_CONFIG_INIT;
  ApmService *service = apm_service_get_default ();
  GError *error = NULL;

  config.port = 0;
  config.quiet = TRUE;
  config.state_dir = g_strdup (dir);
  fail_unless (apm_service_configure (service, &config, NULL));
  apm_service_config_clear (&config);
  fail_unless (apm_service_ensure_started (service, &error));
  return apm_service_get_url (service);
}

GST_START_TEST (test_restart_keeps_state)
{
  gchar *dir = g_dir_make_tmp ("apm-trends-XXXXXX", NULL);
  SoupSession *session = apm_test_session_new ();
  ApmService *service;
  ApmFamily *f;
  ApmSeries *s;
  gchar *url, *path;
  JsonNode *doc;
  JsonArray *points;
  JsonObject *state;
  gdouble first_t;
  gboolean holds = TRUE;

  apm_service_shutdown ();
  url = start_service_in (dir);
  service = apm_service_get_default ();
  f = apm_registry_family (apm_service_get_registry (service),
      "trend_level", APM_METRIC_GAUGE, "test", NULL, NULL, 0);
  s = apm_family_series (f, NULL);
  apm_gauge_set (s, 7);
  /* asking for it keeps its history; a few seconds of points */
  doc = apm_test_wait_json (session, url, "/monitoring/metrics/trend_level",
      has_points, GUINT_TO_POINTER (3), APM_TEST_SCALED (10 * S));
  points = json_object_get_array_member (json_array_get_object_element
      (json_object_get_array_member (json_node_get_object (doc), "series"),
          0), "points");
  fail_unless (json_array_get_length (points) >= 3);
  first_t = json_array_get_double_element (json_array_get_array_element
      (points, 0), 0);
  json_node_unref (doc);
  apm_series_unref (s);
  apm_alerts_add_rule (apm_service_get_alerts (service),
      apm_alert_rule_new_func ("restart_flag", flag_condition, &holds, NULL));
  apm_alerts_evaluate (apm_service_get_alerts (service), g_get_real_time ());
  holds = FALSE;
  apm_alerts_evaluate (apm_service_get_alerts (service), g_get_real_time ());
  g_free (apm_jobs_start (apm_service_get_jobs (service), "before-restart",
          NULL));
  apm_jobs_complete (apm_service_get_jobs (service), "before-restart",
      "success", NULL);
  g_free (url);

  /* stop: the state is written */
  apm_service_shutdown ();
  path = g_build_filename (dir, APM_STATE_FILE, NULL);
  fail_unless (g_file_test (path, G_FILE_TEST_IS_REGULAR));

  url = start_service_in (dir);
  service = apm_service_get_default ();
  /* the series comes back (its pipeline runs again) and takes its past */
  f = apm_registry_family (apm_service_get_registry (service),
      "trend_level", APM_METRIC_GAUGE, "test", NULL, NULL, 0);
  s = apm_family_series (f, NULL);
  apm_gauge_set (s, 8);
  doc = apm_test_wait_json (session, url, "/monitoring/metrics/trend_level",
      has_points, GUINT_TO_POINTER (5), APM_TEST_SCALED (10 * S));
  points = json_object_get_array_member (json_array_get_object_element
      (json_object_get_array_member (json_node_get_object (doc), "series"),
          0), "points");
  fail_unless (json_array_get_length (points) >= 5);
  fail_unless_equals_float (json_array_get_double_element
      (json_array_get_array_element (points, 0), 0), first_t);
  fail_unless_equals_float (json_array_get_double_element
      (json_array_get_array_element (points, 0), 1), 7);
  fail_unless_equals_float (json_array_get_double_element
      (json_array_get_array_element (points,
              json_array_get_length (points) - 1), 1), 8);
  json_node_unref (doc);
  apm_series_unref (s);

  doc = apm_test_http_json (session, "GET", url,
      "/monitoring/alerts/history", 200);
  fail_unless (apm_test_find_alert (doc, "restart_flag", NULL, NULL));
  json_node_unref (doc);
  doc = apm_test_http_json (session, "GET", url,
      "/monitoring/jobs/before-restart", 200);
  fail_unless_equals_string (json_object_get_string_member
      (json_node_get_object (doc), "status"), "success");
  json_node_unref (doc);
  doc = apm_test_http_json (session, "GET", url, "/monitoring/status", 200);
  {
    JsonObject *svc = apm_test_member_object (json_node_get_object (doc),
        "service");
    JsonArray *tiers = json_object_get_array_member
        (apm_test_member_object (svc, "history"), "tiers");

    fail_unless_equals_int (json_array_get_length (tiers), 3);
    fail_unless_equals_int (apm_test_member_int
        (json_array_get_object_element (tiers, 2), "resolution_seconds"), 60);
    fail_unless (apm_test_member_int (json_array_get_object_element (tiers,
                0), "bytes") > 0);
    state = apm_test_member_object (svc, "state");
    fail_unless (json_object_get_boolean_member (state, "active"));
    fail_unless_equals_int (apm_test_member_int (apm_test_member_object
            (state, "restored"), "jobs"), 1);
  }
  json_node_unref (doc);
  g_free (url);

  apm_service_shutdown ();
  {
    GDir *d = g_dir_open (dir, 0, NULL);
    const gchar *name;

    while ((name = g_dir_read_name (d))) {
      gchar *full = g_build_filename (dir, name, NULL);

      g_unlink (full);
      g_free (full);
    }
    g_dir_close (d);
  }
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
  g_object_unref (session);
}

GST_END_TEST;

/* --- trend rules --- */

static JsonObject *
active_alert (ApmAlerts * al, const gchar * rule)
{
  JsonNode *doc = apm_alerts_active_json (al, FALSE);
  JsonObject *a = apm_test_find_alert (doc, rule, NULL, NULL);

  if (a)
    json_object_ref (a);
  json_node_unref (doc);
  return a;
}

GST_START_TEST (test_rule_predict)
{
  ApmRegistry *r = apm_registry_new (0);
  ApmAlerts *al = apm_alerts_new (r, 100);
  ApmSeries *s = gauge (r, "apm_filesystem_avail_bytes");
  ApmAlertRule *rule;
  JsonObject *a;
  gint64 t;

  rule = apm_alert_rule_new_expr_full ("disk_filling",
      "apm_filesystem_avail_bytes", APM_AGG_PREDICT, 600, APM_CMP_LT, 0, 0,
      APM_SEVERITY_WARNING, "Disk {{mount}} full in {{eta}}");
  apm_alert_rule_set_horizon (rule, 6 * 3600);
  apm_alerts_add_rule (al, rule);

  /* 100 GB falling by 10 MB/s: empty in 10,000 s (2.8 h), within 6 h */
  for (t = 0; t < 600; t++) {
    apm_gauge_set (s, 100e9 - 10e6 * t);
    apm_history_sample (r, T0 + t * S);
  }
  apm_alerts_evaluate (al, T0 + 599 * S);
  a = active_alert (al, "disk_filling");
  fail_unless (a != NULL, "no alert");
  /* the line at 6 h ahead: 100e9 - 10e6 * (599 + 21600) */
  fail_unless (fabs (json_object_get_double_member (a, "value") -
          (100e9 - 10e6 * (599 + 21600))) < 1e8, "%g",
      json_object_get_double_member (a, "value"));
  fail_unless_equals_string (json_object_get_string_member (a, "message"),
      "Disk /data full in 3 h");
  json_object_unref (a);

  /* falling by 1 MB/s from where it is: empty in ~26 h, not within 6 h */
  for (; t < 1300; t++) {
    apm_gauge_set (s, 94e9 - 1e6 * (t - 600));
    apm_history_sample (r, T0 + t * S);
  }
  apm_alerts_evaluate (al, T0 + (t - 1) * S);
  a = active_alert (al, "disk_filling");
  fail_unless (a == NULL, "still %s", a ? json_object_get_string_member (a,
          "message") : "");

  /* too little history: no verdict */
  {
    ApmSeries *s2 = gauge (r, "fresh");

    rule = apm_alert_rule_new_expr ("fresh", "fresh", APM_AGG_PREDICT, 600,
        APM_CMP_LT, 0);
    apm_alert_rule_set_horizon (rule, 3600);
    apm_alerts_add_rule (al, rule);
    for (gint i = 0; i < 10; i++) {
      apm_gauge_set (s2, 1000 - i * 100);
      apm_history_sample (r, T0 + (t + i) * S);
    }
    apm_alerts_evaluate (al, T0 + (t + 9) * S);
    fail_unless (active_alert (al, "fresh") == NULL);
    apm_series_unref (s2);
  }
  apm_series_unref (s);
  apm_alerts_free (al);
  apm_registry_free (r);
}

GST_END_TEST;

GST_START_TEST (test_rule_change)
{
  static const gchar *const labels[] = { "pipeline", "source", "sink", NULL };
  static const gchar *const values[] = { "p", "src", "out", NULL };
  ApmRegistry *r = apm_registry_new (0);
  ApmAlerts *al = apm_alerts_new (r, 100);
  ApmFamily *f = apm_registry_family (r, "apm_pipeline_latency_seconds",
      APM_METRIC_HISTOGRAM, "test", labels, apm_seconds_buckets,
      apm_n_seconds_buckets);
  ApmSeries *s = apm_family_series (f, values);
  ApmAlertRule *rule;
  JsonObject *a;
  gint64 t;

  rule = apm_alert_rule_new_expr_full ("latency_regression",
      "apm_pipeline_latency_seconds", APM_AGG_CHANGE, 300, APM_CMP_GE, 50, 0,
      APM_SEVERITY_WARNING, "p95 latency {{source}} -> {{sink}} up "
      "{{value}} % against the last {{baseline}}");
  apm_alert_rule_set_baseline (rule, 3600);
  apm_alerts_add_rule (al, rule);
  apm_history_keep (r, "apm_pipeline_latency_seconds");

  /* an hour of 20 ms, then 5 min of 40 ms */
  for (t = 0; t < 3600 + 300; t++) {
    for (gint k = 0; k < 50; k++)
      apm_histogram_observe (s, t < 3600 ? 0.02 : 0.04);
    apm_history_sample (r, T0 + t * S);
  }
  apm_alerts_evaluate (al, T0 + t * S);
  a = active_alert (al, "latency_regression");
  fail_unless (a != NULL, "no alert");
  /* p95 in (10, 25] ms interpolated: 24.25 ms; in (25, 50] ms: 48.75 ms */
  fail_unless (fabs (json_object_get_double_member (a, "value") -
          (48.75 / 24.25 - 1) * 100) < 1, "%g",
      json_object_get_double_member (a, "value"));
  fail_unless_equals_string (json_object_get_string_member (a, "message"),
      "p95 latency src -> out up 101 % against the last 60 min");
  json_object_unref (a);

  /* back to 20 ms for an hour: the window is like its baseline again */
  for (; t < 3600 + 300 + 3600; t++) {
    for (gint k = 0; k < 50; k++)
      apm_histogram_observe (s, 0.02);
    apm_history_sample (r, T0 + t * S);
  }
  apm_alerts_evaluate (al, T0 + t * S);
  fail_unless (active_alert (al, "latency_regression") == NULL);

  apm_series_unref (s);
  apm_alerts_free (al);
  apm_registry_free (r);
}

GST_END_TEST;

static Suite *
apm_trends_suite (void)
{
  Suite *s = suite_create ("apm_trends");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_rollup_gauge);
  tcase_add_test (tc, test_rollup_counter_histogram);
  tcase_add_test (tc, test_pick_tier);
  tcase_add_test (tc, test_config_tiers);
  tcase_add_test (tc, test_json_step);
  tcase_add_test (tc, test_memory_bounded);
  tcase_add_test (tc, test_state_round_trip);
  tcase_add_test (tc, test_state_from_the_future);
  tcase_add_test (tc, test_state_damaged);
  tcase_add_test (tc, test_state_file_set_aside);
  tcase_add_test (tc, test_rule_predict);
  tcase_add_test (tc, test_rule_change);
  tcase_add_test (tc, test_restart_keeps_state);
  return s;
}

int
main (int argc, char **argv)
{
  apm_test_prepare_env (NULL);
  g_setenv ("CK_FORK", "no", TRUE);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (apm_trends_suite (), "apm_trends", __FILE__);
}
