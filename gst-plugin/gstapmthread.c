/* gst-apm: the tracer's per-thread state
 *
 * One GstApmThreadState per streaming thread, made the first time the
 * thread carries a buffer (gst_apm_thread_get() in gstapmstats.h) and freed
 * when it exits.  It holds the thread's pad cache and push stack; the list
 * of tids lets the aggregator read each thread's CPU time. */
#include "gstapmstats.h"

#include <unistd.h>
#include <sys/syscall.h>

__thread GstApmThreadState *gst_apm_thread
    __attribute__ ((tls_model ("initial-exec")));

static void thread_state_free (gpointer data);
static GPrivate thread_private = G_PRIVATE_INIT (thread_state_free);
static GMutex threads_lock;
static GArray *threads;         /* tids, under threads_lock */

static void
thread_state_free (gpointer data)
{
  GstApmThreadState *t = data;

  g_mutex_lock (&threads_lock);
  for (guint i = 0; threads && i < threads->len; i++)
    if (g_array_index (threads, gint, i) == t->tid) {
      g_array_remove_index_fast (threads, i);
      break;
    }
  g_mutex_unlock (&threads_lock);
  gst_apm_thread = NULL;
  g_aligned_free (t);
}

void
gst_apm_threads_foreach (GFunc func, gpointer user_data)
{
  GArray *copy;

  g_mutex_lock (&threads_lock);
  copy = threads ? g_array_copy (threads) : g_array_new (FALSE, FALSE,
      sizeof (gint));
  g_mutex_unlock (&threads_lock);
  for (guint i = 0; i < copy->len; i++)
    func (GINT_TO_POINTER (g_array_index (copy, gint, i)), user_data);
  g_array_unref (copy);
}

GstApmThreadState *
gst_apm_thread_state_create (void)
{
  /* cache-aligned: the header is one line, each frame another */
  GstApmThreadState *t = g_aligned_alloc0 (1, sizeof (GstApmThreadState),
      64);

  t->tid = (gint) syscall (SYS_gettid);
  g_mutex_lock (&threads_lock);
  if (!threads)
    threads = g_array_new (FALSE, FALSE, sizeof (gint));
  g_array_append_val (threads, t->tid);
  g_mutex_unlock (&threads_lock);
  t->last_end = GST_CLOCK_TIME_NONE;
  /* freed at thread exit by GPrivate */
  g_private_set (&thread_private, t);
  gst_apm_thread = t;
  return t;
}
