/* gst-apm compare: the runs of each variant, and each element of one
 * variant against its match in another */
#include "gst-apm-compare.h"

#include <math.h>
#include <string.h>

#include "apm-stats-ci.h"

static void
element_free (ApmCompareElement * e)
{
  g_free (e->element);
  g_free (e->factory);
  g_array_unref (e->own_per_buffer);
  g_array_unref (e->buffers);
  g_free (e);
}

ApmCompareVariant *
apm_compare_variant_new (const gchar * name, const gchar * description)
{
  ApmCompareVariant *v = g_new0 (ApmCompareVariant, 1);

  v->name = g_strdup (name);
  v->description = g_strdup (description);
  v->wall = g_array_new (FALSE, FALSE, sizeof (gdouble));
  v->cpu = g_array_new (FALSE, FALSE, sizeof (gdouble));
  v->elements = g_ptr_array_new_with_free_func ((GDestroyNotify)
      element_free);
  return v;
}

void
apm_compare_variant_free (ApmCompareVariant * v)
{
  g_free (v->name);
  g_free (v->description);
  g_array_unref (v->wall);
  g_array_unref (v->cpu);
  g_ptr_array_unref (v->elements);
  g_free (v);
}

static ApmCompareElement *
find_element (const ApmCompareVariant * v, const gchar * name)
{
  for (guint i = 0; i < v->elements->len; i++) {
    ApmCompareElement *e = v->elements->pdata[i];

    if (strcmp (e->element, name) == 0)
      return e;
  }
  return NULL;
}

static gint
by_position (gconstpointer a, gconstpointer b)
{
  const ApmCompareElement *x = *(ApmCompareElement * const *) a;
  const ApmCompareElement *y = *(ApmCompareElement * const *) b;

  /* 0: not found in the pipeline's walk (gone by the end), last */
  if (x->position != y->position)
    return (x->position ? x->position : G_MAXINT) <
        (y->position ? y->position : G_MAXINT) ? -1 : 1;
  return strcmp (x->element, y->element);
}

static gboolean
number_member (JsonObject * o, const gchar * name, gdouble * out)
{
  JsonNode *n = json_object_get_member (o, name);

  if (!n || !JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) == G_TYPE_STRING)
    return FALSE;
  *out = json_node_get_double (n);
  return isfinite (*out);
}

gboolean
apm_compare_variant_add_run (ApmCompareVariant * v, JsonNode * result,
    GError ** error)
{
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (result) ?
      json_node_get_object (result) : NULL;
  JsonArray *elements;
  gdouble wall, cpu;

  if (!o || !number_member (o, "wall_seconds", &wall)
      || !number_member (o, "cpu_seconds", &cpu)
      || !json_object_has_member (o, "elements")
      || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, "elements"))) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the run's result is incomplete");
    return FALSE;
  }
  g_array_append_val (v->wall, wall);
  g_array_append_val (v->cpu, cpu);
  v->live = json_object_get_boolean_member_with_default (o, "live", FALSE);
  elements = json_object_get_array_member (o, "elements");
  for (guint i = 0; i < json_array_get_length (elements); i++) {
    JsonObject *eo = json_array_get_object_element (elements, i);
    const gchar *name;
    ApmCompareElement *e;
    gdouble buffers, own;

    if (!eo || !(name = json_object_get_string_member_with_default (eo,
                "element", NULL)) || !number_member (eo, "buffers", &buffers)
        || !number_member (eo, "own_seconds", &own) || buffers <= 0)
      continue;
    e = find_element (v, name);
    if (!e) {
      e = g_new0 (ApmCompareElement, 1);
      e->element = g_strdup (name);
      e->factory = g_strdup (json_object_get_string_member_with_default (eo,
              "factory", ""));
      e->own_per_buffer = g_array_new (FALSE, FALSE, sizeof (gdouble));
      e->buffers = g_array_new (FALSE, FALSE, sizeof (gdouble));
      g_ptr_array_add (v->elements, e);
    }
    e->position = json_object_get_int_member_with_default (eo, "position", 0);
    own /= buffers;
    g_array_append_val (e->own_per_buffer, own);
    g_array_append_val (e->buffers, buffers);
  }
  g_ptr_array_sort (v->elements, by_position);
  return TRUE;
}

