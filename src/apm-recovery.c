/* gst-apm: automated recovery of pipelines, the core's part
 *
 * Policies per label glob, the decision to attempt (backoff, attempts per
 * window, giving up), the recovery thread that calls the glue's handler,
 * and what every attempt leaves behind: a log line, a metric, a WebSocket
 * event.  See apm-recovery.h.
 */
#include "apm-recovery.h"

#include <math.h>
#include <string.h>
#include <unistd.h>
#include "apm-service.h"

typedef struct
{
  gchar *glob;
  GPatternSpec *pattern;
  ApmRecoveryPolicy policy;
  gboolean from_application;
} PolicyEntry;

/* what the recovery remembers of one pipeline label */
typedef struct
{
  gchar *label;
  gint64 window_start_us;
  guint attempts;               /* in the window */
  gboolean busy;                /* an attempt is scheduled or running */
  gboolean gave_up;
  gint64 healthy_since_us;      /* after a give-up: playing cleanly since */
} LabelState;

typedef struct
{
  gchar *label;
  gchar *correlation_id;
  ApmRecoveryAction action;
  ApmRecoveryTrigger reason;
  guint attempt, max_attempts;
  gint64 due_us;
} Attempt;

static GMutex lock;
static GCond cond;
static GPtrArray *policies;     /* PolicyEntry, in the order set */
static GHashTable *states;      /* label -> LabelState */
static GList *queue;            /* Attempt, by due time */
static GThread *thread;
static pid_t thread_pid;
static gboolean stopping;
static ApmRecoveryHandler handler;
static gpointer handler_data;

const gchar *
apm_recovery_trigger_name (ApmRecoveryTrigger trigger)
{
  switch (trigger) {
    case APM_RECOVERY_ON_STALL:
      return "stall";
    case APM_RECOVERY_ON_STUCK:
      return "stuck";
    case APM_RECOVERY_ON_ERROR:
      return "error";
  }
  return "?";
}

const gchar *
apm_recovery_action_name (ApmRecoveryAction action)
{
  return action == APM_RECOVERY_FLUSH ? "flush" : "restart";
}

static gboolean
parse_seconds (const gchar * key, const gchar * value, gdouble min,
    gdouble max, gdouble * out, GError ** error)
{
  gchar *end = NULL;
  gdouble v = g_ascii_strtod (value, &end);

  if (!*value || *end || !isfinite (v) || v < min || v > max) {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
        "recovery option %s=%s must be a number from %g to %g", key, value,
        min, max);
    return FALSE;
  }
  *out = v;
  return TRUE;
}

static gboolean
parse_option (const gchar * option, ApmRecoveryPolicy * p, GError ** error)
{
  const gchar *eq = strchr (option, '=');
  gchar *key;
  gdouble v;
  gboolean ok;

  if (!eq) {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
        "recovery option '%s' must be KEY=VALUE (max, window, backoff, "
        "max-backoff)", option);
    return FALSE;
  }
  key = g_strndup (option, eq - option);
  if (strcmp (key, "max") == 0) {
    ok = parse_seconds (key, eq + 1, 1, 1000, &v, error);
    if (ok && v != floor (v)) {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
          "recovery option max=%s must be a whole number", eq + 1);
      ok = FALSE;
    }
    if (ok)
      p->max_attempts = v;
  } else if (strcmp (key, "window") == 0) {
    ok = parse_seconds (key, eq + 1, 1, 86400, &p->window_s, error);
  } else if (strcmp (key, "backoff") == 0) {
    ok = parse_seconds (key, eq + 1, 0, 3600, &p->backoff_s, error);
  } else if (strcmp (key, "max-backoff") == 0) {
    ok = parse_seconds (key, eq + 1, 0, 3600, &p->max_backoff_s, error);
  } else {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
        "unknown recovery option '%s' (known: max, window, backoff, "
        "max-backoff)", key);
    ok = FALSE;
  }
  g_free (key);
  return ok;
}

