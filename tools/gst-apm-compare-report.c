/* gst-apm compare: the report, as text and as JSON */
#include "gst-apm-compare.h"

#include <math.h>
#include <string.h>

#include "apm-stats-ci.h"

static gboolean
in_ratios (GArray * ratios, const ApmCompareElement * e)
{
  for (guint k = 0; k < ratios->len; k++) {
    ApmCompareRatio *r = &g_array_index (ratios, ApmCompareRatio, k);

    if (r->ea == e || r->eb == e)
      return TRUE;
  }
  return FALSE;
}

/* the elements of @a or @b that no ratio compares: lines in @out, or
 * objects {"variant", "element"} in @b_json */
static void
append_unmatched (GString * out, JsonBuilder * b_json,
    const ApmCompareVariant * a, const ApmCompareVariant * b, GArray * ratios)
{
  const ApmCompareVariant *sides[] = { a, b };

  for (guint s = 0; s < 2; s++)
    for (guint e = 0; e < sides[s]->elements->len; e++) {
      const ApmCompareElement *el = sides[s]->elements->pdata[e];

      if (in_ratios (ratios, el))
        continue;
      if (out) {
        g_string_append_printf (out, "  %s: only in %s\n", el->element,
            sides[s]->name);
        continue;
      }
      json_builder_begin_object (b_json);
      json_builder_set_member_name (b_json, "baseline");
      json_builder_add_string_value (b_json, a->name);
      json_builder_set_member_name (b_json, "variant");
      json_builder_add_string_value (b_json, b->name);
      json_builder_set_member_name (b_json, "only_in");
      json_builder_add_string_value (b_json, sides[s]->name);
      json_builder_set_member_name (b_json, "element");
      json_builder_add_string_value (b_json, el->element);
      json_builder_end_object (b_json);
    }
}

static void
add_ci (JsonBuilder * b, const gchar * member, GArray * values)
{
  gdouble mean, lo, hi;

  apm_stats_mean_ci ((const gdouble *) values->data, values->len, &mean,
      &lo, &hi);
  json_builder_set_member_name (b, member);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "mean");
  json_builder_add_double_value (b, mean);
  json_builder_set_member_name (b, "ci95");
  json_builder_begin_array (b);
  json_builder_add_double_value (b, MAX (lo, 0));
  json_builder_add_double_value (b, hi);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "values");
  json_builder_begin_array (b);
  for (guint i = 0; i < values->len; i++)
    json_builder_add_double_value (b, g_array_index (values, gdouble, i));
  json_builder_end_array (b);
  json_builder_end_object (b);
}

static gdouble
mean_of (GArray * values)
{
  gdouble sum = 0;

  for (guint i = 0; i < values->len; i++)
    sum += g_array_index (values, gdouble, i);
  return values->len ? sum / values->len : NAN;
}

static void
add_ratio (JsonBuilder * b, const ApmCompareRatio * r, const gchar * what)
{
  gchar *verdict = apm_compare_verdict (r, what);

  json_builder_set_member_name (b, "baseline");
  json_builder_add_string_value (b, r->a->name);
  json_builder_set_member_name (b, "variant");
  json_builder_add_string_value (b, r->b->name);
  json_builder_set_member_name (b, "ratio");
  if (r->ok)
    json_builder_add_double_value (b, r->ratio);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "ci95");
  if (r->ok) {
    json_builder_begin_array (b);
    json_builder_add_double_value (b, r->lo);
    json_builder_add_double_value (b, r->hi);
    json_builder_end_array (b);
  } else {
    json_builder_add_null_value (b);
  }
  json_builder_set_member_name (b, "significant");
  json_builder_add_boolean_value (b, r->significant);
  json_builder_set_member_name (b, "verdict");
  json_builder_add_string_value (b, verdict);
  g_free (verdict);
}

