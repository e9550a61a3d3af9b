/* gst-apm: the HTTP server of the service (libsoup 3)
 *
 * Connections are accepted by our own GSocketListener and handed to the
 * SoupServer: libsoup 3.2's own listener leaks per connection, SoupServer
 * has no timeouts, and GSocketService retries a failed accept at once
 * (out of file descriptors that is a busy loop).  So this file caps the
 * connections open at once, pauses accepting after a failure, and gives
 * each connection an idle timeout and a deadline for its request.
 */
#include "apm-http.h"
#include "apm-api.h"
#include "apm-ws.h"
#include "apm-access.h"
#include "apm-log-store.h"
#include "apm-service.h"

#include <string.h>

#define MAX_OPEN (APM_HTTP_MAX_CONNECTIONS + APM_WS_MAX_CLIENTS)
/* at most one log line per problem in this time */
#define WARN_INTERVAL_US (10 * G_USEC_PER_SEC)

struct _ApmHttp
{
  ApmService *service;
  SoupServer *server;
  GSocketListener *listener;
  GCancellable *cancel;         /* the pending accept */
  GSource *accept_pause;        /* while accepting is paused */
  gint *open;                   /* connections open (a shared atomic box) */
  gint64 accept_warned_us, refuse_warned_us;
  guint accept_failures, refused;       /* since the last warning */
  ApmWs *ws;
};

/* One accepted connection.  Referenced by its GSocketConnection (the fd:
 * it counts as open until that is finalized) and by the remote address
 * handed to libsoup, the only object of ours a SoupServerMessage gives
 * back. */
typedef struct
{
  gint *open;
  GSocket *socket;              /* borrowed; NULL once the connection is gone */
  GSource *deadline;
} Conn;

static const gchar conn_key[] = "apm-http-conn";

void
apm_http_respond_json (SoupServerMessage * msg, guint status, JsonNode * node)
{
  JsonGenerator *gen = json_generator_new ();
  gsize len;
  gchar *body;

  json_generator_set_root (gen, node);
  json_generator_set_pretty (gen, TRUE);
  body = json_generator_to_data (gen, &len);
  g_object_unref (gen);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
      body, len);
}

void
apm_http_respond_error (SoupServerMessage * msg, guint status,
    const gchar * message)
{
  JsonBuilder *b = json_builder_new ();
  JsonNode *root;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "code");
  json_builder_add_int_value (b, status);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_end_object (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  apm_http_respond_json (msg, status, root);
  json_node_unref (root);
  g_object_unref (b);
}

/* An error answer written straight to the socket, for when libsoup must
 * not go on (small: a fresh or idle socket's buffer takes it at once). */
static void
send_raw_error (GSocket * sock, guint status, const gchar * message)
{
  gchar *body = g_strdup_printf ("{\"error\": {\"code\": %u, "
      "\"message\": \"%s\"}}", status, message);
  gchar *response = g_strdup_printf ("HTTP/1.1 %u %s\r\n"
      "Content-Type: application/json\r\nContent-Length: %u\r\n"
      "%sConnection: close\r\n\r\n%s", status,
      soup_status_get_phrase (status), (guint) strlen (body),
      status == SOUP_STATUS_SERVICE_UNAVAILABLE ? "Retry-After: 1\r\n" : "",
      body);

  g_socket_send_with_blocking (sock, response, strlen (response), FALSE,
      NULL, NULL);
  g_free (response);
  g_free (body);
}

/* Refuse oversized bodies before libsoup reads them.  Answering in the
 * early handler is not enough: libsoup 3.2 would still read the whole
 * body into memory (a 100 MB POST took 200 MB) before sending the answer.
 * So the answer goes out at once, and the connection is shut down. */
static void
refuse_body (SoupServerMessage * msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);
  Conn *c = remote ? g_object_get_data (G_OBJECT (remote), conn_key) : NULL;

  soup_message_body_set_accumulate (soup_server_message_get_request_body
      (msg), FALSE);
  apm_http_respond_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
      "request body too large");
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Connection", "close");
  if (c && c->socket) {
    send_raw_error (c->socket, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
        "request body too large");
    g_socket_shutdown (c->socket, TRUE, TRUE, NULL);
  }
}

static void
early_handler (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  goffset len = soup_message_headers_get_content_length (h);
  SoupEncoding enc = soup_message_headers_get_encoding (h);

  ApmHttp *http = user_data;

  /* libsoup 3.2 closes connections handed to accept_iostream after each
   * response: say so, or clients reusing them fail */
  if (g_strcmp0 (path, "/ws/monitoring") != 0)
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Connection", "close");
  if (len > APM_HTTP_MAX_BODY || enc == SOUP_ENCODING_CHUNKED
      || enc == SOUP_ENCODING_EOF) {
    refuse_body (msg);
    return;
  }
  apm_access_check (apm_service_get_access (http->service), msg, path);
}

