/* gst-apm: ApmCircuitBreaker, a circuit breaker for calls to an outside
 * dependency, visible in the monitor
 *
 * Closed, it lets calls through and counts consecutive failures; at the
 * threshold it opens and refuses calls for the reset timeout; then it is
 * half-open: one trial call goes through, and its result closes the breaker
 * or opens it again.  The timeout is read lazily, by allow() and
 * get_state() (and so by the breaker's health check, each second).
 *
 * The state lives in a reference-counted Core that the breaker's health
 * check ("breaker:NAME", on the default service) shares, so the check can
 * run while the breaker is being finalized.  Transitions are logged and
 * published on the WebSocket feed after the breaker's lock is released.
 */
#include "apm-breaker-private.h"
#include "apm-service.h"
#include "apm-time.h"

#include <json-glib/json-glib.h>
#include <string.h>

G_DEFINE_ENUM_TYPE (ApmCircuitState, apm_circuit_state,
    G_DEFINE_ENUM_VALUE (APM_CIRCUIT_STATE_CLOSED, "closed"),
    G_DEFINE_ENUM_VALUE (APM_CIRCUIT_STATE_HALF_OPEN, "half-open"),
    G_DEFINE_ENUM_VALUE (APM_CIRCUIT_STATE_OPEN, "open"));

#define N_STATES 3

/* the label values of apm_circuit_breaker_transitions_total{to} */
static const gchar *const state_names[N_STATES] = {
  "closed", "half_open", "open"
};

typedef struct
{
  gchar *name;
  guint threshold;
  gint64 reset_us;

  GMutex lock;
  ApmBreakerClock clock;
  gpointer clock_data;
  ApmCircuitState state;
  guint failures;               /* consecutive, while closed */
  guint failures_at_open;       /* for the messages */
  gint64 opened_us;             /* clock time of the last opening */
  gint64 opened_wall_us;
  gboolean trial;               /* half-open: the trial call is out */
  gint64 trial_us;
  guint64 n_rejected;
  guint64 n_transitions;
  /* the registration, under the lock; NULL once unregistered or detached
   * (the service went first) */
  ApmService *service;
  ApmSeries *state_gauge, *transitions[N_STATES], *rejected;
} Core;

struct _ApmCircuitBreaker
{
  GObject parent;
  Core *core;
};

G_DEFINE_TYPE (ApmCircuitBreaker, apm_circuit_breaker, G_TYPE_OBJECT);

/* name -> Core that owns the name's check and series (the newest breaker
 * of that name), under breakers_lock; taken before a Core's lock */
static GMutex breakers_lock;
static GHashTable *breakers;

static void
core_clear (gpointer data)
{
  Core *c = data;

  g_free (c->name);
  g_mutex_clear (&c->lock);
}

static Core *
core_ref (Core * c)
{
  return g_atomic_rc_box_acquire (c);
}

static void
core_unref (gpointer c)
{
  g_atomic_rc_box_release_full (c, core_clear);
}

static const gchar *
state_to_string (ApmCircuitState state)
{
  switch (state) {
    case APM_CIRCUIT_STATE_CLOSED:
      return "closed";
    case APM_CIRCUIT_STATE_HALF_OPEN:
      return "half-open";
    default:
      return "open";
  }
}

/* called with the lock */
static gint64
now_locked (Core * c)
{
  return c->clock ? c->clock (c->clock_data) : g_get_monotonic_time ();
}

/* A transition, told after the lock is released */
typedef struct
{
  gboolean happened;
  ApmCircuitState from, to;
  guint failures;
  guint64 seq;
  ApmService *service;
} Transition;

/* called with the lock */
static void
transition_locked (Core * c, ApmCircuitState to, Transition * t)
{
  t->happened = TRUE;
  t->from = c->state;
  t->to = to;
  t->failures = c->failures_at_open;
  t->seq = ++c->n_transitions;
  t->service = c->service;
  c->state = to;
  if (to == APM_CIRCUIT_STATE_OPEN) {
    c->opened_us = now_locked (c);
    c->opened_wall_us = g_get_real_time ();
  }
  if (to != APM_CIRCUIT_STATE_HALF_OPEN)
    c->trial = FALSE;
  if (to == APM_CIRCUIT_STATE_CLOSED)
    c->failures = 0;
  if (c->state_gauge) {
    apm_gauge_set_int (c->state_gauge, to);
    apm_counter_add_int (c->transitions[to], 1);
  }
}

