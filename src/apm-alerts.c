/* gst-apm: the set of alert rules, their evaluation, and their alerts'
 * lifecycle (pending, firing, resolved), listeners and JSON views */
#include "apm-alerts-private.h"
#include "apm-history.h"
#include "apm-time.h"

#include <math.h>
#include <string.h>

typedef struct
{
  gchar *id;
  gchar *rule;
  gchar *key;                   /* rule \x1e series key */
  ApmSeverity severity;
  gchar *state;                 /* pending, firing, resolved */
  gchar *message;
  JsonObject *labels;
  gdouble value;
  gdouble threshold;
  gint64 started_us, fired_us, resolved_us;
  const gchar *resolved_by;
  gboolean seen;                /* condition held in this evaluation */
} ApmAlert;

typedef struct
{
  ApmAlertListener func;
  gpointer user_data;
} Listener;

struct _ApmAlerts
{
  GMutex rules_lock;            /* rules: held across an evaluation */
  GMutex lock;                  /* alerts, history, listeners */
  ApmRegistry *registry;
  GPtrArray *rules;             /* ApmAlertRule, evaluation order */
  GHashTable *active;           /* key -> ApmAlert (pending, firing) */
  GHashTable *suppressed;       /* keys resolved by hand, until clear */
  GHashTable *removed;          /* rule names removed: defaults stay out */
  GQueue history;               /* resolved ApmAlert, newest last */
  guint keep;
  guint seq;
  GArray *listeners;
};

/* --- alerts --- */

static void
alert_free (ApmAlert * a)
{
  g_free (a->id);
  g_free (a->rule);
  g_free (a->key);
  g_free (a->state);
  g_free (a->message);
  json_object_unref (a->labels);
  g_free (a);
}

static void
set_time_member (JsonObject * o, const gchar * name, gint64 us)
{
  if (us) {
    gchar *t = apm_time_format (us);

    json_object_set_string_member (o, name, t);
    g_free (t);
  } else {
    json_object_set_null_member (o, name);
  }
}

static JsonNode *
alert_to_json (const ApmAlert * a)
{
  JsonObject *o = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_string_member (o, "id", a->id);
  json_object_set_string_member (o, "rule", a->rule);
  json_object_set_string_member (o, "severity",
      apm_severity_to_string (a->severity));
  json_object_set_string_member (o, "state", a->state);
  json_object_set_string_member (o, "message", a->message);
  json_object_set_object_member (o, "labels", json_object_ref (a->labels));
  if (isfinite (a->value))
    json_object_set_double_member (o, "value", a->value);
  else
    json_object_set_null_member (o, "value");
  if (isfinite (a->threshold))
    json_object_set_double_member (o, "threshold", a->threshold);
  set_time_member (o, "started_at", a->started_us);
  set_time_member (o, "fired_at", a->fired_us);
  set_time_member (o, "resolved_at", a->resolved_us);
  if (a->resolved_by)
    json_object_set_string_member (o, "resolved_by", a->resolved_by);
  else
    json_object_set_null_member (o, "resolved_by");
  json_node_take_object (node, o);
  return node;
}

ApmAlerts *
apm_alerts_new (ApmRegistry * registry, guint keep_history)
{
  ApmAlerts *al = g_new0 (ApmAlerts, 1);

  g_mutex_init (&al->lock);
  g_mutex_init (&al->rules_lock);
  al->registry = registry;
  al->rules = g_ptr_array_new_with_free_func ((GDestroyNotify)
      apm_alert_rule_free);
  al->active = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) alert_free);
  al->suppressed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  al->removed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_queue_init (&al->history);
  al->keep = keep_history ? keep_history : 1000;
  al->listeners = g_array_new (FALSE, FALSE, sizeof (Listener));
  return al;
}

void
apm_alerts_free (ApmAlerts * al)
{
  if (!al)
    return;
  g_ptr_array_unref (al->rules);
  g_hash_table_destroy (al->active);
  g_hash_table_destroy (al->suppressed);
  g_hash_table_destroy (al->removed);
  g_queue_clear_full (&al->history, (GDestroyNotify) alert_free);
  g_array_unref (al->listeners);
  g_mutex_clear (&al->lock);
  g_mutex_clear (&al->rules_lock);
  g_free (al);
}

