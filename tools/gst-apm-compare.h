/* gst-apm compare: A/B comparison of pipelines, offline
 *
 *   gst-apm-compare.c       options, the interleaved runs, the table
 *   gst-apm-compare-run.c   one run, in a child process of its own
 *   gst-apm-compare-stats.c per variant and per element: intervals, ratios
 *   gst-apm-compare-report.c the report: text, JSON
 *   gst-apm-compare-html.c  the --html page
 *   apm-stats-ci.c          the confidence intervals
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* gst-apm compare ARGS (argv[0] is "gst-apm compare") */
gint gst_apm_compare_main (gint argc, gchar ** argv);

/* The hidden child mode: runs @description once under the apm tracer
 * (GST_TRACERS must be set before, see gst-apm-compare.c), to EOS or for
 * @duration_s seconds (live pipelines; also non-live ones when
 * @always_duration), and writes its JSON result to @result_path:
 * {"live", "wall_seconds", "cpu_seconds", "elements": [{"element",
 * "factory", "position", "buffers", "own_seconds"}]}.  Returns the exit
 * status; errors go to stderr. */
gint gst_apm_compare_run_one (const gchar * description, gdouble duration_s,
    gboolean always_duration, const gchar * result_path);

/* What the runs of one variant measured */
typedef struct
{
  gchar *element;               /* path in the pipeline */
  gchar *factory;
  gint position;                /* upstream to downstream */
  GArray *own_per_buffer;       /* seconds, one per run (gdouble) */
  GArray *buffers;              /* per run (gdouble) */
} ApmCompareElement;

typedef struct
{
  gchar *name;                  /* A, B, ... */
  gchar *description;
  gboolean live;
  GArray *wall, *cpu;           /* seconds, one per run (gdouble) */
  GPtrArray *elements;          /* ApmCompareElement, by position */
} ApmCompareVariant;

/* One element of variant @b against its match in variant @a */
typedef struct
{
  const ApmCompareVariant *a, *b;
  const ApmCompareElement *ea, *eb;
  gboolean matched_by_name;
  gboolean ok;                  /* FALSE: no ratio (too few runs/buffers) */
  gdouble ratio, lo, hi;
  gboolean significant;
} ApmCompareRatio;

ApmCompareVariant *apm_compare_variant_new (const gchar * name,
    const gchar * description);
void apm_compare_variant_free (ApmCompareVariant * v);
/* Adds one run's JSON result; FALSE with @error if it is not one */
gboolean apm_compare_variant_add_run (ApmCompareVariant * v,
    JsonNode * result, GError ** error);

/* Every element of @b matched with @a's (by name, else by factory and
 * order among that factory's elements), in @b's order; elements of @b
 * that match nothing are left out. @noise: significant only when the
 * whole interval is beyond 1 +/- noise. */
GArray *apm_compare_ratios (const ApmCompareVariant * a,
    const ApmCompareVariant * b, gdouble noise);

/* @b's values against @a's (wall or CPU time): a ratio without elements */
ApmCompareRatio apm_compare_ratio_of (const ApmCompareVariant * a,
    const ApmCompareVariant * b, GArray * values_a, GArray * values_b,
    gdouble noise);

/* "audioresample0: B is 3.1x slower (2.8-3.4, significant)"; @what: the
 * name to give, NULL for the element's */
gchar *apm_compare_verdict (const ApmCompareRatio * r, const gchar * what);

/* The mean of @values and its interval as "12.3 (11.9-12.8)" in @scale
 * units (1e6: microseconds) */
gchar *apm_compare_format_ci (GArray * values, gdouble scale);

/* The report as a table with verdicts, and as the --json document
 * (README: "Comparing pipelines"); arguments as for the HTML page */
gchar *apm_compare_render_text (GPtrArray * variants, GPtrArray * ratios,
    GPtrArray * totals, guint runs, guint warmup, gdouble noise);
gchar *apm_compare_render_json (GPtrArray * variants, GPtrArray * ratios,
    GPtrArray * totals, guint runs, guint warmup, gdouble noise);

/* --html: a page that needs nothing else */
/* @ratios: per variant after the first, a GArray of ApmCompareRatio;
 * @totals: per such variant, its wall then its CPU time ratio */
gchar *apm_compare_render_html (GPtrArray * variants, GPtrArray * ratios,
    GPtrArray * totals, guint runs, guint warmup, gdouble noise);

G_END_DECLS
