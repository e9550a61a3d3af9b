/* gst-apm: REST routes of the service */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _ApmService ApmService;

/* Routes @msg to its handler; answers 404/405 as JSON errors. */
void apm_api_dispatch (ApmService * service, SoupServerMessage * msg,
    const char *path, GHashTable * query);

/* The methods allowed on @path ("GET, HEAD"), or NULL if no route serves
 * it. */
const gchar *apm_api_route_allow (const char *path);

G_END_DECLS