void
apm_alerts_add_rule (ApmAlerts * al, ApmAlertRule * rule)
{
  g_mutex_lock (&al->rules_lock);
  for (guint i = 0; i < al->rules->len; i++) {
    ApmAlertRule *r = g_ptr_array_index (al->rules, i);

    if (strcmp (r->name, rule->name) == 0) {
      g_ptr_array_remove_index (al->rules, i);
      break;
    }
  }
  g_hash_table_remove (al->removed, rule->name);
  g_ptr_array_add (al->rules, rule);
  g_mutex_unlock (&al->rules_lock);
}

void
apm_alerts_add_default_rule (ApmAlerts * al, ApmAlertRule * rule)
{
  gboolean taken;

  g_mutex_lock (&al->rules_lock);
  taken = g_hash_table_contains (al->removed, rule->name);
  for (guint i = 0; i < al->rules->len && !taken; i++)
    taken = strcmp (((ApmAlertRule *) al->rules->pdata[i])->name,
        rule->name) == 0;
  if (!taken)
    g_ptr_array_add (al->rules, rule);
  g_mutex_unlock (&al->rules_lock);
  if (taken)
    apm_alert_rule_free (rule);
}

gboolean
apm_alerts_remove_rule (ApmAlerts * al, const gchar * name)
{
  gboolean found = FALSE;

  g_mutex_lock (&al->rules_lock);
  for (guint i = 0; i < al->rules->len && !found; i++) {
    ApmAlertRule *r = g_ptr_array_index (al->rules, i);

    if (strcmp (r->name, name) == 0) {
      g_ptr_array_remove_index (al->rules, i);
      found = TRUE;
    }
  }
  g_hash_table_add (al->removed, g_strdup (name));
  g_mutex_unlock (&al->rules_lock);
  return found;
}

void
apm_alerts_add_listener (ApmAlerts * al, ApmAlertListener func,
    gpointer user_data)
{
  Listener l = { func, user_data };

  g_mutex_lock (&al->lock);
  g_array_append_val (al->listeners, l);
  g_mutex_unlock (&al->lock);
}

/* --- evaluation --- */

typedef struct
{
  gchar *key;
  JsonObject *labels;
  gdouble value;
} Hit;

static gboolean
compare (ApmComparison op, gdouble v, gdouble t)
{
  switch (op) {
    case APM_CMP_GT:
      return v > t;
    case APM_CMP_GE:
      return v >= t;
    case APM_CMP_LT:
      return v < t;
    case APM_CMP_LE:
      return v <= t;
    case APM_CMP_EQ:
      return v == t;
    default:
      return v != t;
  }
}

static gboolean
series_matches (ApmAlertRule * r, ApmSeries * s)
{
  for (guint i = 0; i + 1 < r->match->len; i += 2)
    if (g_strcmp0 (apm_series_label (s, r->match->pdata[i]),
            r->match->pdata[i + 1]) != 0)
      return FALSE;
  return TRUE;
}

/* increase over the window from history; FALSE without two samples */
static gboolean
window_increase (ApmSeries * s, gint64 since, gdouble * inc, gdouble * secs)
{
  guint n;
  ApmPoint *p = apm_history_points (s, since, &n);
  gboolean ok = n >= 2;

  if (ok) {
    *inc = p[n - 1].v - p[0].v;
    *secs = (p[n - 1].t_us - p[0].t_us) / 1e6;
  }
  g_free (p);
  return ok && *secs > 0;
}

