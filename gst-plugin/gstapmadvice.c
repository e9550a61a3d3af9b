/* gst-apm: optimization advice, rules over a snapshot of a pipeline
 *
 * Pure functions of the snapshot: what each rule reads and why is next to
 * it; the thresholds are in gstapmadvice.h and README.md's table.
 */
#include "gstapmadvice.h"

#include <math.h>
#include <string.h>

#define ELEMENT(snap, i) (&g_array_index ((snap)->elements, \
      GstApmElementSnap, (i)))
#define upstream_of gst_apm_snapshot_upstream_of
#define downstream_of gst_apm_snapshot_downstream_of
#define thread_cpu_share gst_apm_snapshot_thread_cpu_share

/* own time that is work (a queue's is waiting: gstapmsnapshot.h) */
#define own_total gst_apm_element_snap_own_seconds

/* --- recommendations --- */

static JsonObject *
recommend (JsonArray * out, const gchar * id, const gchar * severity,
    const gchar * element, gchar * advice)
{
  JsonObject *o = json_object_new ();
  JsonObject *evidence = json_object_new ();

  json_object_set_string_member (o, "id", id);
  json_object_set_string_member (o, "severity", severity);
  json_object_set_string_member (o, "element", element);
  json_object_set_object_member (o, "evidence", evidence);
  json_object_set_string_member (o, "advice", advice);
  g_free (advice);
  json_array_add_object_element (out, o);
  return evidence;
}

static gdouble
ms (gdouble s)
{
  return s * 1e3;
}

/* bottleneck: one element takes most of its thread's busy time while the
 * thread is busy, or (live pipelines) the lowest real-time factor, under
 * 1.5 */
static void
rule_bottleneck (const GstApmSnapshot * snap, JsonArray * out)
{
  GHashTable *done = g_hash_table_new (NULL, NULL);
  gint slowest = -1;
  gdouble slowest_rtf = INFINITY;

  for (guint i = 0; i < snap->elements->len; i++) {
    const GstApmElementSnap *e = ELEMENT (snap, i);
    gdouble thread_total = 0, busy, share;
    guint working = 0;
    JsonObject *ev;

    if (!e->tid || own_total (e) <= 0)
      continue;
    for (guint j = 0; j < snap->elements->len; j++)
      if (ELEMENT (snap, j)->tid == e->tid && own_total (ELEMENT (snap,
                  j)) > 0) {
        thread_total += own_total (ELEMENT (snap, j));
        working++;
      }
    share = own_total (e) / thread_total;
    busy = gst_apm_snapshot_thread_busy (snap, e->tid);
    if (working < 2 || share <= GST_APM_ADVICE_BOTTLENECK_SHARE
        || !(busy >= GST_APM_ADVICE_BOTTLENECK_BUSY))
      continue;
    g_hash_table_add (done, GUINT_TO_POINTER (i + 1));
    ev = recommend (out, "bottleneck", busy >= GST_APM_ADVICE_SATURATED ?
        "warning" : "info", e->name, g_strdup_printf ("%s takes %.0f %% of "
            "the busy time of its thread (busy %.0f %% of the time): it "
            "limits how fast that thread runs. Lighten its work (a lower "
            "quality or complexity setting, a cheaper format), or give it "
            "its own thread with a queue before it.", e->name, share * 100,
            busy * 100));
    json_object_set_double_member (ev, "own_seconds", own_total (e));
    json_object_set_double_member (ev, "share_of_thread", share);
    json_object_set_double_member (ev, "thread_busy", busy);
    json_object_set_int_member (ev, "thread", e->tid);
  }
  if (snap->live) {
    for (guint i = 0; i < snap->elements->len; i++) {
      gdouble rtf = gst_apm_snapshot_realtime_factor (snap, i);

      if (!isnan (rtf) && rtf < slowest_rtf) {
        slowest_rtf = rtf;
        slowest = i;
      }
    }
    if (slowest >= 0 && slowest_rtf < GST_APM_ADVICE_BOTTLENECK_RTF
        && !g_hash_table_contains (done, GUINT_TO_POINTER (slowest + 1))) {
      const GstApmElementSnap *e = ELEMENT (snap, slowest);
      JsonObject *ev = recommend (out, "bottleneck", slowest_rtf < 1 ?
          "critical" : "warning", e->name, g_strdup_printf ("%s processes "
              "%.2f s of media per second of its own time, the least in "
              "this live pipeline (under %.1f leaves little margin: a "
              "slower moment makes the sinks late). Lighten its work, or "
              "move it to its own thread with a queue before it.",
              e->name, slowest_rtf, GST_APM_ADVICE_BOTTLENECK_RTF));

      json_object_set_double_member (ev, "realtime_factor", slowest_rtf);
      json_object_set_double_member (ev, "own_mean_seconds", e->own_mean_s);
      json_object_set_double_member (ev, "own_p95_seconds", e->own_p95_s);
    }
  }
  g_hash_table_destroy (done);
}

