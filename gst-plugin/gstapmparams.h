/* gst-apm: parsing of the apm tracer's parameters */
#pragma once

#include <gst/gst.h>
#include "apm-service.h"

G_BEGIN_DECLS

/* Parses "port=9464,address=127.0.0.1,quiet=true,config=/etc/apm.json".
 * Every problem (unknown key, bad value, unparsable text) is appended to
 * @problems as one line naming the param; valid params are still applied
 * and the others keep their defaults.  @config_path receives config=.
 * Returns FALSE if there was any problem. */
gboolean gst_apm_params_parse (const gchar * params,
    ApmServiceConfig * config, gchar ** config_path, GPtrArray * problems);

/* The same, and @gst_debug receives gst-debug= as a checked list of
 * CATEGORY:N (numeric levels), or keeps NULL: bad entries are problems and
 * are left out. */
gboolean gst_apm_params_parse_full (const gchar * params,
    ApmServiceConfig * config, gchar ** config_path, gchar ** gst_debug,
    GPtrArray * problems);

/* The same, and @summary receives summary= ("true", "false" or a path
 * ending in .json or .html), or keeps NULL; another value is a problem. */
gboolean gst_apm_params_parse_tracer (const gchar * params,
    ApmServiceConfig * config, gchar ** config_path, gchar ** gst_debug,
    gchar ** summary, GPtrArray * problems);

/* A problem if @gst_debug asks for DEBUG or finer messages while the log
 * keeps info and above (@config's log level, after the file). */
void gst_apm_params_check_gst_debug (const gchar * gst_debug,
    const ApmServiceConfig * config, GPtrArray * problems);

/* Loads the configuration file (@path, else $APM_CONFIG, else none) into
 * the service, and fills what @config leaves unset from it.  A problem is
 * appended to @problems and the defaults run. */
void gst_apm_params_load_config (const gchar * path,
    ApmServiceConfig * config, GPtrArray * problems);

G_END_DECLS