gchar *
apm_compare_render_json (GPtrArray * variants, GPtrArray * ratios,
    GPtrArray * totals, guint runs, guint warmup, gdouble noise)
{
  JsonBuilder *b = json_builder_new ();
  JsonNode *root;
  gchar *text;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "runs");
  json_builder_add_int_value (b, runs);
  json_builder_set_member_name (b, "warmup");
  json_builder_add_int_value (b, warmup);
  json_builder_set_member_name (b, "noise");
  json_builder_add_double_value (b, noise);
  json_builder_set_member_name (b, "variants");
  json_builder_begin_array (b);
  for (guint i = 0; i < variants->len; i++) {
    ApmCompareVariant *v = variants->pdata[i];

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, v->name);
    json_builder_set_member_name (b, "pipeline");
    json_builder_add_string_value (b, v->description);
    json_builder_set_member_name (b, "live");
    json_builder_add_boolean_value (b, v->live);
    json_builder_set_member_name (b, "runs");
    json_builder_add_int_value (b, v->wall->len);
    add_ci (b, "wall_seconds", v->wall);
    add_ci (b, "cpu_seconds", v->cpu);
    json_builder_set_member_name (b, "elements");
    json_builder_begin_array (b);
    for (guint e = 0; e < v->elements->len; e++) {
      ApmCompareElement *el = v->elements->pdata[e];

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "element");
      json_builder_add_string_value (b, el->element);
      json_builder_set_member_name (b, "factory");
      json_builder_add_string_value (b, el->factory);
      json_builder_set_member_name (b, "position");
      json_builder_add_int_value (b, el->position);
      json_builder_set_member_name (b, "buffers");
      json_builder_add_double_value (b, mean_of (el->buffers));
      add_ci (b, "own_seconds_per_buffer", el->own_per_buffer);
      json_builder_end_object (b);
    }
    json_builder_end_array (b);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "comparisons");
  json_builder_begin_array (b);
  for (guint i = 0; i < ratios->len; i++) {
    GArray *per_variant = ratios->pdata[i];

    for (guint k = 0; k < per_variant->len; k++) {
      ApmCompareRatio *r = &g_array_index (per_variant, ApmCompareRatio, k);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "element");
      json_builder_add_string_value (b, r->ea->element);
      json_builder_set_member_name (b, "factory");
      json_builder_add_string_value (b, r->ea->factory);
      json_builder_set_member_name (b, "variant_element");
      json_builder_add_string_value (b, r->eb->element);
      json_builder_set_member_name (b, "matched_by");
      json_builder_add_string_value (b, r->matched_by_name ? "name" :
          "factory");
      add_ratio (b, r, NULL);
      json_builder_end_object (b);
    }
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "unmatched");
  json_builder_begin_array (b);
  for (guint i = 0; i < ratios->len; i++)
    append_unmatched (NULL, b, variants->pdata[0], variants->pdata[i + 1],
        ratios->pdata[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "totals");
  json_builder_begin_array (b);
  for (guint i = 0; i < totals->len; i++) {
    ApmCompareRatio *r = totals->pdata[i];
    const gchar *metric = i % 2 == 0 ? "wall_seconds" : "cpu_seconds";

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "metric");
    json_builder_add_string_value (b, metric);
    add_ratio (b, r, i % 2 == 0 ? "wall time" : "cpu time");
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  text = json_to_string (root, TRUE);
  json_node_unref (root);
  g_object_unref (b);
  return text;
}