static void
request_handler (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  ApmHttp *http = user_data;

  /* every answer shows what the streaming threads counted until now */
  apm_service_flush (http->service);
  apm_api_dispatch (http->service, msg, path, query);
}

static void conn_clear (gpointer data);

static void
conn_release (gpointer data)
{
  g_atomic_rc_box_release_full (data, conn_clear);
}

static void
conn_stop_deadline (Conn * c)
{
  if (c->deadline) {
    g_source_destroy (c->deadline);
    g_clear_pointer (&c->deadline, g_source_unref);
  }
}

/* the GSocketConnection is finalized: its fd is closed */
static void
conn_gone (gpointer data)
{
  Conn *c = data;

  conn_stop_deadline (c);
  c->socket = NULL;
  g_atomic_int_add (c->open, -1);
  conn_release (c);
}

static void
conn_clear (gpointer data)
{
  Conn *c = data;

  g_atomic_rc_box_release (c->open);
}

static gboolean
on_request_deadline (gpointer user_data)
{
  Conn *c = user_data;

  /* both directions: libsoup reads end-of-stream, drops the half-read
   * request and closes the connection as usual */
  if (c->socket)
    g_socket_shutdown (c->socket, TRUE, TRUE, NULL);
  g_clear_pointer (&c->deadline, g_source_unref);
  return G_SOURCE_REMOVE;
}

/* the request is in (line, headers and body): from here on only the idle
 * timeout applies (a WebSocket stays open) */
static void
on_request_read (SoupServer * server, SoupServerMessage * msg,
    gpointer user_data)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);
  Conn *c = remote ? g_object_get_data (G_OBJECT (remote), conn_key) : NULL;

  if (c)
    conn_stop_deadline (c);
}

/* At most one log line per WARN_INTERVAL_US for each kind of trouble,
 * with the number of times it happened meanwhile. */
static gboolean
warn_due (gint64 * last_us)
{
  gint64 now = g_get_monotonic_time ();

  if (*last_us && now - *last_us < WARN_INTERVAL_US)
    return FALSE;
  *last_us = now;
  return TRUE;
}

/* Over the cap: a 503 and close, without reading the request (the send
 * goes to a fresh socket's empty buffer, so it does not block). */
static void
refuse (ApmHttp * http, GSocketConnection * conn)
{
  GSocket *sock = g_socket_connection_get_socket (conn);

  send_raw_error (sock, SOUP_STATUS_SERVICE_UNAVAILABLE,
      "too many connections");
  g_socket_shutdown (sock, FALSE, TRUE, NULL);
  g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
  http->refused++;
  if (warn_due (&http->refuse_warned_us)) {
    apm_log_write (apm_service_get_log (http->service), APM_LOG_WARNING,
        "http", NULL, NULL, "%u connection(s) refused: %d open, the most "
        "allowed (%d requests + %d WebSocket clients)", http->refused,
        g_atomic_int_get (http->open), APM_HTTP_MAX_CONNECTIONS,
        APM_WS_MAX_CLIENTS);
    http->refused = 0;
  }
}

static void
serve (ApmHttp * http, GSocketConnection * conn)
{
  GSocket *sock = g_socket_connection_get_socket (conn);
  GSocketAddress *local, *remote;
  GError *error = NULL;
  Conn *c;

  if (g_atomic_int_get (http->open) >= MAX_OPEN) {
    refuse (http, conn);
    return;
  }
  local = g_socket_connection_get_local_address (conn, NULL);
  remote = g_socket_connection_get_remote_address (conn, NULL);
  if (!local || !remote) {
    /* the peer is already gone */
    g_clear_object (&local);
    g_clear_object (&remote);
    return;
  }

  g_socket_set_timeout (sock, APM_HTTP_IDLE_TIMEOUT_S);
  c = g_atomic_rc_box_new0 (Conn);
  c->open = g_atomic_rc_box_acquire (http->open);
  c->socket = sock;
  g_atomic_int_inc (c->open);
  c->deadline = g_timeout_source_new_seconds (APM_HTTP_REQUEST_DEADLINE_S);
  g_source_set_callback (c->deadline, on_request_deadline, c, NULL);
  g_source_attach (c->deadline, g_main_context_get_thread_default ());
  g_object_set_data_full (G_OBJECT (conn), conn_key, c, conn_gone);
  g_object_set_data_full (G_OBJECT (remote), conn_key,
      g_atomic_rc_box_acquire (c), (GDestroyNotify) conn_release);

  if (!soup_server_accept_iostream (http->server, G_IO_STREAM (conn), local,
          remote, &error)) {
    g_debug ("could not accept connection: %s", error->message);
    g_clear_error (&error);
  }
  g_object_unref (local);
  g_object_unref (remote);
}

static void accept_next (ApmHttp * http);

static gboolean
on_accept_pause_over (gpointer user_data)
{
  ApmHttp *http = user_data;

  g_clear_pointer (&http->accept_pause, g_source_unref);
  accept_next (http);
  return G_SOURCE_REMOVE;
}

