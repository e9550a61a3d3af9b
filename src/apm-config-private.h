/* gst-apm: reading the configuration file, shared by apm-config.c (the
 * sections) and apm-config-reader.c (typed getters, key checks and the
 * FILE:LINE of a problem).  The functions are G_GNUC_INTERNAL: nothing
 * outside the loader uses them, so the library does not export them. */
#pragma once

#include "apm-config.h"

G_BEGIN_DECLS

/* One file being read: the first problem is reported in @error, and every
 * later one ignored. */
typedef struct
{
  const gchar *path;
  const gchar *text;
  GError **error;
  gboolean failed;
} ApmConfigCtx;

/* Sets the error to "PATH:LINE: what", the line found near @anchor (a
 * name in the text, such as the rule's) and @key; only the first time. */
G_GNUC_INTERNAL
void apm_config_fail (ApmConfigCtx * ctx, const gchar * anchor,
    const gchar * key, const gchar * format, ...) G_GNUC_PRINTF (4, 5);

/* Typed getters: FALSE or NULL when @key is absent (or null, for a
 * string); a wrong type or a number outside [@min, @max] is reported, and
 * also gives FALSE or NULL. */
G_GNUC_INTERNAL
gboolean apm_config_get_number (ApmConfigCtx * ctx, JsonObject * o,
    const gchar * key, const gchar * anchor, gdouble min, gdouble max,
    gdouble * out);
G_GNUC_INTERNAL
const gchar *apm_config_get_string (ApmConfigCtx * ctx, JsonObject * o,
    const gchar * key, const gchar * anchor);
G_GNUC_INTERNAL
gboolean apm_config_get_bool (ApmConfigCtx * ctx, JsonObject * o,
    const gchar * key, const gchar * anchor, gboolean * out);
G_GNUC_INTERNAL
JsonObject *apm_config_get_object (ApmConfigCtx * ctx, JsonObject * o,
    const gchar * key);
G_GNUC_INTERNAL
JsonArray *apm_config_get_array (ApmConfigCtx * ctx, JsonObject * o,
    const gchar * key);

/* Reports the first member of @o not in @known (NULL-terminated), naming
 * @where ("a rule", "listen") and the keys it knows. */
G_GNUC_INTERNAL
void apm_config_check_keys (ApmConfigCtx * ctx, JsonObject * o,
    const gchar * const *known, const gchar * anchor, const gchar * where);

/* The JSON tree of @ctx's text, or NULL with the error set (naming the
 * file, not json-glib's "<data>"). */
G_GNUC_INTERNAL
JsonParser *apm_config_parse_json (ApmConfigCtx * ctx, gsize len);

/* apm-config-otlp.c: the "otlp" block as OTEL_* name, value pairs
 * appended to @settings */
G_GNUC_INTERNAL
void apm_config_parse_otlp (ApmConfigCtx * ctx, JsonObject * root,
    GPtrArray * settings);
/* apm-config-recovery.c: the "recovery" block, checked into @out (from
 * apm_config_recovery_new()), then applied */
G_GNUC_INTERNAL
GPtrArray *apm_config_recovery_new (void);
G_GNUC_INTERNAL
void apm_config_parse_recovery (ApmConfigCtx * ctx, JsonObject * root,
    GPtrArray * out);
G_GNUC_INTERNAL
void apm_config_apply_recovery (GPtrArray * entries);

G_END_DECLS