gboolean
apm_recovery_policy_parse (const gchar * text, ApmRecoveryPolicy * policy,
    GError ** error)
{
  ApmRecoveryPolicy p = { 0, APM_RECOVERY_RESTART,
    APM_RECOVERY_DEFAULT_MAX_ATTEMPTS, APM_RECOVERY_DEFAULT_WINDOW,
    APM_RECOVERY_DEFAULT_BACKOFF, APM_RECOVERY_DEFAULT_MAX_BACKOFF
  };
  gchar **parts, **triggers;
  const gchar *colon;
  gboolean ok = TRUE;

  g_return_val_if_fail (text != NULL, FALSE);
  colon = strchr (text, ':');
  if (!colon) {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
        "recovery policy '%s' must be TRIGGERS:ACTION[,OPTION=VALUE...], "
        "e.g. stall+stuck:restart,max=5", text);
    return FALSE;
  }
  {
    gchar *t = g_strndup (text, colon - text);

    triggers = g_strsplit (t, "+", -1);
    g_free (t);
  }
  for (guint i = 0; ok && triggers[i]; i++) {
    if (strcmp (triggers[i], "stall") == 0)
      p.triggers |= APM_RECOVERY_ON_STALL;
    else if (strcmp (triggers[i], "stuck") == 0)
      p.triggers |= APM_RECOVERY_ON_STUCK;
    else if (strcmp (triggers[i], "error") == 0)
      p.triggers |= APM_RECOVERY_ON_ERROR;
    else {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
          "unknown recovery trigger '%s' (known: stall, stuck, error)",
          triggers[i]);
      ok = FALSE;
    }
  }
  g_strfreev (triggers);
  if (!ok)
    return FALSE;
  if (!p.triggers) {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
        "recovery policy '%s' names no trigger (stall, stuck, error)", text);
    return FALSE;
  }
  parts = g_strsplit (colon + 1, ",", -1);
  if (g_strcmp0 (parts[0], "restart") == 0)
    p.action = APM_RECOVERY_RESTART;
  else if (g_strcmp0 (parts[0], "flush") == 0)
    p.action = APM_RECOVERY_FLUSH;
  else {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
        "unknown recovery action '%s' (known: restart, flush)",
        parts[0] ? parts[0] : "");
    ok = FALSE;
  }
  for (guint i = 1; ok && parts[i]; i++)
    ok = parse_option (parts[i], &p, error);
  g_strfreev (parts);
  if (ok && p.max_backoff_s < p.backoff_s)
    p.max_backoff_s = p.backoff_s;
  if (ok)
    *policy = p;
  return ok;
}

gchar *
apm_recovery_policy_to_string (const ApmRecoveryPolicy * p)
{
  GString *s = g_string_new (NULL);
  static const ApmRecoveryTrigger all[] = { APM_RECOVERY_ON_STALL,
    APM_RECOVERY_ON_STUCK, APM_RECOVERY_ON_ERROR
  };

  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    if (p->triggers & all[i])
      g_string_append_printf (s, "%s%s", s->len ? "+" : "",
          apm_recovery_trigger_name (all[i]));
  g_string_append_printf (s, ":%s,max=%u,window=%g,backoff=%g,"
      "max-backoff=%g", apm_recovery_action_name (p->action), p->max_attempts,
      p->window_s, p->backoff_s, p->max_backoff_s);
  return g_string_free (s, FALSE);
}

static void
policy_entry_free (PolicyEntry * e)
{
  g_pattern_spec_free (e->pattern);
  g_free (e->glob);
  g_free (e);
}

static void
label_state_free (LabelState * st)
{
  g_free (st->label);
  g_free (st);
}

static void
attempt_free (Attempt * a)
{
  g_free (a->label);
  g_free (a->correlation_id);
  g_free (a);
}

/* called with lock */
static void
ensure_tables_locked (void)
{
  if (!policies)
    policies = g_ptr_array_new_with_free_func ((GDestroyNotify)
        policy_entry_free);
  if (!states)
    states = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
        (GDestroyNotify) label_state_free);
}

void
apm_recovery_set_policy (const gchar * glob, const ApmRecoveryPolicy * policy,
    gboolean from_application)
{
  PolicyEntry *e;

  g_return_if_fail (glob != NULL);
  g_mutex_lock (&lock);
  ensure_tables_locked ();
  for (guint i = 0; i < policies->len; i++)
    if (strcmp (((PolicyEntry *) policies->pdata[i])->glob, glob) == 0) {
      g_ptr_array_remove_index (policies, i);
      break;
    }
  if (policy) {
    e = g_new0 (PolicyEntry, 1);
    e->glob = g_strdup (glob);
    e->pattern = g_pattern_spec_new (glob);
    e->policy = *policy;
    e->from_application = from_application;
    g_ptr_array_add (policies, e);
  }
  g_mutex_unlock (&lock);
}

