/* gst-apm: the local files a pipeline reads and writes, for the disk-space
 * checks (apm-fsspace.c) of the filesystems that hold them
 *
 * Elements with a "location" (filesrc, filesink, ...) are scanned when the
 * pipeline reaches READY or PAUSED, in the thread that changes its state,
 * and forgotten at NULL or when the pipeline goes.
 */
#include "gstapmwatch-private.h"

#include <string.h>
#include "apm-fsspace.h"

#define GST_CAT_DEFAULT apm_watch_debug

static GMutex files_lock;
/* the filesystems of the pipelines' files, for the service that has them */
static ApmFsSpace *fsspace;     /* under files_lock */
static ApmService *fsspace_service;

static void
set_files (PipelineWatch * w, const gchar * const *paths)
{
  ApmFsSpace *space;

  g_mutex_lock (&files_lock);
  space = fsspace;
  g_mutex_unlock (&files_lock);
  if (space)
    apm_fsspace_set_paths (space, w->label, paths);
}

/* The file named by @element's "location" if it is a local one (a path or
 * a file:// URI; URLs such as souphttpsrc's are not), or NULL. */
static gchar *
local_location (GstElement * element)
{
  GParamSpec *ps = g_object_class_find_property (G_OBJECT_GET_CLASS
      (element), "location");
  gchar *location = NULL, *file = NULL;
  const gchar *scheme;

  if (!ps || ps->value_type != G_TYPE_STRING
      || !(ps->flags & G_PARAM_READABLE))
    return NULL;
  g_object_get (element, "location", &location, NULL);
  if (!location || !*location) {
    g_free (location);
    return NULL;
  }
  scheme = g_uri_peek_scheme (location);
  if (!scheme)
    file = g_steal_pointer (&location);
  else if (strcmp (scheme, "file") == 0)
    file = g_filename_from_uri (location, NULL, NULL);
  g_free (location);
  return file;
}

/* Every local file of the elements of @pipeline, inside bins too (service
 * thread: properties are read, never on a streaming thread). */
static gchar **
local_files (GstElement * pipeline)
{
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (pipeline));
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);
  GValue v = G_VALUE_INIT;
  gboolean done = FALSE;
  gchar *file;

  while (!done) {
    switch (gst_iterator_next (it, &v)) {
      case GST_ITERATOR_OK:
        if ((file = local_location (g_value_get_object (&v))))
          g_ptr_array_add (files, file);
        g_value_reset (&v);
        break;
      case GST_ITERATOR_RESYNC:
        g_ptr_array_set_size (files, 0);
        gst_iterator_resync (it);
        break;
      default:
        done = TRUE;
        break;
    }
  }
  g_value_unset (&v);
  gst_iterator_free (it);
  g_ptr_array_add (files, NULL);
  return (gchar **) g_ptr_array_free (files, FALSE);
}

/* In the thread that changes the state, which holds a reference and no
 * object lock: the service thread never takes one. */
void
gst_apm_files_sync (PipelineWatch * w, GstElement * pipeline, GstState state)
{
  gboolean clear = FALSE, scan = FALSE;

  g_mutex_lock (&w->lock);
  if (state == GST_STATE_NULL) {
    clear = w->files_state != GST_STATE_NULL;
    w->files_state = GST_STATE_NULL;
  } else {
    /* locations are final at PAUSED: filesink opens its file then */
    scan = TRUE;
    w->files_state = state;
  }
  g_mutex_unlock (&w->lock);
  /* element properties are read without the watch's lock held */
  if (clear)
    set_files (w, NULL);
  if (scan) {
    gchar **files = local_files (pipeline);

    GST_DEBUG_OBJECT (pipeline, "%u local files", g_strv_length (files));
    set_files (w, (const gchar * const *) files);
    g_strfreev (files);
  }
}

void
gst_apm_watch_scan_files (GstElement * pipeline)
{
  PipelineWatch *w = gst_apm_watch_of (pipeline);
  GstState state;

  if (!w)
    return;
  GST_OBJECT_LOCK (pipeline);
  state = GST_STATE (pipeline);
  GST_OBJECT_UNLOCK (pipeline);
  gst_apm_files_sync (w, pipeline, MAX (state, GST_STATE_READY));
}

void
gst_apm_files_ensure (ApmService * service)
{
  g_mutex_lock (&files_lock);
  if (fsspace_service != service) {
    /* a new service (only after a shutdown): the old one's is gone with its
     * health checks and registry */
    fsspace_service = service;
    fsspace = apm_fsspace_new (apm_service_get_health (service),
        apm_service_get_registry (service));
  }
  g_mutex_unlock (&files_lock);
}

void
gst_apm_files_forget (PipelineWatch * w)
{
  set_files (w, NULL);
}
