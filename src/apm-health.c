/* gst-apm: named health checks and their overall status
 *
 * Built-in checks are cheap reads and run inline on the service thread.
 * Other checks (the application's, HTTP probes, paths, disks) may block, so
 * they run in a worker pool: the service thread only dispatches them and
 * reads their last result.  Nothing here ever blocks the HTTP server.
 *
 * A check's timeout counts from when a worker starts it, not from its
 * dispatch.  A worker stuck in a hanging check is not reused until the
 * check returns, so the pool grows by one thread for each check that has
 * been running longer than a second, up to APM_HEALTH_MAX_WORKERS threads
 * in all.  A check is never dispatched again while it is queued or running
 * ("still running since ..."), and one that waits too long for a worker
 * (every thread is stuck) is reported degraded "not started".
 */
#include "apm-health.h"
#include "apm-time.h"

/* a check running this long counts as stuck: another thread takes over */
#define SLOW_US (1 * G_USEC_PER_SEC)
/* waiting this long for a worker is reported */
#define QUEUE_GRACE_US (3 * G_USEC_PER_SEC)

typedef enum
{
  STATE_IDLE,
  STATE_QUEUED,                 /* dispatched, waiting for a worker */
  STATE_RUNNING,
} CheckState;

/* in an atomic reference-counted box: the table's, and each snapshot's and
 * worker job's */
typedef struct
{
  gchar *name;
  ApmHealthFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
  gint64 interval_us;
  gint64 timeout_us;
  gboolean in_worker;
  /* state and last result, under ApmHealth.lock */
  CheckState state;
  gboolean removed;             /* replaced or removed: do not run again */
  gboolean timed_out;           /* this run was reported "timed out" */
  guint64 seq;                  /* dispatch order, for the queue position */
  gint64 queued_us;             /* monotonic, of the dispatch */
  gint64 started_us;            /* monotonic, when a worker started it */
  gint64 started_wall_us;
  gint64 last_run_us;           /* monotonic, 0 = never */
  gint64 last_run_wall_us;
  gint64 duration_us;
  ApmHealthStatus status;
  gchar *message;
  JsonObject *details;
} Check;

/* in an atomic reference-counted box: the owner's and each worker job's */
struct _ApmHealth
{
  ApmLog *log;
  ApmHealthListener listener;
  gpointer listener_data;
  GMutex lock;
  GHashTable *checks;           /* name -> Check */
  guint64 next_seq;             /* under lock */
  GPtrArray *running;           /* Check in a worker (the job's ref), under
                                 * lock, removed ones included */
  GThreadPool *pool;
  gint max_workers;             /* the pool's current limit, atomic */
};

static void
check_clear (gpointer data)
{
  Check *c = data;

  if (c->destroy)
    c->destroy (c->user_data);
  g_free (c->name);
  g_free (c->message);
  if (c->details)
    json_object_unref (c->details);
}

static Check *
check_ref (Check * c)
{
  return g_atomic_rc_box_acquire (c);
}

static void
check_unref (Check * c)
{
  g_atomic_rc_box_release_full (c, check_clear);
}

const gchar *
apm_health_status_to_string (ApmHealthStatus status)
{
  switch (status) {
    case APM_HEALTH_HEALTHY:
      return "healthy";
    case APM_HEALTH_DEGRADED:
      return "degraded";
    default:
      return "unhealthy";
  }
}

/* called with the lock: stores a result, logging a change of status */
static void
store_result_locked (ApmHealth * h, Check * c, ApmHealthStatus status,
    gchar * message, JsonObject * details, gint64 t0)
{
  /* a change, or a first result that is already bad */
  gboolean first = c->last_run_us == 0;
  gboolean changed = first ? status != APM_HEALTH_HEALTHY :
      status != c->status;
  ApmHealthStatus before = c->status;

  c->status = status;
  g_free (c->message);
  c->message = message ? message : g_strdup ("");
  if (c->details)
    json_object_unref (c->details);
  c->details = details;
  c->last_run_us = g_get_monotonic_time ();
  c->last_run_wall_us = g_get_real_time ();
  c->duration_us = c->last_run_us - t0;
  if (changed && h->log) {
    JsonObject *ctx = json_object_new ();

    json_object_set_string_member (ctx, "check", c->name);
    json_object_set_string_member (ctx, "from", first ? "unknown" :
        apm_health_status_to_string (before));
    json_object_set_string_member (ctx, "to",
        apm_health_status_to_string (status));
    /* the logger takes its own lock only: no ordering problem */
    apm_log_write (h->log, status == APM_HEALTH_HEALTHY ? APM_LOG_INFO :
        APM_LOG_WARNING, "health", NULL, ctx, "health check %s is %s: %s",
        c->name, apm_health_status_to_string (status), c->message);
  }
  if (changed && h->listener) {
    JsonObject *o = json_object_new ();
    JsonNode *node = json_node_new (JSON_NODE_OBJECT);

    json_object_set_string_member (o, "check", c->name);
    json_object_set_string_member (o, "status",
        apm_health_status_to_string (status));
    json_object_set_string_member (o, "previous", first ? "unknown" :
        apm_health_status_to_string (before));
    json_object_set_string_member (o, "message", c->message);
    json_node_take_object (node, o);
    /* the listener only queues (apm_service_publish): safe under lock */
    h->listener (node, h->listener_data);
    json_node_unref (node);
  }
}

