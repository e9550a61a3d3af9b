/* gst-apm: A/B comparison of labelled jobs (/monitoring/jobs/compare) */
#include "apm-jobs-compare.h"
#include "apm-abstats.h"
#include "apm-time.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct
{
  const gchar *value;           /* borrowed from the samples */
  guint count, succeeded;
  GArray *seconds;              /* of the successful jobs, sorted */
  gdouble read_bytes, read_seconds, written_bytes, written_seconds;
} Group;

static void
group_free (Group * g)
{
  g_array_unref (g->seconds);
  g_free (g);
}

static int
double_cmp (const void *x, const void *y)
{
  gdouble a = *(const gdouble *) x, b = *(const gdouble *) y;

  return a < b ? -1 : a > b;
}

/* largest first, then by value */
static gint
group_cmp (gconstpointer x, gconstpointer y)
{
  const Group *a = *(Group * const *) x, *b = *(Group * const *) y;

  if (a->count != b->count)
    return a->count > b->count ? -1 : 1;
  return strcmp (a->value, b->value);
}

static void
set_double_or_null (JsonObject * o, const gchar * name, gboolean known,
    gdouble v)
{
  if (known && isfinite (v))
    json_object_set_double_member (o, name, v);
  else
    json_object_set_null_member (o, name);
}

static gdouble
mean_of (GArray * a)
{
  gdouble sum = 0;

  for (guint i = 0; i < a->len; i++)
    sum += g_array_index (a, gdouble, i);
  return a->len ? sum / a->len : NAN;
}

static gdouble
quantile_of (GArray * a, gdouble q)
{
  return a->len ? apm_quantile_sorted ((gdouble *) a->data, a->len, q) : NAN;
}

static JsonNode *
group_to_json (Group * g)
{
  JsonObject *o = json_object_new (), *t = json_object_new (),
      *rate = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  gboolean timed = g->seconds->len > 0;

  json_object_set_string_member (o, "value", g->value);
  json_object_set_int_member (o, "count", g->count);
  json_object_set_int_member (o, "succeeded", g->succeeded);
  json_object_set_double_member (o, "success_rate",
      (gdouble) g->succeeded / g->count);
  json_object_set_int_member (t, "count", g->seconds->len);
  set_double_or_null (t, "mean", timed, mean_of (g->seconds));
  set_double_or_null (t, "p50", timed, quantile_of (g->seconds, 0.5));
  set_double_or_null (t, "p95", timed, quantile_of (g->seconds, 0.95));
  json_object_set_object_member (o, "processing_seconds", t);
  set_double_or_null (rate, "read", g->read_seconds > 0,
      g->read_bytes / g->read_seconds);
  set_double_or_null (rate, "written", g->written_seconds > 0,
      g->written_bytes / g->written_seconds);
  json_object_set_object_member (o, "bytes_per_second", rate);
  json_node_take_object (node, o);
  return node;
}

static JsonNode *
compare_to_json (Group * g, Group * base)
{
  JsonObject *o = json_object_new (), *t = json_object_new (),
      *s = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  gboolean timed = g->seconds->len > 0 && base->seconds->len > 0;
  ApmTwoProportions prop;

  json_object_set_string_member (o, "group", g->value);
  json_object_set_string_member (o, "baseline", base->value);

  /* times: group minus baseline; U is the group's */
  set_double_or_null (t, "difference_mean", timed, mean_of (g->seconds) -
      mean_of (base->seconds));
  set_double_or_null (t, "difference_p50", timed, quantile_of (g->seconds,
          0.5) - quantile_of (base->seconds, 0.5));
  set_double_or_null (t, "ratio_p50", timed && quantile_of (base->seconds,
          0.5) > 0, quantile_of (g->seconds, 0.5) / quantile_of (base->seconds,
          0.5));
  json_object_set_string_member (t, "test", "mann-whitney-u");
  if (timed) {
    ApmMannWhitney mw;

    apm_mann_whitney_u ((gdouble *) g->seconds->data, g->seconds->len,
        (gdouble *) base->seconds->data, base->seconds->len, &mw);
    json_object_set_string_member (t, "method", mw.exact ? "exact" :
        "normal");
    json_object_set_double_member (t, "u", mw.u);
    json_object_set_double_member (t, "z", mw.z);
    json_object_set_double_member (t, "p_value", mw.p_value);
    json_object_set_boolean_member (t, "significant",
        mw.p_value < APM_COMPARE_ALPHA);
  } else {
    /* a side without a successful job has no times to compare */
    json_object_set_null_member (t, "method");
    json_object_set_null_member (t, "u");
    json_object_set_null_member (t, "z");
    json_object_set_null_member (t, "p_value");
    json_object_set_boolean_member (t, "significant", FALSE);
  }
  json_object_set_object_member (o, "processing_seconds", t);

  apm_two_proportion_z (g->succeeded, g->count, base->succeeded, base->count,
      &prop);
  json_object_set_double_member (s, "difference", prop.difference);
  json_object_set_string_member (s, "test", "two-proportion-z");
  json_object_set_double_member (s, "z", prop.z);
  json_object_set_double_member (s, "p_value", prop.p_value);
  json_object_set_boolean_member (s, "significant",
      prop.p_value < APM_COMPARE_ALPHA);
  json_object_set_object_member (o, "success_rate", s);
  json_node_take_object (node, o);
  return node;
}

