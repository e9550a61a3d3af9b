/* gst-apm compare: pipelines against each other, run in turn, element by
 * element
 *
 *   gst-apm compare [-n RUNS] [--warmup N] [--duration S] [--json]
 *       [--html FILE] 'PIPELINE A' 'PIPELINE B' [...]
 *
 * Every run is a process of its own (this program again, in a hidden
 * mode) under the apm tracer, so that no run inherits another's caches,
 * threads or registry; the variants take turns (A B A B ...) so that a
 * machine that gets busier slows them alike.  The first variant is the
 * baseline: each other one is compared with it.
 */
#include "gst-apm-compare.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "apm-stats-ci.h"

#define TRACER_SETTING "apm(port=0,quiet=true)"
#define MAX_VARIANTS 26

typedef struct
{
  gint runs, warmup;
  gdouble duration, noise;
  gboolean duration_set;
  gboolean as_json;
  gchar *html;
} Options;

/* --- one run --- */

static gchar *
tail_of_file (const gchar * path)
{
  gchar *text = NULL;
  gsize len;

  if (!g_file_get_contents (path, &text, &len, NULL) || len == 0) {
    g_free (text);
    return g_strdup ("(no message)");
  }
  g_strstrip (text);
  /* the end says why */
  if (len > 2000) {
    gchar *tail = g_strdup (text + len - 2000);

    g_free (text);
    text = tail;
  }
  return text;
}

/* Runs @v once in a child; adds its figures to @v.  FALSE with @error
 * (the child's message) if the run failed. */
static gboolean
run_child (const gchar * self, const gchar * dir, ApmCompareVariant * v,
    const Options * o, ApmCompareVariant * into, GError ** error)
{
  gchar *result = g_build_filename (dir, "result.json", NULL);
  gchar *log = g_build_filename (dir, "stderr.txt", NULL);
  gchar duration[G_ASCII_DTOSTR_BUF_SIZE];
  const gchar *argv[10];
  guint argc = 0;
  GSubprocessLauncher *launcher;
  GSubprocess *child;
  gboolean ok = FALSE;

  g_unlink (result);
  g_ascii_dtostr (duration, sizeof duration, o->duration);
  argv[argc++] = self;
  argv[argc++] = "compare";
  argv[argc++] = "--run-one";
  argv[argc++] = v->description;
  argv[argc++] = "--result";
  argv[argc++] = result;
  argv[argc++] = "--duration";
  argv[argc++] = duration;
  if (o->duration_set)
    argv[argc++] = "--always-duration";
  argv[argc] = NULL;
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_subprocess_launcher_setenv (launcher, "GST_TRACERS", TRACER_SETTING,
      TRUE);
  g_subprocess_launcher_set_stderr_file_path (launcher, log);
  child = g_subprocess_launcher_spawnv (launcher, argv, error);
  if (child && g_subprocess_wait (child, NULL, error)) {
    if (g_subprocess_get_if_exited (child)
        && g_subprocess_get_exit_status (child) == 0) {
      JsonParser *parser = json_parser_new ();

      ok = json_parser_load_from_file (parser, result, error)
          && apm_compare_variant_add_run (into, json_parser_get_root (parser),
          error);
      g_object_unref (parser);
    } else {
      gchar *why = tail_of_file (log);

      g_set_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED, "%s", why);
      g_free (why);
    }
  }
  g_clear_object (&child);
  g_object_unref (launcher);
  g_free (result);
  g_free (log);
  return ok;
}

/* --- output --- */

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

static gchar *
render_json (GPtrArray * variants, GPtrArray * ratios, GPtrArray * totals,
    const Options * o)
{
  JsonBuilder *b = json_builder_new ();
  JsonNode *root;
  gchar *text;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "runs");
  json_builder_add_int_value (b, o->runs);
  json_builder_set_member_name (b, "warmup");
  json_builder_add_int_value (b, o->warmup);
  json_builder_set_member_name (b, "noise");
  json_builder_add_double_value (b, o->noise);
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
static gchar *
render_text (GPtrArray * variants, GPtrArray * ratios, GPtrArray * totals,
    const Options * o)
{
  GString *out = g_string_new (NULL);
  ApmCompareVariant *base = variants->pdata[0];
  GPtrArray *names = g_ptr_array_new ();

  g_string_append_printf (out, "gst-apm compare: %d runs of each variant, "
      "taking turns, after %d warm-up round%s\n", o->runs, o->warmup,
      o->warmup == 1 ? "" : "s");
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
        v->name, base->name, o->noise * 100);
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

