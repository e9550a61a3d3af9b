/* gst-apm: who may do what over HTTP: bearer token and allowed origins */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _ApmAccess ApmAccess;

ApmAccess *apm_access_new (void);
void apm_access_free (ApmAccess * access);

/* A token required for state-changing requests (POST...), or for every
 * request with @all.  NULL: no token (the default: 127.0.0.1 only). */
void apm_access_set_token (ApmAccess * access, const gchar * token,
    gboolean all);
/* Origins (scheme://host:port) besides the service's own that browsers may
 * use: CORS headers, WebSocket and state-changing requests. */
void apm_access_set_origins (ApmAccess * access,
    const gchar * const *origins);

/* Checks @msg before its body is read; answers it (401/403) and returns
 * FALSE when refused.  Adds CORS headers for allowed origins. */
gboolean apm_access_check (ApmAccess * access, SoupServerMessage * msg,
    const char *path);

/* Whether a WebSocket handshake's Origin may open the feed (libsoup has
 * already answered the handshake when handlers run: the caller closes). */
gboolean apm_access_origin_allowed (ApmAccess * access,
    SoupServerMessage * msg);

G_END_DECLS