static const gchar *
chunk_hint (const gchar * factory)
{
  if (g_strcmp0 (factory, "audiotestsrc") == 0)
    return "Raise its samplesperbuffer";
  if (g_strcmp0 (factory, "alsasrc") == 0
      || g_strcmp0 (factory, "pulsesrc") == 0
      || g_strcmp0 (factory, "pipewiresrc") == 0
      || g_strcmp0 (factory, "autoaudiosrc") == 0)
    return "Raise its latency-time or blocksize";
  return "Raise its blocksize (or the setting that sizes its buffers)";
}

/* small-buffers: buffers under 5 ms of audio; named at the element that
 * makes them (the upstream-most element of a run of small buffers) */
static void
rule_small_buffers (const GstApmSnapshot * snap, JsonArray * out)
{
  GHashTable *named = g_hash_table_new (NULL, NULL);

  for (guint i = 0; i < snap->elements->len; i++) {
    gdouble dur = gst_apm_snapshot_buffer_seconds (snap, i);
    gint producer = i, up;
    guint guard = 0;
    const GstApmElementSnap *p;
    JsonObject *ev;

    if (isnan (dur) || dur >= GST_APM_ADVICE_SMALL_BUFFER_S
        || ELEMENT (snap, i)->buffers < 10)
      continue;
    /* a sink or filter receives them: whoever upstream makes them */
    while (ELEMENT (snap, producer)->kind != GST_APM_KIND_SOURCE
        && (up = upstream_of (snap, producer)) >= 0 && guard++ < 64) {
      gdouble updur = gst_apm_snapshot_buffer_seconds (snap, up);

      producer = up;
      if (!isnan (updur) && updur >= GST_APM_ADVICE_SMALL_BUFFER_S)
        break;
    }
    if (g_hash_table_contains (named, GINT_TO_POINTER (producer + 1)))
      continue;
    g_hash_table_add (named, GINT_TO_POINTER (producer + 1));
    p = ELEMENT (snap, producer);
    dur = isnan (gst_apm_snapshot_buffer_seconds (snap, producer)) ? dur :
        gst_apm_snapshot_buffer_seconds (snap, producer);
    if (dur >= GST_APM_ADVICE_SMALL_BUFFER_S)
      dur = gst_apm_snapshot_buffer_seconds (snap, i);
    ev = recommend (out, "small-buffers", "warning", p->name,
        g_strdup_printf ("%s sends buffers of %.2f ms of audio (%.0f per "
            "second of audio): the cost of each push, hook and wake-up is "
            "paid that often. %s%s to 10-20 ms, or re-chunk after it with "
            "audiobuffersplit output-buffer-duration=1/100.",
            p->name, ms (dur), 1 / dur,
            p->kind == GST_APM_KIND_SOURCE ? "" : "Ask its source to send "
            "bigger buffers, or ", p->kind == GST_APM_KIND_SOURCE ?
            chunk_hint (p->factory) : "raise the block size"));
    json_object_set_double_member (ev, "buffer_seconds", dur);
    json_object_set_double_member (ev, "buffers_per_media_second", 1 / dur);
    json_object_set_string_member (ev, "seen_at", ELEMENT (snap, i)->name);
  }
  g_hash_table_destroy (named);
}