/* called with the lock: open long enough, half-open now */
static void
advance_locked (Core * c, Transition * t)
{
  if (c->state == APM_CIRCUIT_STATE_OPEN
      && now_locked (c) - c->opened_us >= c->reset_us)
    transition_locked (c, APM_CIRCUIT_STATE_HALF_OPEN, t);
}

/* Logs and publishes @t (no lock held).  A service detached meanwhile has
 * left @t->service dangling only if it was shut down while this breaker
 * was in use, which the service does not support for any API call. */
static void
tell (Core * c, const Transition * t)
{
  JsonObject *ctx, *event;
  JsonNode *node;
  ApmLogLevel level;
  const gchar *why;

  if (!t->happened || !t->service)
    return;
  if (t->to == APM_CIRCUIT_STATE_OPEN)
    why = t->from == APM_CIRCUIT_STATE_HALF_OPEN ? "the trial call failed" :
        "consecutive failures reached the threshold";
  else if (t->to == APM_CIRCUIT_STATE_HALF_OPEN)
    why = "reset timeout passed: one trial call goes through";
  else
    why = "the trial call succeeded";
  level = t->to == APM_CIRCUIT_STATE_OPEN ? APM_LOG_WARNING : APM_LOG_INFO;

  ctx = json_object_new ();
  json_object_set_string_member (ctx, "breaker", c->name);
  json_object_set_string_member (ctx, "from", state_to_string (t->from));
  json_object_set_string_member (ctx, "to", state_to_string (t->to));
  json_object_set_int_member (ctx, "consecutive_failures", t->failures);
  json_object_set_int_member (ctx, "failure_threshold", c->threshold);
  json_object_set_double_member (ctx, "reset_timeout_seconds",
      c->reset_us / 1e6);
  apm_log_write (apm_service_get_log (t->service), level, "breaker", NULL,
      ctx, "circuit breaker %s is %s (was %s): %s", c->name,
      state_to_string (t->to), state_to_string (t->from), why);

  event = json_object_new ();
  json_object_set_string_member (event, "name", c->name);
  json_object_set_string_member (event, "state", state_to_string (t->to));
  json_object_set_string_member (event, "previous",
      state_to_string (t->from));
  json_object_set_string_member (event, "reason", why);
  json_object_set_int_member (event, "consecutive_failures", t->failures);
  /* transitions may be told out of order by racing threads: the sequence
   * says which is the latest */
  json_object_set_int_member (event, "seq", t->seq);
  {
    gchar *now = apm_time_format (g_get_real_time ());

    json_object_set_string_member (event, "time", now);
    g_free (now);
  }
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, event);
  apm_service_publish (t->service, "breaker", node);
  json_node_unref (node);
}

/* --- the health check "breaker:NAME" (service thread, inline) --- */

static ApmHealthStatus
breaker_check (gpointer user_data, gchar ** message, JsonObject ** details)
{
  Core *c = user_data;
  Transition t = { 0 };
  ApmHealthStatus status;

  g_mutex_lock (&c->lock);
  advance_locked (c, &t);
  *details = json_object_new ();
  json_object_set_string_member (*details, "state",
      state_to_string (c->state));
  json_object_set_int_member (*details, "consecutive_failures",
      c->state == APM_CIRCUIT_STATE_CLOSED ? c->failures :
      c->failures_at_open);
  json_object_set_int_member (*details, "failure_threshold", c->threshold);
  json_object_set_double_member (*details, "reset_timeout_seconds",
      c->reset_us / 1e6);
  json_object_set_int_member (*details, "rejected_calls", c->n_rejected);
  switch (c->state) {
    case APM_CIRCUIT_STATE_CLOSED:
      status = APM_HEALTH_HEALTHY;
      *message = g_strdup_printf ("closed (%u consecutive failures, opens "
          "at %u)", c->failures, c->threshold);
      break;
    case APM_CIRCUIT_STATE_HALF_OPEN:
      status = APM_HEALTH_DEGRADED;
      *message = g_strdup_printf ("half-open: %s", c->trial ?
          "a trial call is out" : "the next call is a trial");
      break;
    default:{
      gchar *since = apm_time_format (c->opened_wall_us);
      gint64 left = c->reset_us - (now_locked (c) - c->opened_us);

      status = APM_HEALTH_DEGRADED;
      *message = g_strdup_printf ("open since %s after %u consecutive "
          "failures: calls refused (%" G_GUINT64_FORMAT " so far), a trial "
          "in %.1f s", since, c->failures_at_open, c->n_rejected,
          MAX (left, 0) / 1e6);
      json_object_set_string_member (*details, "opened_at", since);
      g_free (since);
      break;
    }
  }
  g_mutex_unlock (&c->lock);
  tell (c, &t);
  return status;
}

