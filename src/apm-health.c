/* gst-apm: named health checks and their overall status
 *
 * Built-in checks are cheap reads and run inline on the service thread.
 * Other checks (the application's, HTTP probes, paths) may block, so they
 * run in a worker pool: the service thread only dispatches them and reads
 * their last result, and a check still running past its timeout reports
 * "timed out".  Nothing here ever blocks the HTTP server.
 */
#include "apm-health.h"
#include "apm-time.h"

typedef struct
{
  gint ref_count;
  gchar *name;
  ApmHealthFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
  gint64 interval_us;
  gint64 timeout_us;
  gboolean in_worker;
  /* state and last result, under ApmHealth.lock */
  gboolean running;
  gboolean timed_out;
  gint64 started_us;            /* monotonic, of the running worker */
  gint64 last_run_us;           /* monotonic, 0 = never */
  gint64 last_run_wall_us;
  gint64 duration_us;
  ApmHealthStatus status;
  gchar *message;
  JsonObject *details;
} Check;

struct _ApmHealth
{
  gint ref_count;               /* the owner and each running worker */
  ApmLog *log;
  ApmHealthListener listener;
  gpointer listener_data;
  GMutex lock;
  GHashTable *checks;           /* name -> Check */
  GThreadPool *pool;
};

static Check *
check_ref (Check * c)
{
  g_atomic_int_inc (&c->ref_count);
  return c;
}

static void
check_unref (Check * c)
{
  if (!g_atomic_int_dec_and_test (&c->ref_count))
    return;
  if (c->destroy)
    c->destroy (c->user_data);
  g_free (c->name);
  g_free (c->message);
  if (c->details)
    json_object_unref (c->details);
  g_free (c);
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
health_unref (ApmHealth * h)
{
  if (!g_atomic_int_dec_and_test (&h->ref_count))
    return;
  g_hash_table_destroy (h->checks);
  g_mutex_clear (&h->lock);
  g_free (h);
}

typedef struct
{
  ApmHealth *health;
  Check *check;
} Job;

static void
run_in_worker (gpointer data, gpointer user_data)
{
  Job *job = data;
  Check *c = job->check;
  ApmHealth *h = job->health;
  gchar *message = NULL;
  JsonObject *details = NULL;
  gint64 t0 = g_get_monotonic_time ();
  ApmHealthStatus status = c->func (c->user_data, &message, &details);

  g_mutex_lock (&h->lock);
  c->running = FALSE;
  if (c->timed_out) {
    /* the timeout was reported: the late result still counts as the
     * latest run */
    c->timed_out = FALSE;
  }
  store_result_locked (h, c, status, message, details, t0);
  g_mutex_unlock (&h->lock);
  check_unref (c);
  health_unref (h);
  g_free (job);
}

ApmHealth *
apm_health_new (void)
{
  ApmHealth *h = g_new0 (ApmHealth, 1);

  h->ref_count = 1;
  g_mutex_init (&h->lock);
  h->checks = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) check_unref);
  /* a few threads: a hanging check must not starve the others */
  h->pool = g_thread_pool_new (run_in_worker, NULL, 4, FALSE, NULL);
  return h;
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
  /* a hanging check must not hang exit: queued checks are dropped and a
   * running one finishes on its own, holding its own reference */
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
  Check *c = g_new0 (Check, 1);

  c->ref_count = 1;
  c->name = g_strdup (name);
  c->func = func;
  c->user_data = user_data;
  c->destroy = destroy;
  c->interval_us = (gint64) MAX (interval_s, 1) * G_USEC_PER_SEC;
  c->timeout_us = (gint64) MAX (timeout_s, 1) * G_USEC_PER_SEC;
  c->in_worker = in_worker;
  c->message = g_strdup ("not run yet");
  g_mutex_lock (&h->lock);
  g_hash_table_replace (h->checks, c->name, c);
  g_mutex_unlock (&h->lock);
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
  gboolean removed;

  g_mutex_lock (&h->lock);
  removed = g_hash_table_remove (h->checks, name);
  g_mutex_unlock (&h->lock);
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

/* Dispatches due worker checks and times out the slow ones. */
static void
run_due_workers (ApmHealth * h, GPtrArray * list, gint64 now)
{
  for (guint i = 0; i < list->len; i++) {
    Check *c = g_ptr_array_index (list, i);

    if (!c->in_worker)
      continue;
    g_mutex_lock (&h->lock);
    if (c->running) {
      if (!c->timed_out && now - c->started_us > c->timeout_us) {
        c->timed_out = TRUE;
        store_result_locked (h, c, APM_HEALTH_UNHEALTHY,
            g_strdup_printf ("timed out after %.0f s",
                c->timeout_us / 1e6), NULL, c->started_us);
      }
    } else if (due (c, now, FALSE)) {
      Job *job = g_new (Job, 1);

      c->running = TRUE;
      c->started_us = now;
      g_atomic_int_inc (&h->ref_count);
      job->health = h;
      job->check = check_ref (c);
      g_thread_pool_push (h->pool, job, NULL);
    }
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
      json_object_set_string_member (o, "message", c->message);
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