static void
health_clear (gpointer data)
{
  ApmHealth *h = data;

  g_hash_table_destroy (h->checks);
  g_ptr_array_unref (h->running);
  g_mutex_clear (&h->lock);
}

static void
health_unref (ApmHealth * h)
{
  g_atomic_rc_box_release_full (h, health_clear);
}

typedef struct
{
  ApmHealth *health;
  Check *check;
} Job;

static void
job_free (gpointer data)
{
  Job *job = data;

  check_unref (job->check);
  health_unref (job->health);
  g_free (job);
}

static void
run_in_worker (gpointer data, gpointer user_data)
{
  Job *job = data;
  Check *c = job->check;
  ApmHealth *h = job->health;
  gchar *message = NULL;
  JsonObject *details = NULL;
  ApmHealthStatus status;
  gint64 t0;

  g_mutex_lock (&h->lock);
  if (c->removed) {
    c->state = STATE_IDLE;
    g_mutex_unlock (&h->lock);
    job_free (job);
    return;
  }
  /* its timeout counts from here */
  t0 = g_get_monotonic_time ();
  c->state = STATE_RUNNING;
  c->started_us = t0;
  c->started_wall_us = g_get_real_time ();
  c->timed_out = FALSE;
  g_ptr_array_add (h->running, c);
  g_mutex_unlock (&h->lock);

  status = c->func (c->user_data, &message, &details);

  g_mutex_lock (&h->lock);
  c->state = STATE_IDLE;
  g_ptr_array_remove_fast (h->running, c);
  /* a timeout was reported: the late result still counts as the latest */
  c->timed_out = FALSE;
  store_result_locked (h, c, status, message, details, t0);
  g_mutex_unlock (&h->lock);
  job_free (job);
}

ApmHealth *
apm_health_new (void)
{
  ApmHealth *h = g_atomic_rc_box_new0 (ApmHealth);

  g_mutex_init (&h->lock);
  h->running = g_ptr_array_new ();
  h->checks = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) check_unref);
  /* a few threads, more while some are stuck (see run_due_workers); made
   * with the first check run, not here (see ensure_pool) */
  h->max_workers = APM_HEALTH_WORKERS;
  return h;
}

/* Called with the lock.  Exclusive threads, made when the first check
 * runs (on the service thread): GLib (2.7x on) starts a shared
 * "pool-spawner" thread for the first non-exclusive pool, and a process
 * forked after that hangs at its first non-exclusive pool use, which is
 * GStreamer's task pool; the service is created at gst_init(), before
 * gst-check or a pre-forking server forks. */
static GThreadPool *
ensure_pool (ApmHealth * h)
{
  if (!h->pool)
    h->pool = g_thread_pool_new_full (run_in_worker, NULL, job_free,
        g_atomic_int_get (&h->max_workers), TRUE, NULL);
  return h->pool;
}

void
apm_health_set_listener (ApmHealth * h, ApmHealthListener func,
    gpointer user_data)
{
  h->listener = func;
  h->listener_data = user_data;
}

void
apm_health_set_log (ApmHealth * h, ApmLog * log)
{
  h->log = log;
}

void
apm_health_free (ApmHealth * h)
{
  if (!h)
    return;
  /* a hanging check must not hang exit: queued checks are dropped (and
   * their jobs freed) and a running one finishes on its own, holding its
   * own reference */
  if (h->pool)
    g_thread_pool_free (h->pool, TRUE, FALSE);
  g_mutex_lock (&h->lock);
  h->log = NULL;
  g_mutex_unlock (&h->lock);
  health_unref (h);
}

