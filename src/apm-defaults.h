/* gst-apm: the default alert rules and health checks */
#pragma once

typedef struct _ApmService ApmService;

/* Installs the default rules and built-in checks into a new service. */
void apm_defaults_install (ApmService * service);