static void
policies_from_text (const gchar * text, GPtrArray * problems,
    gboolean install);

void
apm_recovery_set_policies_from_text (const gchar * text, GPtrArray * problems)
{
  policies_from_text (text, problems, TRUE);
}

void
apm_recovery_check_policies_text (const gchar * text, GPtrArray * problems)
{
  policies_from_text (text, problems, FALSE);
}

static void
policies_from_text (const gchar * text, GPtrArray * problems,
    gboolean install)
{
  gchar **entries = g_strsplit_set (text, " \t\n", -1);

  for (guint i = 0; entries[i]; i++) {
    gchar *entry = entries[i], *colon, *eq, *glob = NULL;
    const gchar *policy_text = entry;
    ApmRecoveryPolicy p;
    GError *error = NULL;

    if (!*entry)
      continue;
    /* GLOB=POLICY: the '=' before the first ':' (options come after it) */
    colon = strchr (entry, ':');
    eq = strchr (entry, '=');
    if (eq && (!colon || eq < colon)) {
      glob = g_strndup (entry, eq - entry);
      policy_text = eq + 1;
    }
    if (glob && !*glob) {
      if (problems)
        g_ptr_array_add (problems, g_strdup_printf ("param recovery: '%s' has "
              "an empty pipeline pattern: ignored", entry));
    } else if (!apm_recovery_policy_parse (policy_text, &p, &error)) {
      if (problems)
        g_ptr_array_add (problems, g_strdup_printf ("param recovery: %s: "
                "ignored", error->message));
      g_clear_error (&error);
    } else {
      if ((p.triggers & APM_RECOVERY_ON_ERROR) && problems)
        g_ptr_array_add (problems, g_strdup_printf ("param recovery: '%s': "
                "the error trigger acts only for pipelines whose "
                "application opted in with apm_monitor_set_recovery(); "
                "here it is ignored", entry));
      if (install)
        apm_recovery_set_policy (glob ? glob : "*", &p, FALSE);
    }
    g_free (glob);
  }
  g_strfreev (entries);
}

/* called with lock */
static PolicyEntry *
lookup_locked (const gchar * label)
{
  if (!policies)
    return NULL;
  for (guint i = policies->len; i > 0; i--) {
    PolicyEntry *e = policies->pdata[i - 1];

    if (g_pattern_spec_match_string (e->pattern, label))
      return e;
  }
  return NULL;
}

gboolean
apm_recovery_lookup (const gchar * label, ApmRecoveryPolicy * policy,
    gboolean * from_application)
{
  PolicyEntry *e;

  g_mutex_lock (&lock);
  if ((e = lookup_locked (label))) {
    *policy = e->policy;
    if (from_application)
      *from_application = e->from_application;
  }
  g_mutex_unlock (&lock);
  return e != NULL;
}

void
apm_recovery_set_handler (ApmRecoveryHandler func, gpointer user_data)
{
  g_mutex_lock (&lock);
  handler = func;
  handler_data = user_data;
  g_mutex_unlock (&lock);
}

/* --- what an attempt leaves behind --- */

static void
count (const gchar * label, ApmRecoveryTrigger reason, const gchar * result)
{
  static const gchar *const names[] = { "pipeline", "reason", "result",
    NULL
  };
  ApmRegistry *reg = apm_service_get_registry (apm_service_get_default ());
  ApmFamily *f = apm_registry_family (reg, "apm_pipeline_recoveries_total",
      APM_METRIC_COUNTER, "Automated recovery attempts of a pipeline by "
      "reason (stall, stuck, error) and result (success, failure, gave_up)",
      names, NULL, 0);
  const gchar *values[] = { label, apm_recovery_trigger_name (reason),
    result, NULL
  };
  ApmSeries *s = apm_family_series (f, values);

  apm_counter_add_int (s, 1);
  apm_series_unref (s);
}

static void
set_gave_up (const gchar * label, gboolean gave_up)
{
  static const gchar *const names[] = { "pipeline", NULL };
  ApmRegistry *reg = apm_service_get_registry (apm_service_get_default ());
  ApmFamily *f = apm_registry_family (reg, "apm_pipeline_recovery_gave_up",
      APM_METRIC_GAUGE, "1 while automated recovery of the pipeline has "
      "given up (its attempts in the window are spent)", names, NULL, 0);
  const gchar *values[] = { label, NULL };
  ApmSeries *s = apm_family_series (f, values);

  apm_gauge_set_int (s, gave_up);
  apm_series_unref (s);
}

