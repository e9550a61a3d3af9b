/* gst-apm: the apmonitor element, an audio checkpoint */
#pragma once

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define GST_TYPE_APMONITOR (gst_apmonitor_get_type ())
G_DECLARE_FINAL_TYPE (GstApMonitor, gst_apmonitor, GST, APMONITOR,
    GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE (apmonitor);

/* For the pipeline model (any thread): the stage span @element measures
 * (see #GstApMonitor:span-from) as JSON, or NULL if it is no apmonitor or
 * measures none. */
JsonObject *gst_apmonitor_describe_span (GstElement * element);

G_END_DECLS
