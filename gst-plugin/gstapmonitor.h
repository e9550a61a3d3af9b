/* gst-apm: the apmonitor element, an audio checkpoint */
#pragma once

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_APMONITOR (gst_apmonitor_get_type ())
G_DECLARE_FINAL_TYPE (GstApMonitor, gst_apmonitor, GST, APMONITOR,
    GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE (apmonitor);

G_END_DECLS