/* the log line and the WebSocket event of an attempt (or a give-up) */
static void
report (const Attempt * a, const gchar * result, const gchar * detail)
{
  ApmService *service = apm_service_get_default ();
  JsonObject *ctx = json_object_new (), *data;
  JsonNode *event;
  const gchar *reason = apm_recovery_trigger_name (a->reason);
  const gchar *action = apm_recovery_action_name (a->action);
  gboolean ok = strcmp (result, "success") == 0;

  json_object_set_string_member (ctx, "pipeline", a->label);
  json_object_set_string_member (ctx, "reason", reason);
  json_object_set_string_member (ctx, "action", action);
  json_object_set_int_member (ctx, "attempt", a->attempt);
  json_object_set_int_member (ctx, "max_attempts", a->max_attempts);
  json_object_set_string_member (ctx, "result", result);
  if (detail)
    json_object_set_string_member (ctx, "detail", detail);
  /* the event: the log context and the correlation id (the log line
   * carries it outside its context) */
  data = json_object_new ();
  {
    GList *members = json_object_get_members (ctx);

    for (GList * l = members; l; l = l->next)
      json_object_set_member (data, l->data,
          json_object_dup_member (ctx, l->data));
    g_list_free (members);
  }
  if (a->correlation_id)
    json_object_set_string_member (data, "correlation_id", a->correlation_id);
  else
    json_object_set_null_member (data, "correlation_id");
  event = json_node_init_object (json_node_alloc (), data);
  apm_service_publish (service, "recovery", event);
  json_node_unref (event);
  json_object_unref (data);
  if (strcmp (result, "gave_up") == 0)
    apm_log_write (apm_service_get_log (service), APM_LOG_ERROR, "recovery",
        a->correlation_id, ctx, "recovery of %s gave up: %u attempts on %s "
        "spent", a->label, a->max_attempts, reason);
  else
    apm_log_write (apm_service_get_log (service), ok ? APM_LOG_WARNING :
        APM_LOG_ERROR, "recovery", a->correlation_id, ctx,
        "recovery of %s: %s on %s, attempt %u/%u: %s%s%s", a->label, action,
        reason, a->attempt, a->max_attempts, result, detail ? ": " : "",
        detail ? detail : "");
}

/* --- the recovery thread --- */

static gpointer
recovery_thread (gpointer data)
{
  g_mutex_lock (&lock);
  while (!stopping) {
    Attempt *a;
    ApmRecoveryHandler func;
    gpointer func_data;
    gchar *detail = NULL;
    gboolean done;
    LabelState *st;

    if (!queue) {
      g_cond_wait (&cond, &lock);
      continue;
    }
    a = queue->data;
    if (a->due_us > g_get_monotonic_time ()) {
      g_cond_wait_until (&cond, &lock, a->due_us);
      continue;
    }
    queue = g_list_delete_link (queue, queue);
    func = handler;
    func_data = handler_data;
    g_mutex_unlock (&lock);

    /* no lock held: the handler changes states, which may block */
    if (func)
      done = func (a->label, a->action, a->reason, &detail, func_data);
    else {
      done = FALSE;
      detail = g_strdup ("nothing can act on pipelines in this process");
    }
    count (a->label, a->reason, done ? "success" : "failure");
    report (a, done ? "success" : "failure", detail);
    g_free (detail);

    g_mutex_lock (&lock);
    if (states && (st = g_hash_table_lookup (states, a->label)))
      st->busy = FALSE;
    attempt_free (a);
  }
  g_mutex_unlock (&lock);
  return NULL;
}

static gint
by_due (gconstpointer a, gconstpointer b)
{
  gint64 x = ((const Attempt *) a)->due_us, y = ((const Attempt *) b)->due_us;

  return x < y ? -1 : x > y;
}

/* called with lock */
static void
ensure_thread_locked (void)
{
  if (thread && thread_pid == getpid ())
    return;
  /* none yet, or the parent's before a fork(): this process has none */
  thread_pid = getpid ();
  stopping = FALSE;
  thread = g_thread_new ("apm-recovery", recovery_thread, NULL);
}

