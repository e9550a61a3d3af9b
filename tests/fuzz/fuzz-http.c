/* libFuzzer harness: HTTP paths and queries, as the server sees them:
 * "PATH?QUERY" is split, the query decoded by libsoup, then the route and
 * the shared query parameters are parsed. */
#include <libsoup/soup.h>
#include <string.h>
#include "apm-api.h"
#include "apm-query.h"

int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  gchar *text = g_strndup ((const gchar *) data, size);
  gchar *q = strchr (text, '?');
  GHashTable *query = NULL;
  const gchar *allow, *problem = NULL;
  gint64 since;
  guint limit;

  if (q) {
    *q = '\0';
    query = soup_form_decode (q + 1);
  }
  allow = apm_api_route_allow (text);
  /* only our own routes: never a file path */
  g_assert (!allow || g_str_has_prefix (text, "/"));
  g_assert (!strstr (text, "..") || !allow
      || g_str_has_prefix (text, "/monitoring/"));
  if (apm_query_since (query, G_GINT64_CONSTANT (1800000000000000), &since,
          &problem))
    g_assert (problem == NULL);
  else
    g_assert (problem != NULL);
  problem = NULL;
  if (apm_query_limit (query, &limit, &problem))
    g_assert (limit <= 100000);
  if (query)
    g_hash_table_unref (query);
  g_free (text);
  return 0;
}
