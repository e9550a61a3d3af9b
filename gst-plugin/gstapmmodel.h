/* gst-apm: pipelines described for the REST API and the dashboard */
#pragma once

#include "apm-service.h"

G_BEGIN_DECLS

/* Makes @service describe the watched pipelines (topology and stats). */
void gst_apm_model_install (ApmService * service);

G_END_DECLS