ApmRecoveryDecision
apm_recovery_trigger (const gchar * label, ApmRecoveryTrigger reason,
    const gchar * correlation_id)
{
  ApmRecoveryDecision decision = APM_RECOVERY_SCHEDULED;
  gint64 now = g_get_monotonic_time ();
  PolicyEntry *e;
  LabelState *st;
  Attempt *a, gave_up = { 0 };
  gdouble delay;
  gboolean window_over = FALSE;

  g_mutex_lock (&lock);
  e = lookup_locked (label);
  if (!e || !(e->policy.triggers & reason)) {
    g_mutex_unlock (&lock);
    return APM_RECOVERY_NO_POLICY;
  }
  ensure_tables_locked ();
  if (!(st = g_hash_table_lookup (states, label))) {
    st = g_new0 (LabelState, 1);
    st->label = g_strdup (label);
    st->window_start_us = now;
    g_hash_table_insert (states, st->label, st);
  }
  if (now - st->window_start_us > e->policy.window_s * G_USEC_PER_SEC) {
    /* a new window: attempts anew (the gauge goes down below) */
    window_over = st->gave_up;
    st->window_start_us = now;
    st->attempts = 0;
    st->gave_up = FALSE;
  }
  st->healthy_since_us = 0;
  if (st->busy) {
    g_mutex_unlock (&lock);
    return APM_RECOVERY_SCHEDULED;
  }
  if (st->gave_up) {
    g_mutex_unlock (&lock);
    return APM_RECOVERY_GAVE_UP;
  }
  if (st->attempts >= e->policy.max_attempts) {
    st->gave_up = TRUE;
    gave_up.label = (gchar *) label;
    gave_up.correlation_id = (gchar *) correlation_id;
    gave_up.action = e->policy.action;
    gave_up.reason = reason;
    gave_up.attempt = gave_up.max_attempts = e->policy.max_attempts;
    decision = APM_RECOVERY_GAVE_UP;
  } else {
    delay = MIN (e->policy.backoff_s * (1u << MIN (st->attempts, 20)),
        e->policy.max_backoff_s);
    st->attempts++;
    st->busy = TRUE;
    a = g_new0 (Attempt, 1);
    a->label = g_strdup (label);
    a->correlation_id = g_strdup (correlation_id);
    a->action = e->policy.action;
    a->reason = reason;
    a->attempt = st->attempts;
    a->max_attempts = e->policy.max_attempts;
    a->due_us = now + (gint64) (delay * G_USEC_PER_SEC);
    queue = g_list_insert_sorted (queue, a, by_due);
    ensure_thread_locked ();
    g_cond_signal (&cond);
  }
  g_mutex_unlock (&lock);
  if (window_over && decision != APM_RECOVERY_GAVE_UP)
    set_gave_up (label, FALSE);
  if (decision == APM_RECOVERY_GAVE_UP) {
    count (label, reason, "gave_up");
    set_gave_up (label, TRUE);
    report (&gave_up, "gave_up", NULL);
  }
  return decision;
}

void
apm_recovery_note_healthy (const gchar * label)
{
  LabelState *st;
  gboolean was = FALSE;

  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&lock);
  if (states && (st = g_hash_table_lookup (states, label)) && st->gave_up
      && !st->busy) {
    /* a pipeline that plays a moment between faults has not recovered */
    if (!st->healthy_since_us)
      st->healthy_since_us = now;
    if (now - st->healthy_since_us >= APM_RECOVERY_HEALTHY_SECONDS *
        G_USEC_PER_SEC) {
      st->gave_up = FALSE;
      st->attempts = 0;
      st->window_start_us = now;
      was = TRUE;
    }
  }
  g_mutex_unlock (&lock);
  if (was)
    set_gave_up (label, FALSE);
}

void
apm_recovery_forget (const gchar * label)
{
  g_mutex_lock (&lock);
  if (states)
    g_hash_table_remove (states, label);
  g_mutex_unlock (&lock);
}

void
apm_recovery_shutdown (void)
{
  GThread *t = NULL;

  g_mutex_lock (&lock);
  if (thread && thread_pid == getpid ()) {
    stopping = TRUE;
    g_cond_signal (&cond);
    t = thread;
  }
  thread = NULL;
  g_mutex_unlock (&lock);
  if (t)
    g_thread_join (t);
  g_mutex_lock (&lock);
  g_list_free_full (queue, (GDestroyNotify) attempt_free);
  queue = NULL;
  g_clear_pointer (&states, g_hash_table_destroy);
  g_clear_pointer (&policies, g_ptr_array_unref);
  g_mutex_unlock (&lock);
}