/* queue-full: at >= 90 % of a limit in most samples: what is downstream
 * is slower than what feeds it */
static void
rule_queue_full (const GstApmSnapshot * snap, JsonArray * out)
{
  for (guint i = 0; i < snap->elements->len; i++) {
    const GstApmElementSnap *q = ELEMENT (snap, i);
    JsonArray *down;
    GString *names;
    gint d = i, slowest = -1;
    guint guard = 0;
    gdouble share;
    JsonObject *ev;

    if (!q->is_queue || q->fill_samples < 2)
      continue;
    share = (gdouble) q->fill_high / q->fill_samples;
    if (share <= GST_APM_ADVICE_QUEUE_FULL_SHARE)
      continue;
    down = json_array_new ();
    names = g_string_new (NULL);
    while ((d = downstream_of (snap, d)) >= 0 && guard++ < 64) {
      const GstApmElementSnap *e = ELEMENT (snap, d);

      json_array_add_string_element (down, e->name);
      g_string_append_printf (names, "%s%s", names->len ? ", " : "",
          e->name);
      if (slowest < 0 || own_total (e) > own_total (ELEMENT (snap, slowest)))
        slowest = d;
      if (e->kind == GST_APM_KIND_SINK || e->is_queue)
        break;
    }
    ev = recommend (out, "queue-full", snap->live ? "warning" : "info",
        q->name, g_strdup_printf ("%s is at %.0f %% or more of one of its "
            "limits in %.0f %% of the samples (mean %.0f %%, max %.0f %%): "
            "what follows it (%s) takes buffers more slowly than they "
            "arrive%s%s%s. %s", q->name, GST_APM_ADVICE_QUEUE_FULL_PERCENT,
            share * 100, q->fill_mean_percent, q->fill_max_percent,
            names->len ? names->str : "nothing linked",
            slowest >= 0 ? "; the slowest there is " : "",
            slowest >= 0 ? ELEMENT (snap, slowest)->name : "",
            slowest >= 0 && ELEMENT (snap, slowest)->sync ?
            " (a sink that syncs to the clock)" : "",
            snap->live ? "Speed up what is downstream, or give it its own "
            "thread." : "In a non-live pipeline a sink that syncs to the "
            "clock paces the whole pipeline and fills the queue before it: "
            "expected for playback; otherwise speed up what is "
            "downstream."));
    json_object_set_int_member (ev, "samples", q->fill_samples);
    json_object_set_int_member (ev, "samples_full", q->fill_high);
    json_object_set_double_member (ev, "fill_mean_percent",
        q->fill_mean_percent);
    json_object_set_double_member (ev, "fill_max_percent",
        q->fill_max_percent);
    json_object_set_array_member (ev, "downstream", down);
    if (slowest >= 0)
      json_object_set_string_member (ev, "slowest_downstream",
          ELEMENT (snap, slowest)->name);
    g_string_free (names, TRUE);
  }
}

/* a late buffer now and then (a scheduling hiccup on a loaded machine)
 * is no advice: at least LATE_MIN_EVENTS, and LATE_MIN_SHARE of what
 * the sink received */
#define LATE_MIN_EVENTS 3
#define LATE_MIN_SHARE 0.02

static gboolean
late_enough (const GstApmElementSnap * s)
{
  guint64 late = MAX (MAX (s->qos_dropped, s->qos_messages), s->underruns);

  return late >= LATE_MIN_EVENTS
      && (gdouble) late >= LATE_MIN_SHARE * (gdouble) s->buffers;
}

/* late-sink: QoS drops (or late buffers) at a sink that syncs, or
 * underruns an apmonitor before it counted, with the element upstream
 * whose own time has the widest tail */