/* NaN when there is not enough data */
static gdouble
series_value (ApmAlertRule * r, ApmRegistry * reg, ApmSeries * s, gint64 now)
{
  gint64 since = now - (gint64) (MAX (r->window_s, 1) * 1e6);
  gdouble v = NAN, inc, secs;
  guint n;
  ApmPoint *p;

  switch (r->agg) {
    case APM_AGG_LAST:
      return apm_series_metric_type (s) == APM_METRIC_HISTOGRAM ?
          (apm_series_count (s) ? apm_series_sum (s) / apm_series_count (s) :
          NAN) : apm_series_value (s);
    case APM_AGG_AVG:
    case APM_AGG_MAX:
    case APM_AGG_MIN:
      p = apm_history_points (s, since, &n);
      for (guint i = 0; i < n; i++) {
        gdouble x = p[i].v;

        if (i == 0)
          v = x;
        else if (r->agg == APM_AGG_AVG)
          v += x;
        else if (r->agg == APM_AGG_MAX)
          v = MAX (v, x);
        else
          v = MIN (v, x);
      }
      if (n && r->agg == APM_AGG_AVG)
        v /= n;
      g_free (p);
      return v;
    case APM_AGG_RATE:
      return window_increase (s, since, &inc, &secs) ? inc / secs : NAN;
    case APM_AGG_INCREASE:
      return window_increase (s, since, &inc, &secs) ? inc : NAN;
    case APM_AGG_RATIO:{
      ApmSeries *d = r->denominator ?
          apm_registry_find_series_like (reg, r->denominator, s) : NULL;
      gdouble dinc, dsecs;

      if (d && window_increase (s, since, &inc, &secs)
          && window_increase (d, since, &dinc, &dsecs) && dinc > 0)
        v = inc / dinc;
      g_clear_pointer (&d, apm_series_unref);
      return v;
    }
    case APM_AGG_P95:{
      guint nb = s->n_bounds + 1;
      guint64 *now_counts = g_new (guint64, nb);
      gchar *key = apm_series_dup_key (s);
      guint64 *prev = g_hash_table_lookup (r->snapshots, key);
      ApmSeries tmp;

      if (!s->buckets) {
        g_free (now_counts);
        g_free (key);
        return NAN;
      }
      apm_series_histogram (s, now_counts);
      if (prev) {
        /* the quantile of what was observed since the last evaluation */
        guint64 *diff = g_new0 (guint64, nb);

        for (guint i = 0; i < nb; i++) {
          guint64 prev_i = prev[i] - (i ? prev[i - 1] : 0);
          guint64 now_i = now_counts[i] - (i ? now_counts[i - 1] : 0);

          diff[i] = now_i >= prev_i ? now_i - prev_i : now_i;
        }
        tmp = *s;
        tmp.buckets = diff;
        tmp.sum_ns = 0;
        tmp.fbits = 0;
        v = apm_series_quantile (&tmp, 0.95);
        g_free (diff);
      }
      g_hash_table_replace (r->snapshots, key, now_counts);
      return v;
    }
  }
  return NAN;
}

/* collects the label sets for which @r's condition holds */
static void
evaluate_expr (ApmAlertRule * r, ApmRegistry * reg, gint64 now,
    GPtrArray * hits)
{
  GPtrArray *series;
  GHashTable *seen = NULL;

  if (r->agg != APM_AGG_LAST && r->agg != APM_AGG_P95) {
    apm_history_keep (reg, r->metric);
    if (r->denominator)
      apm_history_keep (reg, r->denominator);
  }
  series = apm_registry_list_series (reg, r->metric);
  if (r->agg == APM_AGG_P95)
    seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint j = 0; series && j < series->len; j++) {
    ApmSeries *s = g_ptr_array_index (series, j);
    gdouble v;

    if (!series_matches (r, s))
      continue;
    if (seen)
      g_hash_table_add (seen, apm_series_dup_key (s));
    v = series_value (r, reg, s, now);
    if (isnan (v) || !compare (r->op, v, r->threshold))
      continue;
    if (r->require) {
      ApmSeries *req = apm_registry_find_series_like (reg, r->require, s);
      gboolean on = req && apm_series_value (req) > 0;

      g_clear_pointer (&req, apm_series_unref);
      if (!on)
        continue;
    }
    {
      Hit *h = g_new0 (Hit, 1);
      gchar *series_key = apm_series_dup_key (s);
      const gchar *const *names = apm_series_label_names (s);
      const gchar *const *values = apm_series_label_values (s);

      h->key = g_strconcat (r->name, "\x1e", series_key, NULL);
      g_free (series_key);
      h->labels = json_object_new ();
      for (guint i = 0; names && names[i]; i++)
        json_object_set_string_member (h->labels, names[i], values[i]);
      h->value = v;
      g_ptr_array_add (hits, h);
    }
  }
  if (seen) {
    /* forget the snapshots of series that are gone */
    GHashTableIter it;
    gpointer key;

    g_hash_table_iter_init (&it, r->snapshots);
    while (g_hash_table_iter_next (&it, &key, NULL))
      if (!g_hash_table_contains (seen, key))
        g_hash_table_iter_remove (&it);
    g_hash_table_destroy (seen);
  }
  g_clear_pointer (&series, g_ptr_array_unref);
}

