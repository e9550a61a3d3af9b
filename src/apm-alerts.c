/* gst-apm: the set of alert rules, and their alerts' lifecycle (pending,
 * firing, resolved), listeners and JSON views */
#include "apm-alerts-private.h"
#include "apm-json.h"
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

/* what is left of a hit once its key has gone into the true keys */
static void
hit_free (ApmAlertHit * h)
{
  json_object_unref (h->labels);
  g_free (h);
}

/* A new pending alert for @h (called with the lock) */
static ApmAlert *
open_alert_locked (ApmAlerts * al, ApmAlertRule * r, ApmAlertHit * h,
    gint64 now)
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
  a->message = alert_rule_render_message (r, a->labels, h->value, h->eta_s);
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
    ApmAlertHit *h = g_ptr_array_index (hits, j);
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
    a->message = alert_rule_render_message (r, a->labels, h->value, h->eta_s);
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
    GPtrArray *hits = alert_rule_collect_hits (r, al->registry, now);

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

guint
apm_alerts_restore_history (ApmAlerts * al, JsonArray * history)
{
  guint n = 0, len = json_array_get_length (history);

  g_mutex_lock (&al->lock);
  /* oldest first to the head, so the newest restored is just before the
   * ones resolved in this run */
  for (guint i = 0; i < len && al->history.length < al->keep; i++) {
    JsonNode *node = json_array_get_element (history, i);
    JsonObject *o = JSON_NODE_HOLDS_OBJECT (node) ?
        json_node_get_object (node) : NULL;
    const gchar *id = o ? apm_json_string (o, "id") : NULL;
    const gchar *rule = o ? apm_json_string (o, "rule") : NULL;
    const gchar *by = o ? apm_json_string (o, "resolved_by") : NULL;
    JsonNode *labels = o ? json_object_get_member (o, "labels") : NULL;
    const gchar *dash;
    ApmAlert *a;

    if (!id || !rule || !labels || !JSON_NODE_HOLDS_OBJECT (labels))
      continue;
    a = g_new0 (ApmAlert, 1);
    a->id = g_strdup (id);
    a->rule = g_strdup (rule);
    a->key = g_strdup (id);
    if (!apm_severity_from_string (apm_json_string (o, "severity"),
            &a->severity))
      a->severity = APM_SEVERITY_WARNING;
    a->state = g_strdup ("resolved");
    a->message = g_strdup (apm_json_string (o, "message") ?
        apm_json_string (o, "message") : "");
    a->labels = json_object_ref (json_node_get_object (labels));
    a->value = apm_json_number (o, "value", NAN);
    a->threshold = apm_json_number (o, "threshold", NAN);
    a->started_us = apm_time_parse (apm_json_string (o, "started_at"));
    a->fired_us = apm_time_parse (apm_json_string (o, "fired_at"));
    a->resolved_us = apm_time_parse (apm_json_string (o, "resolved_at"));
    a->resolved_by = g_strcmp0 (by, "manual") == 0 ? "manual" :
        by ? "auto" : NULL;
    g_queue_push_head (&al->history, a);
    /* new alerts number on from the restored ones: ids stay unique */
    if ((dash = strrchr (id, '-')))
      al->seq = MAX (al->seq, (guint) g_ascii_strtoull (dash + 1, NULL, 10));
    n++;
  }
  g_mutex_unlock (&al->lock);
  return n;
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
