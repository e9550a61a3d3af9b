/* gst-apm: reading members of JSON documents the service did not write
 * (restored state, collectors' answers, its own events): wrong types are
 * absent, never a critical warning */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* @name's string value, or NULL (@o may be NULL) */
const gchar *apm_json_string (JsonObject * o, const gchar * name);

/* @name's number (integer or double), or @absent (@o may be NULL) */
gdouble apm_json_number (JsonObject * o, const gchar * name, gdouble absent);

G_END_DECLS
