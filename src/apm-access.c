/* gst-apm: who may do what over HTTP: bearer token and allowed origins
 *
 * Secure by default: bound to 127.0.0.1, no CORS, and a browser page from
 * another origin can neither open the WebSocket nor resolve an alert (a
 * cross-site request would otherwise work against a local service).
 */
#include "apm-access.h"
#include "apm-http.h"

#include <string.h>

struct _ApmAccess
{
  GMutex lock;
  gchar *token;
  gboolean token_for_all;
  gchar **origins;
};

ApmAccess *
apm_access_new (void)
{
  ApmAccess *a = g_new0 (ApmAccess, 1);

  g_mutex_init (&a->lock);
  return a;
}

void
apm_access_free (ApmAccess * a)
{
  if (!a)
    return;
  g_free (a->token);
  g_strfreev (a->origins);
  g_mutex_clear (&a->lock);
  g_free (a);
}

void
apm_access_set_token (ApmAccess * a, const gchar * token, gboolean all)
{
  g_mutex_lock (&a->lock);
  g_free (a->token);
  a->token = token && *token ? g_strdup (token) : NULL;
  a->token_for_all = all;
  g_mutex_unlock (&a->lock);
}

void
apm_access_set_origins (ApmAccess * a, const gchar * const *origins)
{
  g_mutex_lock (&a->lock);
  g_strfreev (a->origins);
  a->origins = g_strdupv ((gchar **) origins);
  g_mutex_unlock (&a->lock);
}

/* equal in constant time for equal lengths: no timing oracle on tokens */
static gboolean
token_equal (const gchar * a, const gchar * b)
{
  gsize la = strlen (a), lb = strlen (b);
  guchar diff = la != lb;

  for (gsize i = 0; i < la && i < lb; i++)
    diff |= (guchar) a[i] ^ (guchar) b[i];
  return diff == 0;
}

/* "http://127.0.0.1:9464" is the page's own origin when Host matches */
static gboolean
same_origin (const gchar * origin, const gchar * host)
{
  const gchar *p = strstr (origin, "://");

  return p && host && g_ascii_strcasecmp (p + 3, host) == 0;
}

static gboolean
is_write (const gchar * method)
{
  return strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0
      && strcmp (method, "OPTIONS") != 0;
}

gboolean
apm_access_origin_allowed (ApmAccess * a, SoupServerMessage * msg)
{
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  const gchar *origin = soup_message_headers_get_one (req, "Origin");
  const gchar *host = soup_message_headers_get_one (req, "Host");
  gboolean ok;

  if (!origin)
    return TRUE;                /* not a browser */
  g_mutex_lock (&a->lock);
  ok = same_origin (origin, host) || (a->origins
      && g_strv_contains ((const gchar * const *) a->origins, origin));
  g_mutex_unlock (&a->lock);
  return ok;
}

gboolean
apm_access_check (ApmAccess * a, SoupServerMessage * msg, const char *path)
{
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *resp = soup_server_message_get_response_headers (msg);
  const gchar *method = soup_server_message_get_method (msg);
  const gchar *origin = soup_message_headers_get_one (req, "Origin");
  const gchar *host = soup_message_headers_get_one (req, "Host");
  const gchar *auth = soup_message_headers_get_one (req, "Authorization");
  gboolean listed = FALSE, ok = TRUE;
  gboolean websocket = g_strcmp0 (path, "/ws/monitoring") == 0;

  g_mutex_lock (&a->lock);
  if (origin && a->origins)
    listed = g_strv_contains ((const gchar * const *) a->origins, origin);

  if (origin && !listed && !same_origin (origin, host)
      && (websocket || is_write (method))) {
    apm_http_respond_error (msg, SOUP_STATUS_FORBIDDEN,
        "origin not allowed (add it to allowed_origins)");
    ok = FALSE;
  } else if (a->token && (a->token_for_all || is_write (method))
      && strcmp (method, "OPTIONS") != 0
      && !(auth && g_str_has_prefix (auth, "Bearer ")
          && token_equal (auth + 7, a->token))) {
    apm_http_respond_error (msg, SOUP_STATUS_UNAUTHORIZED,
        "a bearer token is required");
    soup_message_headers_replace (resp, "WWW-Authenticate",
        "Bearer realm=\"gst-apm\"");
    ok = FALSE;
  }
  if (listed) {
    soup_message_headers_replace (resp, "Access-Control-Allow-Origin", origin);
    soup_message_headers_replace (resp, "Vary", "Origin");
    soup_message_headers_replace (resp, "Access-Control-Allow-Headers",
        "Authorization, Content-Type");
    soup_message_headers_replace (resp, "Access-Control-Allow-Methods",
        "GET, HEAD, POST");
  }
  g_mutex_unlock (&a->lock);
  return ok;
}
