/* gst-apm: the HTTP server of the service (libsoup 3) */
#pragma once

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _ApmService ApmService;
typedef struct _ApmHttp ApmHttp;

/* Request bodies larger than this are refused before they are read. */
#define APM_HTTP_MAX_BODY (64 * 1024)
/* A connection on which nothing arrives (or nothing can be sent) for this
 * long is closed. */
#define APM_HTTP_IDLE_TIMEOUT_S 30
/* The whole request (line, headers, body) must arrive within this many
 * seconds of the accept, or the connection is closed: a client trickling
 * header bytes (slowloris) never trips the idle timeout above. */
#define APM_HTTP_REQUEST_DEADLINE_S 10
/* Connections open at once, besides room for the WebSocket clients
 * (APM_WS_MAX_CLIENTS): those beyond are answered 503 and closed at once. */
#define APM_HTTP_MAX_CONNECTIONS 512
/* Pending connections the kernel queues before we accept them. */
#define APM_HTTP_LISTEN_BACKLOG 128
/* After a failed accept (out of file descriptors), accepting pauses this
 * long instead of retrying at once. */
#define APM_HTTP_ACCEPT_PAUSE_MS 200

/* Must be called on the service thread, with its context thread-default. */
ApmHttp *apm_http_new (ApmService * service, guint ws_interval_ms);
void apm_http_broadcast (ApmHttp * http, const gchar * type,
    JsonNode * data);
/* Listens on the first free port from @port to @last_port (@port alone
 * when they are equal; 0 picks any free port). */
gboolean apm_http_listen (ApmHttp * http, const gchar * address, gint port,
    gint last_port, guint * bound_port, GError ** error);
void apm_http_free (ApmHttp * http);

/* Response helpers for route handlers. */
void apm_http_respond_json (SoupServerMessage * msg, guint status,
    JsonNode * node);
void apm_http_respond_error (SoupServerMessage * msg, guint status,
    const gchar * message);

G_END_DECLS