/* --- main --- */

static gboolean
check_options (const Options * o, gint n_variants, GError ** error)
{
  const gchar *why = NULL;

  if (o->runs < 2 || o->runs > 1000)
    why = "-n RUNS must be 2 to 1000 (an interval needs two runs)";
  else if (o->warmup < 0 || o->warmup > 100)
    why = "--warmup must be 0 to 100";
  else if (!(o->duration > 0 && o->duration <= 86400))
    why = "--duration must be more than 0 and at most 86400 seconds";
  else if (!(o->noise >= 0 && o->noise < 1))
    why = "--noise must be 0 to 0.99 (a fraction: 0.02 is 2 %)";
  else if (n_variants < 2)
    why = "give at least two pipelines to compare, each as one argument";
  else if (n_variants > MAX_VARIANTS)
    why = "at most 26 pipelines (A to Z)";
  if (why)
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        why);
  return why == NULL;
}

static gint
compare (gchar ** descriptions, const Options * o)
{
  GPtrArray *variants = g_ptr_array_new_with_free_func ((GDestroyNotify)
      apm_compare_variant_free);
  GPtrArray *ratios = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_array_unref);
  GPtrArray *totals = g_ptr_array_new_with_free_func (g_free);
  gchar *self = g_file_read_link ("/proc/self/exe", NULL);
  GError *error = NULL;
  gchar *dir = g_dir_make_tmp ("gst-apm-compare-XXXXXX", &error);
  gboolean progress = isatty (STDERR_FILENO);
  guint n = g_strv_length (descriptions), rounds = o->warmup + o->runs;
  gint status = 0;

  if (!self || !dir) {
    g_printerr ("gst-apm compare: %s\n", error ? error->message :
        "cannot find this program (/proc/self/exe)");
    status = 1;
    goto out;
  }
  for (guint i = 0; i < n; i++) {
    gchar name[2] = { 'A' + i, 0 };

    g_ptr_array_add (variants, apm_compare_variant_new (name,
            descriptions[i]));
  }
  /* A B A B ...: warm-up rounds first, their figures thrown away */
  for (guint round = 0; round < rounds && status == 0; round++) {
    for (guint i = 0; i < n && status == 0; i++) {
      ApmCompareVariant *v = variants->pdata[i];
      gboolean warm = round < (guint) o->warmup;
      ApmCompareVariant *into = warm ?
          apm_compare_variant_new (v->name, v->description) : v;

      if (progress)
        g_printerr ("\r%s run %u/%d of %s ", warm ? "warm-up" : "measured",
            warm ? round + 1 : round - o->warmup + 1, warm ? o->warmup :
            o->runs, v->name);
      if (!run_child (self, dir, v, o, into, &error)) {
        g_printerr ("%sgst-apm compare: variant %s (%s), %s run %u failed:"
            "\n%s\n", progress ? "\n" : "", v->name, v->description,
            warm ? "warm-up" : "measured", warm ? round + 1 :
            round - o->warmup + 1, error->message);
        g_clear_error (&error);
        status = 1;
      }
      if (warm)
        apm_compare_variant_free (into);
    }
  }
  if (progress)
    g_printerr ("\r%40s\r", "");
  if (status)
    goto out;
  for (guint i = 1; i < n; i++) {
    ApmCompareVariant *a = variants->pdata[0], *b = variants->pdata[i];

    g_ptr_array_add (ratios, apm_compare_ratios (a, b, o->noise));
    g_ptr_array_add (totals, g_memdup2 ((ApmCompareRatio[]) {
            apm_compare_ratio_of (a, b, a->wall, b->wall, o->noise)},
            sizeof (ApmCompareRatio)));
    g_ptr_array_add (totals, g_memdup2 ((ApmCompareRatio[]) {
            apm_compare_ratio_of (a, b, a->cpu, b->cpu, o->noise)},
            sizeof (ApmCompareRatio)));
  }
  {
    gchar *text = o->as_json ? render_json (variants, ratios, totals, o) :
        render_text (variants, ratios, totals, o);

    g_print ("%s\n", text);
    g_free (text);
  }
  if (o->html) {
    gchar *page = apm_compare_render_html (variants, ratios, totals, o->runs,
        o->warmup, o->noise);

    if (!g_file_set_contents (o->html, page, -1, &error)) {
      g_printerr ("gst-apm compare: %s\n", error->message);
      g_clear_error (&error);
      status = 1;
    }
    g_free (page);
  }