/* the @nth (0-based) element of @factory in @v, by position */
static const ApmCompareElement *
nth_of_factory (const ApmCompareVariant * v, const gchar * factory, guint nth)
{
  for (guint i = 0; i < v->elements->len; i++) {
    const ApmCompareElement *e = v->elements->pdata[i];

    if (strcmp (e->factory, factory) == 0 && nth-- == 0)
      return e;
  }
  return NULL;
}

static guint
ordinal_of (const ApmCompareVariant * v, const ApmCompareElement * e)
{
  guint n = 0;

  for (guint i = 0; i < v->elements->len && v->elements->pdata[i] != e; i++)
    if (strcmp (((ApmCompareElement *) v->elements->pdata[i])->factory,
            e->factory) == 0)
      n++;
  return n;
}

GArray *
apm_compare_ratios (const ApmCompareVariant * a, const ApmCompareVariant * b,
    gdouble noise)
{
  GArray *out = g_array_new (FALSE, TRUE, sizeof (ApmCompareRatio));

  for (guint i = 0; i < b->elements->len; i++) {
    const ApmCompareElement *eb = b->elements->pdata[i];
    const ApmCompareElement *ea = find_element (a, eb->element);
    ApmCompareRatio r;

    /* not by name: the same factory at the same rank, if that one is not
     * someone else's by name */
    if (!ea) {
      ea = nth_of_factory (a, eb->factory, ordinal_of (b, eb));
      if (ea && find_element (b, ea->element))
        ea = NULL;
    }
    if (!ea)
      continue;
    r = apm_compare_ratio_of (a, b, ea->own_per_buffer, eb->own_per_buffer,
        noise);
    r.ea = ea;
    r.eb = eb;
    r.matched_by_name = strcmp (ea->element, eb->element) == 0;
    g_array_append_val (out, r);
  }
  return out;
}

ApmCompareRatio
apm_compare_ratio_of (const ApmCompareVariant * a,
    const ApmCompareVariant * b, GArray * values_a, GArray * values_b,
    gdouble noise)
{
  ApmCompareRatio r = { a, b, NULL, NULL, TRUE, FALSE, NAN, NAN, NAN, FALSE };

  r.ok = apm_stats_ratio_ci ((const gdouble *) values_a->data, values_a->len,
      (const gdouble *) values_b->data, values_b->len, &r.ratio, &r.lo,
      &r.hi);
  /* beyond the noise band, not merely off 1 */
  r.significant = r.ok && (r.lo > 1 + noise || r.hi < 1 / (1 + noise));
  return r;
}

gchar *
apm_compare_verdict (const ApmCompareRatio * r, const gchar * what)
{
  gchar *name = what ? g_strdup (what) : r->matched_by_name ?
      g_strdup (r->ea->element) : g_strdup_printf ("%s (%s: %s)",
      r->ea->element, r->b->name, r->eb->element);
  gchar *text;

  if (!r->ok)
    text = g_strdup_printf ("%s: not compared (fewer than 2 runs with "
        "buffers on a side)", name);
  else if (r->significant && r->ratio > 1)
    text = g_strdup_printf ("%s: %s is %.2fx slower (%.2f-%.2f, "
        "significant)", name, r->b->name, r->ratio, r->lo, r->hi);
  else if (r->significant)
    text = g_strdup_printf ("%s: %s is %.2fx faster (%.2f-%.2f, "
        "significant)", name, r->b->name, 1 / r->ratio, 1 / r->hi,
        1 / r->lo);
  else
    text = g_strdup_printf ("%s: no significant difference (%s/%s %.2f, "
        "%.2f-%.2f)", name, r->b->name, r->a->name, r->ratio, r->lo, r->hi);
  g_free (name);
  return text;
}

gchar *
apm_compare_format_ci (GArray * values, gdouble scale)
{
  gdouble mean, lo, hi;

  if (!values || values->len == 0)
    return g_strdup ("-");
  apm_stats_mean_ci ((const gdouble *) values->data, values->len, &mean,
      &lo, &hi);
  /* a time is never negative, whatever a wide interval says */
  return g_strdup_printf ("%.3g (%.3g-%.3g)", mean * scale,
      MAX (lo, 0) * scale, hi * scale);
}