/* a lifecycle event for the listeners, sent once the locks are released */
typedef struct
{
  const gchar *event;           /* pending, firing, resolved */
  JsonNode *alert;
} Notice;

static void
archive_locked (ApmAlerts * al, ApmAlert * a)
{
  g_queue_push_tail (&al->history, a);
  while (al->history.length > al->keep)
    alert_free (g_queue_pop_head (&al->history));
}

static void
add_notice (GArray * notices, const gchar * event, const ApmAlert * a)
{
  Notice n = { event, alert_to_json (a) };

  g_array_append_val (notices, n);
}

static void
hit_free (Hit * h)
{
  json_object_unref (h->labels);
  g_free (h);
}

/* The label sets for which @r's condition holds now (Hit) */
static GPtrArray *
collect_hits (ApmAlerts * al, ApmAlertRule * r, gint64 now)
{
  GPtrArray *hits = g_ptr_array_new ();

  if (r->func) {
    gdouble v = NAN;

    if (r->func (r->user_data, &v)) {
      Hit *h = g_new0 (Hit, 1);

      h->key = g_strdup (r->name);
      h->labels = json_object_new ();
      h->value = v;
      g_ptr_array_add (hits, h);
    }
  } else {
    evaluate_expr (r, al->registry, now, hits);
  }
  return hits;
}

/* A new pending alert for @h (called with the lock) */
static ApmAlert *
open_alert_locked (ApmAlerts * al, ApmAlertRule * r, Hit * h, gint64 now)
{
  ApmAlert *a = g_new0 (ApmAlert, 1);

  a->id = g_strdup_printf ("%s-%u", r->name, ++al->seq);
  a->rule = g_strdup (r->name);
  a->key = g_strdup (h->key);
  a->severity = r->severity;
  a->state = g_strdup ("pending");
  a->labels = json_object_ref (h->labels);
  a->threshold = r->func ? NAN : r->threshold;
  a->started_us = now;
  a->value = h->value;
  a->message = alert_rule_render_message (r, a->labels, h->value);
  g_hash_table_insert (al->active, a->key, a);
  return a;
}

/* Called with the lock, for each hit of @r: opens an alert for a new label
 * set, refreshes its value and message, and fires it once it has held for
 * the rule's "for".  Takes @hits' keys into @true_keys. */
static void
update_active_locked (ApmAlerts * al, ApmAlertRule * r, GPtrArray * hits,
    gint64 now, GHashTable * true_keys, GArray * notices)
{
  for (guint j = 0; j < hits->len; j++) {
    Hit *h = g_ptr_array_index (hits, j);
    ApmAlert *a;

    g_hash_table_add (true_keys, h->key);
    if (g_hash_table_contains (al->suppressed, h->key)) {
      hit_free (h);
      continue;
    }
    a = g_hash_table_lookup (al->active, h->key);
    if (!a) {
      a = open_alert_locked (al, r, h, now);
      add_notice (notices, "pending", a);
    }
    a->value = h->value;
    g_free (a->message);
    a->message = alert_rule_render_message (r, a->labels, h->value);
    if (strcmp (a->state, "pending") == 0
        && (now - a->started_us) / 1e6 >= r->for_s) {
      g_free (a->state);
      a->state = g_strdup ("firing");
      a->fired_us = now;
      add_notice (notices, "firing", a);
    }
    hit_free (h);
  }
}

/* Called with the lock, for what no longer holds: firing alerts resolve,
 * pending ones are dropped, suppressed keys are released */
