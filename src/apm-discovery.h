/* gst-apm: where a running service can be found without asking the
 * application (no bus message): one JSON file per process,
 * $APM_RUNTIME_DIR/<pid>.json, by default $XDG_RUNTIME_DIR/gst-apm
 * (GLib's user runtime directory) or /run/gst-apm for root, written once
 * the service listens and removed when it stops.  gst-apm (tools/) lists
 * them. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The directory of the files (a new string). */
gchar *apm_discovery_dir (void);

/* Writes (or rewrites) this process's file: {"pid", "url", "port",
 * "address", "program", "cmdline", "pipelines", "started"}.  Returns its path (free it after withdrawing),
 * or NULL if it could not be written (logged by the caller from @error). */
gchar *apm_discovery_publish (const gchar * url, guint port,
    const gchar * address, const gchar * const *pipelines, GError ** error);

/* Removes the file written by apm_discovery_publish(). */
void apm_discovery_withdraw (const gchar * path);

/* The entries of running processes, by pid (a new array of objects);
 * entries of dead processes are skipped and, with @clean, removed. */
JsonArray *apm_discovery_list (gboolean clean);

G_END_DECLS
