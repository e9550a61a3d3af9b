/* gst-apm: the /ws/monitoring WebSocket feed */
#pragma once

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _ApmService ApmService;
typedef struct _ApmWs ApmWs;

#define APM_WS_MAX_CLIENTS 256
/* An update is skipped for a client whose socket holds this much unsent. */
#define APM_WS_MAX_BACKLOG (256 * 1024)
/* A client that could take no update for this many ticks is closed (1008). */
#define APM_WS_MAX_SKIPS 10
#define APM_WS_KEEPALIVE_S 15

/* All on the service thread. */
ApmWs *apm_ws_new (ApmService * service, SoupServer * server,
    guint update_interval_ms);
void apm_ws_free (ApmWs * ws);

/* Sends {"type": @type, "timestamp": ..., "data": @data} to every client
 * subscribed to @type, at once. */
void apm_ws_broadcast (ApmWs * ws, const gchar * type, JsonNode * data);

/* Parses a client message ({"type": "subscribe", "topics": [...]}) into a
 * topic mask; FALSE with @problem when it is not one. */
gboolean apm_ws_parse_client_message (const gchar * data, gsize len,
    guint * topics, const gchar ** problem);

G_END_DECLS
