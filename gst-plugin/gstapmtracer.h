/* gst-apm: the apm tracer */
#pragma once

#include <gst/gst.h>
#include <gst/gsttracer.h>

G_BEGIN_DECLS

#define GST_TYPE_APM_TRACER (gst_apm_tracer_get_type ())
G_DECLARE_FINAL_TYPE (GstApmTracer, gst_apm_tracer, GST, APM_TRACER,
    GstTracer)

G_END_DECLS