static void
resolve_cleared_locked (ApmAlerts * al, GHashTable * true_keys, gint64 now,
    GArray * notices)
{
  GHashTableIter it;
  ApmAlert *a;
  gpointer key;

  g_hash_table_iter_init (&it, al->active);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & a)) {
    if (g_hash_table_contains (true_keys, a->key))
      continue;
    g_hash_table_iter_steal (&it);
    if (strcmp (a->state, "firing") == 0) {
      g_free (a->state);
      a->state = g_strdup ("resolved");
      a->resolved_us = now;
      a->resolved_by = "auto";
      add_notice (notices, "resolved", a);
      archive_locked (al, a);
    } else {
      alert_free (a);
    }
  }
  g_hash_table_iter_init (&it, al->suppressed);
  while (g_hash_table_iter_next (&it, &key, NULL))
    if (!g_hash_table_contains (true_keys, key))
      g_hash_table_iter_remove (&it);
}

/* Calls the listeners, no lock held, and frees @notices */
static void
notify_listeners (GArray * listeners, GArray * notices)
{
  for (guint i = 0; i < notices->len; i++) {
    Notice *n = &g_array_index (notices, Notice, i);

    for (guint j = 0; j < listeners->len; j++) {
      Listener *l = &g_array_index (listeners, Listener, j);

      l->func (n->event, n->alert, l->user_data);
    }
    json_node_unref (n->alert);
  }
  g_array_unref (notices);
}

void
apm_alerts_evaluate (ApmAlerts * al, gint64 now)
{
  GArray *notices = g_array_new (FALSE, FALSE, sizeof (Notice));
  GHashTable *true_keys = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, NULL);
  GArray *listeners;

  /* rules stay put during the evaluation; custom conditions must not add
   * or remove rules */
  g_mutex_lock (&al->rules_lock);
  for (guint i = 0; i < al->rules->len; i++) {
    ApmAlertRule *r = g_ptr_array_index (al->rules, i);
    GPtrArray *hits = collect_hits (al, r, now);

    g_mutex_lock (&al->lock);
    update_active_locked (al, r, hits, now, true_keys, notices);
    g_mutex_unlock (&al->lock);
    g_ptr_array_unref (hits);
  }

  g_mutex_lock (&al->lock);
  resolve_cleared_locked (al, true_keys, now, notices);
  listeners = g_array_copy (al->listeners);
  g_mutex_unlock (&al->lock);
  g_hash_table_destroy (true_keys);
  g_mutex_unlock (&al->rules_lock);

  notify_listeners (listeners, notices);
  g_array_unref (listeners);
}

JsonNode *
apm_alerts_resolve (ApmAlerts * al, const gchar * id)
{
  GHashTableIter it;
  ApmAlert *a, *found = NULL;
  JsonNode *node = NULL;
  GArray *listeners;

  g_mutex_lock (&al->lock);
  g_hash_table_iter_init (&it, al->active);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & a))
    if (strcmp (a->id, id) == 0) {
      found = a;
      g_hash_table_iter_steal (&it);
      break;
    }
  if (found) {
    g_free (found->state);
    found->state = g_strdup ("resolved");
    found->resolved_us = g_get_real_time ();
    found->resolved_by = "manual";
    /* stays quiet until its condition has cleared once */
    g_hash_table_add (al->suppressed, g_strdup (found->key));
    node = alert_to_json (found);
    archive_locked (al, found);
  }
  listeners = g_array_copy (al->listeners);
  g_mutex_unlock (&al->lock);
  for (guint j = 0; node && j < listeners->len; j++) {
    Listener *l = &g_array_index (listeners, Listener, j);

    l->func ("resolved", node, l->user_data);
  }
  g_array_unref (listeners);
  return node;
}

static gint
by_start (gconstpointer x, gconstpointer y)
{
  const ApmAlert *a = *(ApmAlert **) x, *b = *(ApmAlert **) y;

  return a->started_us < b->started_us ? 1 : a->started_us > b->started_us ?
      -1 : g_strcmp0 (a->id, b->id);
}

static JsonNode *
wrap_array (JsonArray * arr)
{
  JsonObject *o = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_array_member (o, "alerts", arr);
  json_node_take_object (node, o);
  return node;
}

