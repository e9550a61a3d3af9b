/* gst-apm: which pipelines the service watches, and telling the user */
#pragma once

#include <gst/gst.h>
#include "apm-service.h"

G_BEGIN_DECLS

/* Configures the process-wide service (first configuration wins) and keeps
 * @problems (strings) to report when the first pipeline is watched. */
void gst_apm_watch_configure (const ApmServiceConfig * config,
    GPtrArray * problems);

/* The top-level bin @element belongs to (a new reference), or NULL. */
GstElement *gst_apm_watch_find_top (GstElement * element);

/* Starts watching @pipeline (a top-level bin) once: starts the service,
 * registers its health check, and posts the "apm-service" element message
 * with the URL on its bus. */
void gst_apm_watch_pipeline (GstElement * pipeline);

/* Called by the tracer when an element posts an error, so the pipeline's
 * health check reports it. */
void gst_apm_watch_note_error (GstElement * pipeline, const gchar * source,
    const GError * error);

G_END_DECLS