static gchar *
check_name (Core * c)
{
  return g_strconcat ("breaker:", c->name, NULL);
}

/* --- registration on the default service --- */

static void
register_core (Core * c)
{
  ApmService *s = apm_service_get_default ();
  ApmRegistry *reg = apm_service_get_registry (s);
  static const gchar *const name_label[] = { "name", NULL };
  static const gchar *const transition_labels[] = { "name", "to", NULL };
  ApmFamily *state_f, *transitions_f, *rejected_f;
  gchar *check = check_name (c);

  state_f = apm_registry_family (reg, "apm_circuit_breaker_state",
      APM_METRIC_GAUGE, "State of a circuit breaker: 0 closed, 1 half-open, "
      "2 open", name_label, NULL, 0);
  transitions_f = apm_registry_family (reg,
      "apm_circuit_breaker_transitions_total", APM_METRIC_COUNTER,
      "Circuit breaker state changes, by the state entered",
      transition_labels, NULL, 0);
  rejected_f = apm_registry_family (reg, "apm_circuit_breaker_rejected_total",
      APM_METRIC_COUNTER, "Calls a circuit breaker refused while open "
      "(or half-open with its trial call out)", name_label, NULL, 0);

  g_mutex_lock (&breakers_lock);
  if (!breakers)
    breakers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  /* a breaker of the same name still alive: the newest takes over its
   * check and series */
  g_hash_table_replace (breakers, g_strdup (c->name), c);
  g_mutex_lock (&c->lock);
  c->service = s;
  if (state_f && transitions_f && rejected_f) {
    const gchar *values[] = { c->name, NULL, NULL };

    c->state_gauge = apm_family_series (state_f, values);
    apm_gauge_set_int (c->state_gauge, c->state);
    c->rejected = apm_family_series (rejected_f, values);
    for (guint i = 0; i < N_STATES; i++) {
      values[1] = state_names[i];
      c->transitions[i] = apm_family_series (transitions_f, values);
    }
  }
  g_mutex_unlock (&c->lock);
  apm_health_add_check (apm_service_get_health (s), check, breaker_check,
      core_ref (c), core_unref, 1);
  g_mutex_unlock (&breakers_lock);
  g_free (check);
}

/* called with the Core's lock: takes its series out */
static void
release_series_locked (Core * c, gboolean retire)
{
  void (*drop) (ApmSeries *) = retire ? apm_series_retire : apm_series_unref;

  if (!c->state_gauge)
    return;
  drop (c->state_gauge);
  drop (c->rejected);
  for (guint i = 0; i < N_STATES; i++)
    drop (c->transitions[i]);
  c->state_gauge = c->rejected = NULL;
  memset (c->transitions, 0, sizeof (c->transitions));
}

static void
unregister_core (Core * c)
{
  ApmService *s;
  gboolean owner;

  g_mutex_lock (&breakers_lock);
  owner = breakers && g_hash_table_lookup (breakers, c->name) == c;
  if (owner)
    g_hash_table_remove (breakers, c->name);
  g_mutex_lock (&c->lock);
  s = c->service;
  c->service = NULL;
  release_series_locked (c, owner);
  g_mutex_unlock (&c->lock);
  if (s && owner) {
    gchar *check = check_name (c);

    /* under breakers_lock, so the service cannot be detached meanwhile */
    apm_health_remove_check (apm_service_get_health (s), check);
    g_free (check);
  }
  g_mutex_unlock (&breakers_lock);
}

void
apm_breakers_detach (ApmService * service)
{
  GHashTableIter it;
  Core *c;

  g_mutex_lock (&breakers_lock);
  if (breakers) {
    g_hash_table_iter_init (&it, breakers);
    while (g_hash_table_iter_next (&it, NULL, (gpointer *) & c)) {
      g_mutex_lock (&c->lock);
      if (c->service == service) {
        c->service = NULL;
        release_series_locked (c, FALSE);
        g_hash_table_iter_remove (&it);
      }
      g_mutex_unlock (&c->lock);
    }
  }
  g_mutex_unlock (&breakers_lock);
}

