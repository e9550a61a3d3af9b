/* gst-apm: the HTTP server of the service (libsoup 3) */
#pragma once

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _ApmService ApmService;
typedef struct _ApmHttp ApmHttp;

/* Request bodies larger than this are refused before they are read. */
#define APM_HTTP_MAX_BODY (64 * 1024)
/* Idle connections (including slow senders) are closed after this. */
#define APM_HTTP_IDLE_TIMEOUT_S 30

/* Must be called on the service thread, with its context thread-default. */
ApmHttp *apm_http_new (ApmService * service, guint ws_interval_ms);
void apm_http_broadcast (ApmHttp * http, const gchar * type,
    JsonNode * data);
gboolean apm_http_listen (ApmHttp * http, const gchar * address, gint port,
    guint * bound_port, GError ** error);
void apm_http_free (ApmHttp * http);

/* Response helpers for route handlers. */
void apm_http_respond_json (SoupServerMessage * msg, guint status,
    JsonNode * node);
void apm_http_respond_error (SoupServerMessage * msg, guint status,
    const gchar * message);

G_END_DECLS