void
apm_health_add_check_full (ApmHealth * h, const gchar * name,
    ApmHealthFunc func, gpointer user_data, GDestroyNotify destroy,
    guint interval_s, guint timeout_s, gboolean in_worker)
{
  Check *c = g_atomic_rc_box_new0 (Check);
  Check *old;

  c->name = g_strdup (name);
  c->func = func;
  c->user_data = user_data;
  c->destroy = destroy;
  c->interval_us = (gint64) MAX (interval_s, 1) * G_USEC_PER_SEC;
  c->timeout_us = (gint64) MAX (timeout_s, 1) * G_USEC_PER_SEC;
  c->in_worker = in_worker;
  c->message = g_strdup ("not run yet");
  g_mutex_lock (&h->lock);
  old = g_hash_table_lookup (h->checks, name);
  /* a queued run of the old one is skipped */
  if (old) {
    old->removed = TRUE;
    g_hash_table_steal (h->checks, name);
  }
  g_hash_table_insert (h->checks, c->name, c);
  g_mutex_unlock (&h->lock);
  /* its destroy notify may call back into the checks (a circuit breaker
   * unregisters its own): not under the lock */
  if (old)
    check_unref (old);
}

void
apm_health_add_check (ApmHealth * h, const gchar * name, ApmHealthFunc func,
    gpointer user_data, GDestroyNotify destroy, guint interval_s)
{
  apm_health_add_check_full (h, name, func, user_data, destroy, interval_s,
      0, FALSE);
}

gboolean
apm_health_remove_check (ApmHealth * h, const gchar * name)
{
  Check *c;
  gboolean removed;

  g_mutex_lock (&h->lock);
  c = g_hash_table_lookup (h->checks, name);
  if (c)
    c->removed = TRUE;
  removed = g_hash_table_steal (h->checks, name);
  g_mutex_unlock (&h->lock);
  /* the destroy notify runs without the lock (see add_check_full) */
  if (c)
    check_unref (c);
  return removed;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  const Check *ca = *(Check **) a, *cb = *(Check **) b;

  return g_strcmp0 (ca->name, cb->name);
}

static GPtrArray *
snapshot (ApmHealth * h)
{
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify)
      check_unref);
  GHashTableIter it;
  Check *c;

  g_mutex_lock (&h->lock);
  g_hash_table_iter_init (&it, h->checks);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & c))
    g_ptr_array_add (list, check_ref (c));
  g_mutex_unlock (&h->lock);
  g_ptr_array_sort (list, compare_names);
  return list;
}

static gboolean
due (Check * c, gint64 now, gboolean force)
{
  return force || !c->last_run_us || now - c->last_run_us >= c->interval_us;
}

/* called with the lock: the checks dispatched before @c still waiting */
static guint
queued_ahead_locked (ApmHealth * h, Check * c)
{
  GHashTableIter it;
  Check *o;
  guint ahead = 0;

  g_hash_table_iter_init (&it, h->checks);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & o))
    if (o->state == STATE_QUEUED && o->seq < c->seq)
      ahead++;
  return ahead;
}

/* Dispatches due worker checks, reports the ones past their timeout and
 * the ones that cannot get a worker, and sizes the pool. */