/* --- the object --- */

static void
apm_circuit_breaker_finalize (GObject * object)
{
  Core *c = APM_CIRCUIT_BREAKER (object)->core;

  unregister_core (c);
  core_unref (c);
  G_OBJECT_CLASS (apm_circuit_breaker_parent_class)->finalize (object);
}

static void
apm_circuit_breaker_class_init (ApmCircuitBreakerClass * klass)
{
  G_OBJECT_CLASS (klass)->finalize = apm_circuit_breaker_finalize;
}

static void
apm_circuit_breaker_init (ApmCircuitBreaker * self)
{
}

/**
 * apm_circuit_breaker_new:
 * @name: the breaker's name, unique in the process (a second live breaker
 *   of the same name takes over the first's health check and metrics)
 * @failure_threshold: consecutive failures that open the breaker (0 counts
 *   as 1)
 * @reset_timeout_seconds: how long it stays open before a trial call
 *
 * A circuit breaker, closed.  While it lives it is the health check
 * "breaker:@name" of the monitor (degraded while open or half-open) and
 * the series apm_circuit_breaker_state{name},
 * apm_circuit_breaker_transitions_total{name,to} and
 * apm_circuit_breaker_rejected_total{name}; each change of state is logged
 * and sent to WebSocket clients as a "breaker" event.  All its functions
 * may be called from any thread.
 *
 * Returns: (transfer full): the breaker
 */
ApmCircuitBreaker *
apm_circuit_breaker_new (const gchar * name, guint failure_threshold,
    gdouble reset_timeout_seconds)
{
  ApmCircuitBreaker *self;
  Core *c;

  g_return_val_if_fail (name != NULL && *name != '\0', NULL);
  g_return_val_if_fail (reset_timeout_seconds >= 0
      && reset_timeout_seconds <= 1e9, NULL);

  self = g_object_new (APM_TYPE_CIRCUIT_BREAKER, NULL);
  c = self->core = g_atomic_rc_box_new0 (Core);
  g_mutex_init (&c->lock);
  c->name = g_utf8_make_valid (name, -1);
  c->threshold = MAX (failure_threshold, 1);
  c->reset_us = (gint64) (reset_timeout_seconds * G_USEC_PER_SEC);
  c->state = APM_CIRCUIT_STATE_CLOSED;
  register_core (c);
  return self;
}

/**
 * apm_circuit_breaker_allow:
 * @self: the breaker
 *
 * Asks whether to make a call now.  Closed: yes.  Open: no, until the
 * reset timeout has passed; then the breaker is half-open and lets exactly
 * one trial call through (another one if that call's result is not
 * recorded within the reset timeout).  Record the result of every allowed
 * call with apm_circuit_breaker_record_success() or
 * apm_circuit_breaker_record_failure().
 *
 * Returns: %TRUE to make the call, %FALSE to skip it
 */
gboolean
apm_circuit_breaker_allow (ApmCircuitBreaker * self)
{
  Core *c;
  Transition t = { 0 };
  gboolean allowed;

  g_return_val_if_fail (APM_IS_CIRCUIT_BREAKER (self), FALSE);
  c = self->core;
  g_mutex_lock (&c->lock);
  advance_locked (c, &t);
  switch (c->state) {
    case APM_CIRCUIT_STATE_CLOSED:
      allowed = TRUE;
      break;
    case APM_CIRCUIT_STATE_HALF_OPEN:{
      gint64 now = now_locked (c);

      /* a trial whose result never came back must not keep the breaker
       * half-open for ever */
      allowed = !c->trial || now - c->trial_us >= c->reset_us;
      if (allowed) {
        c->trial = TRUE;
        c->trial_us = now;
      }
      break;
    }
    default:
      allowed = FALSE;
      break;
  }
  if (!allowed) {
    c->n_rejected++;
    if (c->rejected)
      apm_counter_add_int (c->rejected, 1);
  }
  g_mutex_unlock (&c->lock);
  tell (c, &t);
  return allowed;
}

