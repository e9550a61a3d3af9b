/* gst-apm: the service properties of apmonitor
 *
 * port, address and quiet configure the process-wide apm service (the
 * first configuration in the process wins).  Before a pipeline starts,
 * every monitor in it hands its settings to gstapmwatch.c, which starts
 * the service and watches the pipeline.
 */
#include "gstapmonitorprivate.h"
#include "gstapmwatch.h"

/* Applies the service properties that were set on @self (-1/NULL for the
 * others); problems with them go to @problems. */
static void
gst_apm_checkpoint_configure_service (GstApmCheckpoint * self,
    GPtrArray * problems)
{
  ApmServiceConfig config = APM_SERVICE_CONFIG_INIT;

  GST_OBJECT_LOCK (self);
  config.port = self->port_set ? self->port : -1;
  if (self->address_set && self->address) {
    GInetAddress *inet = g_inet_address_new_from_string (self->address);

    if (inet) {
      config.address = g_strdup (self->address);
      g_object_unref (inet);
    } else {
      g_ptr_array_add (problems, g_strdup_printf ("%s: property address='%s'"
              " is not an IP address: using the default",
              GST_OBJECT_NAME (self), self->address));
    }
  }
  config.quiet = self->quiet ? 1 : -1;
  GST_OBJECT_UNLOCK (self);

  gst_apm_watch_configure (&config, problems);
  g_free (config.address);
}

/* Configures the service from the properties set on every apmonitor of the
 * top-level pipeline, then watches it.  Every monitor, not just @self:
 * state changes run from the sinks up, so a downstream monitor without
 * port= would otherwise start the service on the default port before the
 * upstream one that has port=N is asked. */
void
gst_apm_checkpoint_watch (GstApmCheckpoint * self)
{
  GPtrArray *problems = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *others = g_ptr_array_new_with_free_func (g_free);
  GstElement *top;

  top = gst_apm_watch_find_top (GST_ELEMENT (self));
  if (top && GST_IS_BIN (top)) {
    GstIterator *it = gst_bin_iterate_recurse (GST_BIN (top));
    GValue v = G_VALUE_INIT;

    while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
      GstElement *e = g_value_get_object (&v);

      /* another monitor's problems are its own to report */
      if (GST_IS_APM_CHECKPOINT (e) && e != GST_ELEMENT (self))
        gst_apm_checkpoint_configure_service (GST_APM_CHECKPOINT (e), others);
      g_value_reset (&v);
    }
    g_value_unset (&v);
    gst_iterator_free (it);
  }
  gst_apm_checkpoint_configure_service (self, problems);
  g_ptr_array_unref (problems);
  g_ptr_array_unref (others);

  /* only a real pipeline: a bin that is set to READY before it is added
   * (playsink's sink bin) is not one; READY->PAUSED checks again */
  if (top && GST_IS_PIPELINE (top)) {
    gst_apm_watch_pipeline (top, TRUE);
    gst_apm_watch_scan_files (top);
  }
  if (top)
    gst_object_unref (top);
}