static void
rule_late_sink (const GstApmSnapshot * snap, JsonArray * out)
{
  for (guint i = 0; i < snap->elements->len; i++) {
    const GstApmElementSnap *s = ELEMENT (snap, i);
    gint up = i, suspect = -1;
    guint guard = 0;
    JsonObject *ev;

    if (s->kind != GST_APM_KIND_SINK || !late_enough (s))
      continue;
    while ((up = upstream_of (snap, up)) >= 0 && guard++ < 64) {
      const GstApmElementSnap *e = ELEMENT (snap, up);

      if (e->has_own && !e->is_queue && !isnan (e->own_p95_s) && (suspect < 0
              || e->own_p95_s > ELEMENT (snap, suspect)->own_p95_s))
        suspect = up;
    }
    ev = recommend (out, "late-sink", "warning", s->name,
        g_strdup_printf ("%s dropped %" G_GUINT64_FORMAT " buffers that "
            "came too late (%" G_GUINT64_FORMAT " QoS messages, %"
            G_GUINT64_FORMAT " underruns before it)%s%s%s. "
            "Buffers reach it after their time: speed up that element or "
            "give it its own thread with a queue, raise the pipeline's "
            "latency, or let the sink's max-lateness tolerate more.",
            s->name, s->qos_dropped, s->qos_messages, s->underruns,
            suspect >= 0 ? "; upstream, " : "",
            suspect >= 0 ? ELEMENT (snap, suspect)->name : "",
            suspect >= 0 ? " has the longest own time per buffer at its "
            "95th percentile" : ""));
    json_object_set_int_member (ev, "qos_messages", s->qos_messages);
    json_object_set_int_member (ev, "dropped", s->qos_dropped);
    json_object_set_int_member (ev, "underruns", s->underruns);
    if (suspect >= 0) {
      const GstApmElementSnap *e = ELEMENT (snap, suspect);

      json_object_set_string_member (ev, "suspect", e->name);
      json_object_set_double_member (ev, "suspect_own_p95_seconds",
          e->own_p95_s);
      json_object_set_double_member (ev, "suspect_own_mean_seconds",
          e->own_mean_s);
    }
  }
}

/* topological rank along the links (sources first) */
static guint
depth_of (const GstApmSnapshot * snap, guint index)
{
  guint depth = 0;
  gint up = index;

  while ((up = upstream_of (snap, up)) >= 0 && depth < 64)
    depth++;
  return depth;
}

static gint
by_depth (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const GstApmSnapshot *snap = user_data;
  guint da = depth_of (snap, *(const guint *) a);
  guint db = depth_of (snap, *(const guint *) b);

  return da < db ? -1 : da > db;
}

/* the element of @on with the most own time (@fallback if none) */
static guint
heaviest (const GstApmSnapshot * snap, GArray * on, guint fallback)
{
  guint best = fallback;

  for (guint k = 0; k < on->len; k++) {
    guint j = g_array_index (on, guint, k);

    if (best == fallback || own_total (ELEMENT (snap, j)) >
        own_total (ELEMENT (snap, best)))
      best = j;
  }
  return best;
}

/* saturated-thread: a streaming thread busy >= 90 % of the time (the
 * elements' own time on it, or its CPU time); a queue splits it where
 * half its work is done */
