/* gst-apm: HTTP content negotiation (Accept, Accept-Encoding) and gzip */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The quality (0 to 1) that an Accept or Accept-Encoding header value gives
 * @type ("application/openmetrics-text", "gzip"), from its own entry or the
 * wildcards that cover it (RFC 9110 12.5); @versions: the "version"
 * parameters accepted (NULL: any), an entry with another version does not
 * count.  A NULL header accepts everything at 1. */
gdouble apm_negotiate_quality (const gchar * header, const gchar * type,
    const gchar * const *versions);

/* @data compressed as gzip (a new buffer, *@out_len bytes), or NULL if
 * compression failed. */
guint8 *apm_gzip (const guint8 * data, gsize len, gsize * out_len);

G_END_DECLS