out:
  if (dir) {
    gchar *result = g_build_filename (dir, "result.json", NULL);
    gchar *log = g_build_filename (dir, "stderr.txt", NULL);

    g_unlink (result);
    g_unlink (log);
    g_rmdir (dir);
    g_free (result);
    g_free (log);
  }
  g_clear_error (&error);
  g_free (dir);
  g_free (self);
  g_ptr_array_unref (totals);
  g_ptr_array_unref (ratios);
  g_ptr_array_unref (variants);
  return status;
}

gint
gst_apm_compare_main (gint argc, gchar ** argv)
{
  Options o = { 5, 1, 5, 0.02, FALSE, FALSE, NULL };
  gchar *run_one = NULL, *result = NULL, **descriptions = NULL;
  gboolean always_duration = FALSE;
  GOptionEntry entries[] = {
    {"runs", 'n', 0, G_OPTION_ARG_INT, &o.runs,
        "Measured runs of each variant (5)", "RUNS"},
    {"warmup", 0, 0, G_OPTION_ARG_INT, &o.warmup,
        "Warm-up rounds first, not counted (1)", "N"},
    {"duration", 0, 0, G_OPTION_ARG_DOUBLE, &o.duration,
          "Seconds each run of a live pipeline lasts (5); given, non-live "
          "runs stop there too", "S"},
    {"noise", 0, 0, G_OPTION_ARG_DOUBLE, &o.noise,
          "Differences within 1 +/- this fraction are not significant "
          "(0.02)", "F"},
    {"json", 'j', 0, G_OPTION_ARG_NONE, &o.as_json, "Print JSON", NULL},
    {"html", 0, 0, G_OPTION_ARG_FILENAME, &o.html,
        "Also write a self-contained HTML report to FILE", "FILE"},
    {"run-one", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &run_one,
        NULL, NULL},
    {"result", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, &result,
        NULL, NULL},
    {"always-duration", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE,
        &always_duration, NULL, NULL},
    {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &descriptions,
        NULL, "'PIPELINE A' 'PIPELINE B' [...]"},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new (NULL);
  GError *error = NULL;
  gint status;

  /* was --duration given? (its default applies to live runs only) */
  for (gint i = 1; i < argc && strcmp (argv[i], "--") != 0; i++)
    if (g_str_has_prefix (argv[i], "--duration"))
      o.duration_set = TRUE;
  g_option_context_set_summary (ctx, "Runs pipelines (gst-launch-1.0 "
      "syntax) in turn, each run in a process of its own under the apm "
      "tracer, and compares each variant with the first: wall time, CPU "
      "time and every element's own time per buffer, with 95 % confidence "
      "intervals. Non-live pipelines run to EOS, live ones for --duration.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("gst-apm compare: %s\n", error->message);
    g_clear_error (&error);
    g_option_context_free (ctx);
    return 2;
  }
  g_option_context_free (ctx);
  if (run_one) {
    status = result ? gst_apm_compare_run_one (run_one, o.duration,
        always_duration, result) : 2;
  } else if (!check_options (&o, descriptions ?
          (gint) g_strv_length (descriptions) : 0, &error)) {
    g_printerr ("gst-apm compare: %s\n", error->message);
    g_clear_error (&error);
    status = 2;
  } else {
    status = compare (descriptions, &o);
  }
  g_free (run_one);
  g_free (result);
  g_free (o.html);
  g_strfreev (descriptions);
  return status;
}