static void
rule_saturated_thread (const GstApmSnapshot * snap, JsonArray * out)
{
  GHashTable *seen = g_hash_table_new (NULL, NULL);

  for (guint i = 0; i < snap->elements->len; i++) {
    gint tid = ELEMENT (snap, i)->tid;
    gdouble busy, cpu, load, total = 0, acc = 0;
    GArray *on;
    gint split = -1;
    JsonObject *ev;

    if (!tid || g_hash_table_contains (seen, GINT_TO_POINTER (tid)))
      continue;
    g_hash_table_add (seen, GINT_TO_POINTER (tid));
    busy = gst_apm_snapshot_thread_busy (snap, tid);
    cpu = thread_cpu_share (snap, tid);
    load = MAX (isnan (busy) ? 0 : busy, isnan (cpu) ? 0 : cpu);
    if (load < GST_APM_ADVICE_SATURATED)
      continue;
    on = g_array_new (FALSE, FALSE, sizeof (guint));
    for (guint j = 0; j < snap->elements->len; j++)
      if (ELEMENT (snap, j)->tid == tid && own_total (ELEMENT (snap, j)) > 0) {
        g_array_append_val (on, j);
        total += own_total (ELEMENT (snap, j));
      }
    g_array_sort_with_data (on, by_depth, (gpointer) snap);
    for (guint k = 1; k < on->len; k++) {
      acc += own_total (ELEMENT (snap, g_array_index (on, guint, k - 1)));
      if (acc >= total / 2 || k == on->len - 1) {
        split = g_array_index (on, guint, k);
        break;
      }
    }
    /* one element's work on either side: a queue would not share it */
    if (split >= 0 && total > 0 && (acc / total > 0.8 || acc / total < 0.2))
      split = -1;
    ev = recommend (out, "saturated-thread", snap->live ? "warning" : "info",
        ELEMENT (snap, i)->name, split >= 0 ? g_strdup_printf ("The "
            "streaming thread %d (%s and %u more) is busy %.0f %% of the "
            "time: it cannot go faster. A queue before %s would split its "
            "work in two (%.0f %% before, %.0f %% after) across two "
            "cores.%s", tid, ELEMENT (snap, g_array_index (on, guint,
                    0))->name, on->len - 1, load * 100, ELEMENT (snap,
                split)->name, total > 0 ? 100 * acc / total : 0,
            total > 0 ? 100 - 100 * acc / total : 0, snap->live ? "" :
            " A non-live pipeline runs as fast as it can: this only "
            "matters if it should finish sooner.") :
        g_strdup_printf ("The streaming thread %d is busy %.0f %% of the "
            "time, most of it in %s: a queue would not split that work; "
            "lighten that element's work.", tid, load * 100,
            ELEMENT (snap, heaviest (snap, on, i))->name));
    json_object_set_int_member (ev, "thread", tid);
    json_object_set_double_member (ev, "busy", isnan (busy) ? 0 : busy);
    if (!isnan (cpu))
      json_object_set_double_member (ev, "cpu", cpu);
    if (split >= 0)
      json_object_set_string_member (ev, "queue_before",
          ELEMENT (snap, split)->name);
    g_array_unref (on);
  }
  g_hash_table_destroy (seen);
}

/* allocations: an element that makes its buffers (output differs from
 * input) one by one at a high rate, or from a pool that reuses little */
static void
rule_allocations (const GstApmSnapshot * snap, JsonArray * out)
{
  for (guint i = 0; i < snap->elements->len; i++) {
    const GstApmElementSnap *e = ELEMENT (snap, i);
    JsonObject *ev;

    /* a passthrough element forwards what it got: not its allocations */
    if (e->allocated > 0 && e->bytes_out != e->bytes_in
        && snap->wall_s > 0
        && e->allocated / snap->wall_s >= GST_APM_ADVICE_ALLOC_RATE) {
      ev = recommend (out, "allocations", "info", e->name,
          g_strdup_printf ("%s allocates each of its buffers on its own, "
              "%.0f per second: a buffer pool would hand the same memory "
              "back (in a transform, downstream or the element offers one "
              "in the ALLOCATION query), and bigger buffers mean fewer "
              "allocations.", e->name, e->allocated / snap->wall_s));
      json_object_set_int_member (ev, "allocated", e->allocated);
      json_object_set_double_member (ev, "allocated_per_second",
          e->allocated / snap->wall_s);
    }
    if (e->pooled >= GST_APM_ADVICE_POOL_MIN) {
      gdouble reuse = (gdouble) (e->pooled - MIN (e->pool_fresh,
              e->pooled)) / e->pooled;

      if (reuse < GST_APM_ADVICE_POOL_REUSE) {
        ev = recommend (out, "allocations", "info", e->name,
            g_strdup_printf ("%s's buffer pool reused only %.0f %% of the "
                "%" G_GUINT64_FORMAT " buffers it handed out: buffers "
                "come back too late or are kept downstream. Raise the "
                "pool's max-buffers, or find what holds them.", e->name,
                reuse * 100, e->pooled));
        json_object_set_int_member (ev, "pooled", e->pooled);
        json_object_set_int_member (ev, "fresh", e->pool_fresh);
        json_object_set_double_member (ev, "reuse_ratio", reuse);
      }
    }
  }
}