JsonNode *
apm_jobs_compare (ApmJobs * jobs, const gchar * by, gint64 since_us,
    const gchar * baseline, const gchar ** problem)
{
  guint unlabelled = 0;
  GArray *samples = apm_jobs_samples (jobs, by, since_us, &unlabelled);
  GHashTable *by_value = g_hash_table_new (g_str_hash, g_str_equal);
  GPtrArray *groups = g_ptr_array_new_with_free_func ((GDestroyNotify)
      group_free);
  JsonObject *root;
  JsonArray *jgroups, *jcompare;
  JsonNode *node;
  Group *base = NULL;
  guint omitted = 0, index = 0;

  for (guint i = 0; i < samples->len; i++) {
    ApmJobSample *s = &g_array_index (samples, ApmJobSample, i);
    Group *g = g_hash_table_lookup (by_value, s->value);

    if (!g) {
      g = g_new0 (Group, 1);
      g->value = s->value;
      g->seconds = g_array_new (FALSE, FALSE, sizeof (gdouble));
      g_hash_table_insert (by_value, (gpointer) g->value, g);
      g_ptr_array_add (groups, g);
    }
    g->count++;
    if (!s->success)
      continue;
    /* times and throughput of the jobs that did their work: a failure's
     * time says how soon it failed */
    g->succeeded++;
    g_array_append_val (g->seconds, s->processing_seconds);
    if (s->bytes_read >= 0 && s->processing_seconds > 0) {
      g->read_bytes += s->bytes_read;
      g->read_seconds += s->processing_seconds;
    }
    if (s->bytes_written >= 0 && s->processing_seconds > 0) {
      g->written_bytes += s->bytes_written;
      g->written_seconds += s->processing_seconds;
    }
  }
  g_ptr_array_sort (groups, group_cmp);
  if (baseline) {
    base = g_hash_table_lookup (by_value, baseline);
    if (!base) {
      *problem = "no finished job in the time asked has that baseline value";
      g_ptr_array_unref (groups);
      g_hash_table_destroy (by_value);
      g_array_unref (samples);
      return NULL;
    }
    /* the baseline first */
    if (g_ptr_array_find (groups, base, &index))
      g_ptr_array_steal_index (groups, index);
    g_ptr_array_insert (groups, 0, base);
  } else if (groups->len) {
    base = g_ptr_array_index (groups, 0);
  }
  if (groups->len > APM_COMPARE_MAX_GROUPS) {
    omitted = groups->len - APM_COMPARE_MAX_GROUPS;
    g_ptr_array_set_size (groups, APM_COMPARE_MAX_GROUPS);
  }

  root = json_object_new ();
  jgroups = json_array_new ();
  jcompare = json_array_new ();
  json_object_set_string_member (root, "by", by);
  if (since_us > 0) {
    gchar *text = apm_time_format (since_us);

    json_object_set_string_member (root, "since", text);
    g_free (text);
  } else {
    json_object_set_null_member (root, "since");
  }
  json_object_set_int_member (root, "jobs", samples->len);
  json_object_set_int_member (root, "unlabelled", unlabelled);
  json_object_set_double_member (root, "alpha", APM_COMPARE_ALPHA);
  if (base)
    json_object_set_string_member (root, "baseline", base->value);
  else
    json_object_set_null_member (root, "baseline");
  for (guint i = 0; i < groups->len; i++) {
    Group *g = g_ptr_array_index (groups, i);

    qsort (g->seconds->data, g->seconds->len, sizeof (gdouble), double_cmp);
  }
  for (guint i = 0; i < groups->len; i++) {
    Group *g = g_ptr_array_index (groups, i);

    json_array_add_element (jgroups, group_to_json (g));
    if (g != base)
      json_array_add_element (jcompare, compare_to_json (g, base));
  }
  json_object_set_int_member (root, "groups_omitted", omitted);
  json_object_set_array_member (root, "groups", jgroups);
  json_object_set_array_member (root, "comparisons", jcompare);
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, root);

  g_ptr_array_unref (groups);
  g_hash_table_destroy (by_value);
  g_array_unref (samples);
  return node;
}