/**
 * apm_circuit_breaker_record_success:
 * @self: the breaker
 *
 * Records that an allowed call succeeded: the consecutive failures start
 * again from zero, and a half-open breaker closes.
 */
void
apm_circuit_breaker_record_success (ApmCircuitBreaker * self)
{
  Core *c;
  Transition t = { 0 };

  g_return_if_fail (APM_IS_CIRCUIT_BREAKER (self));
  c = self->core;
  g_mutex_lock (&c->lock);
  if (c->state == APM_CIRCUIT_STATE_HALF_OPEN)
    transition_locked (c, APM_CIRCUIT_STATE_CLOSED, &t);
  else if (c->state == APM_CIRCUIT_STATE_CLOSED)
    c->failures = 0;
  /* open: a late result of a call allowed before it opened changes
   * nothing; the trial decides */
  g_mutex_unlock (&c->lock);
  tell (c, &t);
}

/**
 * apm_circuit_breaker_record_failure:
 * @self: the breaker
 *
 * Records that an allowed call failed: a closed breaker opens at its
 * threshold of consecutive failures, a half-open one opens again.
 */
void
apm_circuit_breaker_record_failure (ApmCircuitBreaker * self)
{
  Core *c;
  Transition t = { 0 };

  g_return_if_fail (APM_IS_CIRCUIT_BREAKER (self));
  c = self->core;
  g_mutex_lock (&c->lock);
  if (c->state == APM_CIRCUIT_STATE_CLOSED) {
    if (++c->failures >= c->threshold) {
      c->failures_at_open = c->failures;
      transition_locked (c, APM_CIRCUIT_STATE_OPEN, &t);
    }
  } else if (c->state == APM_CIRCUIT_STATE_HALF_OPEN) {
    c->failures_at_open++;
    transition_locked (c, APM_CIRCUIT_STATE_OPEN, &t);
  }
  g_mutex_unlock (&c->lock);
  tell (c, &t);
}

/**
 * apm_circuit_breaker_get_state:
 * @self: the breaker
 *
 * Returns: the state now (an open breaker whose reset timeout has passed
 *   is half-open)
 */
ApmCircuitState
apm_circuit_breaker_get_state (ApmCircuitBreaker * self)
{
  Core *c;
  Transition t = { 0 };
  ApmCircuitState state;

  g_return_val_if_fail (APM_IS_CIRCUIT_BREAKER (self),
      APM_CIRCUIT_STATE_CLOSED);
  c = self->core;
  g_mutex_lock (&c->lock);
  advance_locked (c, &t);
  state = c->state;
  g_mutex_unlock (&c->lock);
  tell (c, &t);
  return state;
}

/**
 * apm_circuit_breaker_get_name:
 * @self: the breaker
 *
 * Returns: (transfer none): the name
 */
const gchar *
apm_circuit_breaker_get_name (ApmCircuitBreaker * self)
{
  g_return_val_if_fail (APM_IS_CIRCUIT_BREAKER (self), NULL);
  return self->core->name;
}

/* --- private --- */

void
apm_circuit_breaker_set_clock (ApmCircuitBreaker * self,
    ApmBreakerClock clock, gpointer user_data)
{
  Core *c = self->core;

  g_mutex_lock (&c->lock);
  c->clock = clock;
  c->clock_data = user_data;
  g_mutex_unlock (&c->lock);
}

guint64
apm_circuit_breaker_get_n_rejected (ApmCircuitBreaker * self)
{
  Core *c = self->core;
  guint64 n;

  g_mutex_lock (&c->lock);
  n = c->n_rejected;
  g_mutex_unlock (&c->lock);
  return n;
}

guint
apm_circuit_breaker_get_n_failures (ApmCircuitBreaker * self)
{
  Core *c = self->core;
  guint n;

  g_mutex_lock (&c->lock);
  n = c->state == APM_CIRCUIT_STATE_CLOSED ? c->failures :
      c->failures_at_open;
  g_mutex_unlock (&c->lock);
  return n;
}

gint64
apm_circuit_breaker_get_retry_in_us (ApmCircuitBreaker * self)
{
  Core *c = self->core;
  gint64 left = 0;

  g_mutex_lock (&c->lock);
  if (c->state == APM_CIRCUIT_STATE_OPEN)
    left = MAX (c->reset_us - (now_locked (c) - c->opened_us), 0);
  g_mutex_unlock (&c->lock);
  return left;
}