static gboolean
is_converter (const GstApmElementSnap * e)
{
  return (e->klass && strstr (e->klass, "Converter"))
      || g_strcmp0 (e->factory, "audioconvert") == 0
      || g_strcmp0 (e->factory, "audioresample") == 0;
}

/* elements a format passes through unchanged */
static gboolean
is_transparent (const GstApmElementSnap * e)
{
  static const gchar *const names[] = { "capsfilter", "identity", "queue",
    "queue2", "tee", "valve", "apmonitor", NULL
  };

  return e->factory && g_strv_contains (names, e->factory);
}

/* redundant-conversion: a conversion followed (through caps filters,
 * queues and the like) by another that returns to the first one's input
 * format (the pair converts for nothing, or caps force a format nobody
 * needs), or two converters of the same kind in a row (one does what
 * both do) */
static void
rule_redundant_conversion (const GstApmSnapshot * snap, JsonArray * out)
{
  for (guint i = 0; i < snap->elements->len; i++) {
    const GstApmElementSnap *a = ELEMENT (snap, i), *b;
    gint d = i;
    guint guard = 0;
    gboolean cancels, twins;
    JsonObject *ev;

    if (!is_converter (a))
      continue;
    while ((d = downstream_of (snap, d)) >= 0 && guard++ < 16
        && is_transparent (ELEMENT (snap, d)));
    if (d < 0 || !is_converter (ELEMENT (snap, d)))
      continue;
    b = ELEMENT (snap, d);
    cancels = a->caps_in && a->caps_out && b->caps_out
        && strcmp (a->caps_in, a->caps_out) != 0
        && strcmp (a->caps_in, b->caps_out) == 0;
    twins = g_strcmp0 (a->factory, b->factory) == 0;
    if (!cancels && !twins)
      continue;
    ev = recommend (out, "redundant-conversion", cancels ? "warning" :
        "info", a->name, cancels ? g_strdup_printf ("%s converts %s to %s "
            "and %s converts it back to %s: the pair costs work (and maybe "
            "precision) for nothing. Remove both, and the caps that force "
            "%s between them.", a->name, a->caps_in, a->caps_out, b->name,
            b->caps_out, a->caps_out) : g_strdup_printf ("%s and %s are "
            "both %s, one after the other: one of them does what both do. "
            "Remove %s.", a->name, b->name, a->factory, b->name));
    json_object_set_string_member (ev, "first", a->name);
    json_object_set_string_member (ev, "second", b->name);
    if (a->caps_in)
      json_object_set_string_member (ev, "format_in", a->caps_in);
    if (a->caps_out)
      json_object_set_string_member (ev, "format_between", a->caps_out);
    if (b->caps_out)
      json_object_set_string_member (ev, "format_out", b->caps_out);
  }
}

static gint
severity_rank (JsonNode * n)
{
  const gchar *s = json_object_get_string_member (json_node_get_object (n),
      "severity");

  return g_strcmp0 (s, "critical") == 0 ? 0 : g_strcmp0 (s,
      "warning") == 0 ? 1 : 2;
}

static gint
by_severity (gconstpointer a, gconstpointer b)
{
  return severity_rank (*(JsonNode **) a) - severity_rank (*(JsonNode **) b);
}

JsonArray *
gst_apm_advise (const GstApmSnapshot * snap)
{
  JsonArray *all = json_array_new (), *sorted = json_array_new ();
  GPtrArray *nodes = g_ptr_array_new ();

  rule_bottleneck (snap, all);
  rule_small_buffers (snap, all);
  rule_queue_full (snap, all);
  rule_late_sink (snap, all);
  rule_saturated_thread (snap, all);
  rule_allocations (snap, all);
  rule_redundant_conversion (snap, all);
  for (guint i = 0; i < json_array_get_length (all); i++)
    g_ptr_array_add (nodes, json_array_get_element (all, i));
  /* stable: the rules' order within a severity */
  g_ptr_array_sort (nodes, by_severity);
  for (guint i = 0; i < nodes->len; i++)
    json_array_add_element (sorted, json_node_copy (nodes->pdata[i]));
  g_ptr_array_unref (nodes);
  json_array_unref (all);
  return sorted;
}