JsonNode *
apm_alerts_active_json (ApmAlerts * al, gboolean firing_only)
{
  JsonArray *arr = json_array_new ();
  GPtrArray *list = g_ptr_array_new ();
  GHashTableIter it;
  ApmAlert *a;

  g_mutex_lock (&al->lock);
  g_hash_table_iter_init (&it, al->active);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & a))
    if (!firing_only || strcmp (a->state, "firing") == 0)
      g_ptr_array_add (list, a);
  g_ptr_array_sort (list, by_start);
  for (guint i = 0; i < list->len; i++)
    json_array_add_element (arr, alert_to_json (list->pdata[i]));
  g_mutex_unlock (&al->lock);
  g_ptr_array_unref (list);
  return wrap_array (arr);
}

JsonNode *
apm_alerts_history_json (ApmAlerts * al)
{
  JsonArray *arr = json_array_new ();

  g_mutex_lock (&al->lock);
  for (GList * l = al->history.tail; l; l = l->prev)
    json_array_add_element (arr, alert_to_json (l->data));
  g_mutex_unlock (&al->lock);
  return wrap_array (arr);
}

JsonNode *
apm_alerts_rules_json (ApmAlerts * al)
{
  JsonArray *arr = json_array_new ();
  JsonObject *o = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  g_mutex_lock (&al->rules_lock);
  for (guint i = 0; i < al->rules->len; i++)
    json_array_add_element (arr, apm_alert_rule_to_json (al->rules->pdata[i]));
  g_mutex_unlock (&al->rules_lock);
  json_object_set_array_member (o, "rules", arr);
  json_node_take_object (node, o);
  return node;
}

guint
apm_alerts_n_firing (ApmAlerts * al, gint * worst)
{
  GHashTableIter it;
  ApmAlert *a;
  guint n = 0;
  gint w = -1;

  g_mutex_lock (&al->lock);
  g_hash_table_iter_init (&it, al->active);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & a))
    if (strcmp (a->state, "firing") == 0) {
      n++;
      w = MAX (w, (gint) a->severity);
    }
  g_mutex_unlock (&al->lock);
  if (worst)
    *worst = w;
  return n;
}

guint
apm_alerts_n_pending (ApmAlerts * al)
{
  GHashTableIter it;
  ApmAlert *a;
  guint n = 0;

  g_mutex_lock (&al->lock);
  g_hash_table_iter_init (&it, al->active);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & a))
    n += strcmp (a->state, "pending") == 0;
  g_mutex_unlock (&al->lock);
  return n;
}

typedef struct
{
  gchar *name;
  ApmSeverity severity;
} RuleName;

static void
rule_name_clear (RuleName * r)
{
  g_free (r->name);
}

void
apm_alerts_foreach_rule (ApmAlerts * al, ApmAlertRuleFunc func,
    gpointer user_data)
{
  GArray *rules = g_array_new (FALSE, FALSE, sizeof (RuleName));
  GHashTable *firing = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter it;
  ApmAlert *a;

  g_array_set_clear_func (rules, (GDestroyNotify) rule_name_clear);
  g_mutex_lock (&al->rules_lock);
  for (guint i = 0; i < al->rules->len; i++) {
    ApmAlertRule *r = al->rules->pdata[i];
    RuleName rn = { g_strdup (r->name), r->severity };

    g_array_append_val (rules, rn);
  }
  g_mutex_unlock (&al->rules_lock);

  g_mutex_lock (&al->lock);
  g_hash_table_iter_init (&it, al->active);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & a))
    if (strcmp (a->state, "firing") == 0) {
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (firing, a->rule));

      /* the rule names are those of the copy, alive past the lock */
      for (guint i = 0; i < rules->len; i++)
        if (strcmp (g_array_index (rules, RuleName, i).name, a->rule) == 0)
          g_hash_table_insert (firing, g_array_index (rules, RuleName,
                  i).name, GUINT_TO_POINTER (n + 1));
    }
  g_mutex_unlock (&al->lock);

  for (guint i = 0; i < rules->len; i++) {
    RuleName *rn = &g_array_index (rules, RuleName, i);

    func (rn->name, rn->severity, GPOINTER_TO_UINT (g_hash_table_lookup
            (firing, rn->name)), user_data);
  }
  g_hash_table_destroy (firing);
  g_array_unref (rules);
}