static void
run_due_workers (ApmHealth * h, GPtrArray * list, gint64 now)
{
  guint n_stuck = 0;
  gint want;

  g_mutex_lock (&h->lock);
  /* removed checks that still hang hold a thread too */
  for (guint i = 0; i < h->running->len; i++)
    if (now - ((Check *) g_ptr_array_index (h->running, i))->started_us >=
        SLOW_US)
      n_stuck++;
  for (guint i = 0; i < list->len; i++) {
    Check *c = g_ptr_array_index (list, i);

    if (!c->in_worker || c->removed)
      continue;
    if (c->state == STATE_RUNNING) {
      if (!c->timed_out && now - c->started_us > c->timeout_us) {
        gchar *since = apm_time_format (c->started_wall_us);

        c->timed_out = TRUE;
        store_result_locked (h, c, APM_HEALTH_UNHEALTHY,
            g_strdup_printf ("timed out after %.0f s (still running since "
                "%s)", c->timeout_us / 1e6, since), NULL, c->started_us);
        g_free (since);
      }
    } else if (c->state == STATE_QUEUED) {
      if (now - c->queued_us >= QUEUE_GRACE_US) {
        guint ahead = queued_ahead_locked (h, c), running = h->running->len;
        JsonObject *details = json_object_new ();
        gchar *message = g_strdup_printf ("not started: waiting %.0f s for "
            "a worker (%u checks ahead in the queue, %u running)",
            (now - c->queued_us) / 1e6, ahead, running);

        json_object_set_double_member (details, "queued_seconds",
            (now - c->queued_us) / 1e6);
        json_object_set_int_member (details, "ahead_in_queue", ahead);
        json_object_set_int_member (details, "running_checks", running);
        /* the first report is a status change; later ones refresh the
         * figures without notifying again */
        store_result_locked (h, c, APM_HEALTH_DEGRADED, message, details,
            now);
      }
    } else if (due (c, now, FALSE)) {
      Job *job = g_new (Job, 1);

      c->state = STATE_QUEUED;
      c->queued_us = now;
      c->seq = ++h->next_seq;
      job->health = g_atomic_rc_box_acquire (h);
      job->check = check_ref (c);
      g_thread_pool_push (ensure_pool (h), job, NULL);
    }
  }
  g_mutex_unlock (&h->lock);

  /* a stuck worker is not reused until its check returns: replace it with
   * a new thread, within the cap.  Threads above the limit end once idle. */
  want = MIN (APM_HEALTH_WORKERS + n_stuck, APM_HEALTH_MAX_WORKERS);
  if (g_atomic_int_get (&h->max_workers) != want) {
    g_atomic_int_set (&h->max_workers, want);
    g_mutex_lock (&h->lock);
    if (h->pool)
      g_thread_pool_set_max_threads (h->pool, want, NULL);
    g_mutex_unlock (&h->lock);
  }
}

void
apm_health_tick (ApmHealth * h)
{
  /* due inline checks run too, so status changes are seen (and logged and
   * published) without anybody asking */
  apm_health_evaluate (h, FALSE, NULL);
}

ApmHealthStatus
apm_health_evaluate (ApmHealth * h, gboolean force, JsonObject ** checks_out)
{
  GPtrArray *list = snapshot (h);
  ApmHealthStatus worst = APM_HEALTH_HEALTHY;
  gint64 now = g_get_monotonic_time ();
  Check *c;

  run_due_workers (h, list, now);
  /* inline checks are cheap reads: run the due ones here */
  for (guint i = 0; i < list->len; i++) {
    gchar *message = NULL;
    JsonObject *details = NULL;
    ApmHealthStatus status;

    c = g_ptr_array_index (list, i);
    if (c->in_worker || !due (c, now, force))
      continue;
    status = c->func (c->user_data, &message, &details);
    g_mutex_lock (&h->lock);
    store_result_locked (h, c, status, message, details, now);
    g_mutex_unlock (&h->lock);
  }

  if (checks_out)
    *checks_out = json_object_new ();
  g_mutex_lock (&h->lock);
  for (guint i = 0; i < list->len; i++) {
    c = g_ptr_array_index (list, i);
    if (c->last_run_us && c->status > worst)
      worst = c->status;
    if (checks_out) {
      JsonObject *o = json_object_new ();

      json_object_set_string_member (o, "status", c->last_run_us ?
          apm_health_status_to_string (c->status) : "unknown");
      if (c->state == STATE_RUNNING && !c->timed_out
          && now - c->started_us >= c->interval_us) {
        /* due again but not back yet: not dispatched twice; the last
         * result stands until it returns or times out */
        gchar *since = apm_time_format (c->started_wall_us);
        gchar *msg = c->last_run_us ?
            g_strdup_printf ("still running since %s (%.0f s); last "
            "result: %s", since, (now - c->started_us) / 1e6, c->message) :
            g_strdup_printf ("still running since %s (%.0f s)", since,
            (now - c->started_us) / 1e6);

        json_object_set_string_member (o, "message", msg);
        g_free (msg);
        g_free (since);
      } else {
        json_object_set_string_member (o, "message", c->message);
      }
      if (c->state == STATE_RUNNING) {
        gchar *since = apm_time_format (c->started_wall_us);

        json_object_set_string_member (o, "running_since", since);
        g_free (since);
      }
      if (c->details)
        json_object_set_object_member (o, "details",
            json_object_ref (c->details));
      if (c->last_run_us) {
        gchar *iso = apm_time_format (c->last_run_wall_us);

        json_object_set_string_member (o, "last_run", iso);
        json_object_set_double_member (o, "duration_seconds",
            c->duration_us / 1e6);
        g_free (iso);
      }
      json_object_set_object_member (*checks_out, c->name, o);
    }
  }
  g_mutex_unlock (&h->lock);
  g_ptr_array_unref (list);
  return worst;
}
