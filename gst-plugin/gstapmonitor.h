/* gst-apm: the apmonitor element, an audio checkpoint
 *
 * Its C type is GstApmCheckpoint, apart from the application API
 * (ApmMonitor) and the metrics it serves (apm_monitor_*); its GType keeps
 * the name GstApMonitor, which gst-inspect shows and property
 * documentation refers to.
 */
#pragma once

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define GST_TYPE_APM_CHECKPOINT (gst_apm_checkpoint_get_type ())
G_DECLARE_FINAL_TYPE (GstApmCheckpoint, gst_apm_checkpoint, GST,
    APM_CHECKPOINT, GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE (apmonitor);

/* For the pipeline model (any thread): the stage span @element measures
 * (see #GstApMonitor:span-from) as JSON, or NULL if it is no apmonitor or
 * measures none. */
JsonObject *gst_apm_checkpoint_describe_span (GstElement * element);

G_END_DECLS
