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
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
    gchar *text = o->as_json ? apm_compare_render_json (variants, ratios,
        totals, o->runs, o->warmup, o->noise) :
        apm_compare_render_text (variants, ratios, totals, o->runs, o->warmup,
        o->noise);

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
