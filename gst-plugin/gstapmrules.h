/* gst-apm: the default alert rules over the metrics this plugin publishes */
#pragma once

#include "apm-service.h"

G_BEGIN_DECLS

/* An ApmServiceSetupFunc: adds the rules as defaults (a configuration's
 * rules of the same name, or its disabling of them, stand). */
void gst_apm_rules_install (ApmService * service);

G_END_DECLS