static void
on_accepted (GObject * source, GAsyncResult * result, gpointer user_data)
{
  GCancellable *cancel = g_task_get_cancellable (G_TASK (result));
  ApmHttp *http = user_data;
  GSocketConnection *conn;
  GError *error = NULL;

  conn = g_socket_listener_accept_finish (G_SOCKET_LISTENER (source), result,
      NULL, &error);
  /* cancelled: apm_http_free() ran, @http is gone */
  if (g_cancellable_is_cancelled (cancel)
      || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_clear_object (&conn);
    g_clear_error (&error);
    return;
  }
  if (conn) {
    serve (http, conn);
    g_object_unref (conn);
    accept_next (http);
    return;
  }

  /* out of file descriptors (EMFILE, ENFILE) or memory: the pending
   * connection stays queued and would fail again at once; give the open
   * ones some time to close */
  http->accept_failures++;
  if (warn_due (&http->accept_warned_us)) {
    apm_log_write (apm_service_get_log (http->service), APM_LOG_WARNING,
        "http", NULL, NULL, "cannot accept connections (%u failure(s), "
        "%d open): %s; retrying every %d ms", http->accept_failures,
        g_atomic_int_get (http->open), error->message,
        APM_HTTP_ACCEPT_PAUSE_MS);
    http->accept_failures = 0;
  }
  g_clear_error (&error);
  http->accept_pause = g_timeout_source_new (APM_HTTP_ACCEPT_PAUSE_MS);
  g_source_set_callback (http->accept_pause, on_accept_pause_over, http,
      NULL);
  g_source_attach (http->accept_pause, g_main_context_get_thread_default ());
}

static void
accept_next (ApmHttp * http)
{
  g_socket_listener_accept_async (http->listener, http->cancel, on_accepted,
      http);
}

void
apm_http_broadcast (ApmHttp * http, const gchar * type, JsonNode * data)
{
  apm_ws_broadcast (http->ws, type, data);
}

ApmHttp *
apm_http_new (ApmService * service, guint ws_interval_ms)
{
  ApmHttp *http = g_new0 (ApmHttp, 1);

  http->service = service;
  http->open = g_atomic_rc_box_new0 (gint);
  http->server = soup_server_new ("server-header", "gst-apm", NULL);
  soup_server_add_early_handler (http->server, NULL, early_handler, http,
      NULL);
  http->ws = apm_ws_new (service, http->server, ws_interval_ms);
  soup_server_add_handler (http->server, NULL, request_handler, http, NULL);
  g_signal_connect (http->server, "request-read",
      G_CALLBACK (on_request_read), http);
  return http;
}

gboolean
apm_http_listen (ApmHttp * http, const gchar * address, gint port,
    gint last_port, guint * bound_port, GError ** error)
{
  GInetAddress *inet = g_inet_address_new_from_string (address);
  GSocketAddress *effective = NULL;
  gboolean ok = FALSE;

  if (!inet) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "'%s' is not an IP address", address);
    return FALSE;
  }
  http->listener = g_socket_listener_new ();
  /* GSocketListener's default of 10 drops SYNs of a burst of clients */
  g_socket_listener_set_backlog (http->listener, APM_HTTP_LISTEN_BACKLOG);
  for (gint p = port; p <= MAX (port, last_port); p++) {
    GSocketAddress *sa = g_inet_socket_address_new (inet, p);
    GError *e = NULL;
    gboolean taken;

    ok = g_socket_listener_add_address (http->listener, sa,
        G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &effective, &e);
    g_object_unref (sa);
    if (ok)
      break;
    /* only a taken port moves on to the next */
    taken = g_error_matches (e, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
    if (taken && p < last_port) {
      g_clear_error (&e);
      continue;
    }
    if (taken && p > port)
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
          "ports %d to %d are all in use", port, p);
    else
      g_propagate_error (error, g_steal_pointer (&e));
    g_clear_error (&e);
    break;
  }
  g_object_unref (inet);
  if (!ok) {
    g_clear_object (&http->listener);
    return FALSE;
  }
  *bound_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS
      (effective));
  g_object_unref (effective);
  http->cancel = g_cancellable_new ();
  accept_next (http);
  return TRUE;
}

void
apm_http_free (ApmHttp * http)
{
  apm_ws_free (http->ws);
  if (http->accept_pause) {
    g_source_destroy (http->accept_pause);
    g_clear_pointer (&http->accept_pause, g_source_unref);
  }
  if (http->listener) {
    /* the pending accept completes later, cancelled, without @http */
    g_cancellable_cancel (http->cancel);
    g_socket_listener_close (http->listener);
    g_clear_object (&http->listener);
  }
  g_clear_object (&http->cancel);
  g_signal_handlers_disconnect_by_data (http->server, http);
  soup_server_disconnect (http->server);
  g_object_unref (http->server);
  g_atomic_rc_box_release (http->open);
  g_free (http);
}