/* the variants side by side, then each against the baseline */
gchar *
apm_compare_render_text (GPtrArray * variants, GPtrArray * ratios,
    GPtrArray * totals, guint runs, guint warmup, gdouble noise)
{
  GString *out = g_string_new (NULL);
  ApmCompareVariant *base = variants->pdata[0];
  GPtrArray *names = g_ptr_array_new ();

  g_string_append_printf (out, "gst-apm compare: %u runs of each variant, "
      "taking turns, after %u warm-up round%s\n", runs, warmup,
      warmup == 1 ? "" : "s");
  for (guint i = 0; i < variants->len; i++) {
    ApmCompareVariant *v = variants->pdata[i];

    g_string_append_printf (out, "  %s: %s%s\n", v->name, v->description,
        v->live ? "  (live: ran for the duration)" : "");
  }
  g_string_append_printf (out, "\nmean (95 %% interval)%*s", 11, "");
  for (guint i = 0; i < variants->len; i++)
    g_string_append_printf (out, "%-25s ", ((ApmCompareVariant *)
            variants->pdata[i])->name);
  g_string_append_c (out, '\n');
#define ROW(label, field, scale) G_STMT_START { \
    g_string_append_printf (out, "%-31s", label); \
    for (guint i = 0; i < variants->len; i++) { \
      gchar *cell = apm_compare_format_ci ( \
          ((ApmCompareVariant *) variants->pdata[i])->field, scale); \
      g_string_append_printf (out, "%-25s ", cell); \
      g_free (cell); \
    } \
    g_string_append_c (out, '\n'); \
  } G_STMT_END
  ROW ("wall time (s)", wall, 1);
  ROW ("cpu time (s)", cpu, 1);
#undef ROW
  g_string_append (out, "own time per buffer (us)\n");
  /* the rows: every variant's elements, the baseline's first */
  for (guint i = 0; i < variants->len; i++) {
    ApmCompareVariant *v = variants->pdata[i];

    for (guint e = 0; e < v->elements->len; e++) {
      const gchar *name = ((ApmCompareElement *) v->elements->pdata[e])->
          element;
      gboolean seen = FALSE;

      for (guint k = 0; k < names->len && !seen; k++)
        seen = strcmp (names->pdata[k], name) == 0;
      if (!seen)
        g_ptr_array_add (names, (gpointer) name);
    }
  }
  for (guint k = 0; k < names->len; k++) {
    gchar *label = g_strdup_printf ("  %s", (gchar *) names->pdata[k]);

    g_string_append_printf (out, "%-31s", label);
    g_free (label);
    for (guint i = 0; i < variants->len; i++) {
      ApmCompareVariant *v = variants->pdata[i];
      GArray *values = NULL;
      gchar *cell;

      for (guint e = 0; e < v->elements->len; e++) {
        ApmCompareElement *el = v->elements->pdata[e];

        if (strcmp (el->element, names->pdata[k]) == 0)
          values = el->own_per_buffer;
      }
      cell = apm_compare_format_ci (values, 1e6);
      g_string_append_printf (out, "%-25s ", cell);
      g_free (cell);
    }
    g_string_append_c (out, '\n');
  }
  g_ptr_array_unref (names);
  for (guint i = 0; i < ratios->len; i++) {
    GArray *per_variant = ratios->pdata[i];
    ApmCompareVariant *v = variants->pdata[i + 1];

    g_string_append_printf (out, "\n%s against %s (ratio %s/%s, 95 %% "
        "interval; significant: beyond 1 +/- %g %%)\n", v->name, base->name,
        v->name, base->name, noise * 100);
    for (guint t = 0; t < 2; t++) {
      gchar *verdict = apm_compare_verdict (totals->pdata[2 * i + t],
          t == 0 ? "wall time" : "cpu time");

      g_string_append_printf (out, "  %s\n", verdict);
      g_free (verdict);
    }
    for (guint k = 0; k < per_variant->len; k++) {
      gchar *verdict = apm_compare_verdict (&g_array_index (per_variant,
              ApmCompareRatio, k), NULL);

      g_string_append_printf (out, "  %s\n", verdict);
      g_free (verdict);
    }
    append_unmatched (out, NULL, base, v, per_variant);
  }
  /* trailing blanks of the padded columns */
  for (gchar * nl = strchr (out->str, '\n'); nl; nl = strchr (nl + 1, '\n'))
    while (nl > out->str && nl[-1] == ' ') {
      g_string_erase (out, nl - out->str - 1, 1);
      nl--;
    }
  return g_string_free (out, FALSE);
}
