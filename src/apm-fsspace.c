/* gst-apm: free space of the filesystems that pipelines read and write */
#include "apm-fsspace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* the check's own timeout: statvfs answers at once unless the mount hangs */
#define DISK_CHECK_TIMEOUT_S 5

static GMutex defaults_lock;
static ApmSpaceLimits default_limits = { 0, 0,
  APM_FSSPACE_DEFAULT_DEGRADED_RATIO, APM_FSSPACE_DEFAULT_UNHEALTHY_RATIO
};

static guint default_interval = APM_FSSPACE_DEFAULT_INTERVAL;

void
apm_fsspace_set_defaults (const ApmSpaceLimits * limits, guint interval_s)
{
  g_mutex_lock (&defaults_lock);
  default_limits = *limits;
  default_interval = MAX (interval_s, 1);
  g_mutex_unlock (&defaults_lock);
}

void
apm_fsspace_get_defaults (ApmSpaceLimits * limits, guint * interval_s)
{
  g_mutex_lock (&defaults_lock);
  if (limits)
    *limits = default_limits;
  if (interval_s)
    *interval_s = default_interval;
  g_mutex_unlock (&defaults_lock);
}

/* --- mount points, from /proc/self/mountinfo --- */

typedef struct
{
  gchar *point;
  gchar *device;                /* "major:minor", as st_dev */
  gchar *fstype;
} Mount;

static void
mount_clear (gpointer data)
{
  Mount *m = data;

  g_free (m->point);
  g_free (m->device);
  g_free (m->fstype);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static gchar *
unescape_octal (const gchar * s)
{
  GString *out = g_string_sized_new (strlen (s));

  while (*s) {
    if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0'
        && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
      g_string_append_c (out, (gchar) (((s[1] - '0') << 6) | ((s[2] - '0')
                  << 3) | (s[3] - '0')));
      s += 4;
    } else {
      g_string_append_c (out, *s++);
    }
  }
  return g_string_free (out, FALSE);
}

/* The mounts in mount order (a later one on the same point hides the
 * earlier), or NULL if mountinfo cannot be read (not Linux). */
static GArray *
read_mounts (void)
{
  gchar *text = NULL;
  gchar **lines;
  GArray *mounts;

  /* procfs: answered by the kernel, never by a filesystem */
  if (!g_file_get_contents ("/proc/self/mountinfo", &text, NULL, NULL))
    return NULL;
  mounts = g_array_new (FALSE, TRUE, sizeof (Mount));
  g_array_set_clear_func (mounts, mount_clear);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    /* id parent major:minor root point options [optional...] - type src */
    gchar **f = g_strsplit (lines[i], " ", -1);
    guint n = g_strv_length (f), sep = 6;
    Mount m;

    while (sep < n && strcmp (f[sep], "-") != 0)
      sep++;
    if (n >= 5 && sep + 1 < n) {
      m.point = unescape_octal (f[4]);
      m.device = g_strdup (f[2]);
      m.fstype = g_strdup (f[sep + 1]);
      g_array_append_val (mounts, m);
    }
    g_strfreev (f);
  }
  g_strfreev (lines);
  g_free (text);
  return mounts;
}

static gboolean
mount_holds (const gchar * point, const gchar * path)
{
  gsize n = strlen (point);

  if (strcmp (point, "/") == 0)
    return path[0] == '/';
  return strncmp (point, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* the mount holding @path: the longest point, the latest of equals */
static const Mount *
find_mount (GArray * mounts, const gchar * path)
{
  const Mount *best = NULL;

  for (guint i = 0; mounts && i < mounts->len; i++) {
    const Mount *m = &g_array_index (mounts, Mount, i);

    if (mount_holds (m->point, path) && (!best
            || strlen (m->point) >= strlen (best->point)))
      best = m;
  }
  return best;
}

gchar *
apm_fsspace_mount_of (const gchar * path)
{
  GArray *mounts = read_mounts ();
  gchar *abs = g_canonicalize_filename (path, NULL);
  const Mount *m = find_mount (mounts, abs);
  gchar *point = m ? g_strdup (m->point) : NULL;

  g_free (abs);
  if (mounts)
    g_array_unref (mounts);
  return point;
}

/* --- one filesystem: its check and gauges --- */

/* in an atomic reference-counted box: the table's and its check's */
typedef struct
{
  gchar *mount;
  gchar *device, *fstype;       /* NULL without mountinfo */
  gchar *check_name;
  GMutex lock;
  /* under lock */
  gchar **paths;                /* the files on it, sorted */
  gchar **owners;               /* the pipelines using it, sorted */
  gboolean removed;             /* no pipeline uses it: series retired */
  ApmSeries *avail, *free, *size;       /* created at the first reading */
  /* families: the registry outlives every check */
  ApmFamily *f_avail, *f_free, *f_size;
} Disk;

static void
disk_clear (gpointer data)
{
  Disk *d = data;

  apm_series_unref (d->avail);
  apm_series_unref (d->free);
  apm_series_unref (d->size);
  g_free (d->mount);
  g_free (d->device);
  g_free (d->fstype);
  g_free (d->check_name);
  g_strfreev (d->paths);
  g_strfreev (d->owners);
  g_mutex_clear (&d->lock);
}

static Disk *
disk_ref (Disk * d)
{
  return g_atomic_rc_box_acquire (d);
}

static void
disk_unref (gpointer data)
{
  g_atomic_rc_box_release_full (data, disk_clear);
}

/* The series stay scrapeable for the registry's grace period; a worker
 * still measuring writes into them harmlessly. */
static void
disk_retire (Disk * d)
{
  g_mutex_lock (&d->lock);
  d->removed = TRUE;
  if (d->avail) {
    apm_series_retire (apm_series_ref (d->avail));
    apm_series_retire (apm_series_ref (d->free));
    apm_series_retire (apm_series_ref (d->size));
  }
  g_mutex_unlock (&d->lock);
}

/* The directory to measure for @path: the file's directory (or @path if it
 * is one), else the nearest existing parent.  Blocking: worker only. */
static gchar *
existing_dir (const gchar * path, const gchar * mount)
{
  gchar *dir = g_file_test (path, G_FILE_TEST_IS_DIR) ? g_strdup (path) :
      g_path_get_dirname (path);

  while (!g_file_test (dir, G_FILE_TEST_IS_DIR)) {
    gchar *up;

    /* never above the mount point: that would be another filesystem */
    if (strcmp (dir, mount) == 0 || strcmp (dir, "/") == 0
        || strcmp (dir, ".") == 0) {
      g_free (dir);
      return NULL;
    }
    up = g_path_get_dirname (dir);
    g_free (dir);
    dir = up;
  }
  return dir;
}

static JsonArray *
strv_to_array (gchar ** strv)
{
  JsonArray *a = json_array_new ();

  for (guint i = 0; strv && strv[i]; i++)
    json_array_add_string_element (a, strv[i]);
  return a;
}

/* statvfs in a worker: it may hang on a dead network mount */
static ApmHealthStatus
disk_check (gpointer user_data, gchar ** message, JsonObject ** details)
{
  Disk *d = user_data;
  gchar **paths, **owners, *measured = NULL;
  ApmDiskSpace space;
  ApmSpaceLimits limits;
  gboolean ok = FALSE;
  gint err = 0;

  g_mutex_lock (&d->lock);
  paths = g_strdupv (d->paths);
  owners = g_strdupv (d->owners);
  g_mutex_unlock (&d->lock);
  apm_fsspace_get_defaults (&limits, NULL);

  *details = json_object_new ();
  json_object_set_array_member (*details, "paths", strv_to_array (paths));
  json_object_set_array_member (*details, "pipelines", strv_to_array (owners));
  json_object_set_string_member (*details, "mount", d->mount);
  if (d->device)
    json_object_set_string_member (*details, "device", d->device);
  if (d->fstype)
    json_object_set_string_member (*details, "fstype", d->fstype);

  /* the directory of a file the pipeline uses, as a user would measure;
   * the mount point if none of them exists yet */
  for (guint i = 0; paths && paths[i] && !ok; i++) {
    g_free (measured);
    measured = existing_dir (paths[i], d->mount);
    ok = measured && apm_probes_disk_space (measured, &space);
    err = errno;
  }
  if (!ok) {
    g_free (measured);
    measured = g_strdup (d->mount);
    ok = apm_probes_disk_space (measured, &space);
    err = errno;
  }
  json_object_set_string_member (*details, "measured_path", measured);
  g_strfreev (paths);
  g_strfreev (owners);
  if (!ok) {
    *message = g_strdup_printf ("cannot read the free space of %s: %s",
        measured, g_strerror (err));
    g_free (measured);
    return APM_HEALTH_UNHEALTHY;
  }
  g_free (measured);

  g_mutex_lock (&d->lock);
  /* families are NULL only if another module took the names */
  if (!d->removed && d->f_avail && d->f_free && d->f_size) {
    const gchar *labels[] = { d->mount, NULL };

    if (!d->avail) {
      d->avail = apm_family_series (d->f_avail, labels);
      d->free = apm_family_series (d->f_free, labels);
      d->size = apm_family_series (d->f_size, labels);
    }
    apm_gauge_set_int (d->avail, space.avail_bytes);
    apm_gauge_set_int (d->free, space.free_bytes);
    apm_gauge_set_int (d->size, space.size_bytes);
  }
  g_mutex_unlock (&d->lock);

  return apm_probes_space_status (&space, &limits, *details, message);
}

/* --- the set of filesystems --- */

struct _ApmFsSpace
{
  ApmHealth *health;
  ApmFamily *f_avail, *f_free, *f_size;
  GMutex lock;
  GHashTable *owners;           /* owner -> GPtrArray of UsedPath */
  GHashTable *disks;            /* mount point -> Disk */
};

typedef struct
{
  gchar *path;
  gchar *mount;
  gchar *device, *fstype;
} UsedPath;

static void
used_path_free (gpointer data)
{
  UsedPath *u = data;

  g_free (u->path);
  g_free (u->mount);
  g_free (u->device);
  g_free (u->fstype);
  g_free (u);
}

ApmFsSpace *
apm_fsspace_new (ApmHealth * health, ApmRegistry * registry)
{
  static const gchar *const labels[] = { "mount", NULL };
  ApmFsSpace *s = g_new0 (ApmFsSpace, 1);

  s->health = health;
  s->f_avail = apm_registry_family (registry, "apm_filesystem_avail_bytes",
      APM_METRIC_GAUGE, "Bytes available to unprivileged writers on a "
      "filesystem that a pipeline reads or writes", labels, NULL, 0);
  s->f_free = apm_registry_family (registry, "apm_filesystem_free_bytes",
      APM_METRIC_GAUGE, "Free bytes (including the root reserve) on a "
      "filesystem that a pipeline reads or writes", labels, NULL, 0);
  s->f_size = apm_registry_family (registry, "apm_filesystem_size_bytes",
      APM_METRIC_GAUGE, "Size in bytes of a filesystem that a pipeline "
      "reads or writes", labels, NULL, 0);
  g_mutex_init (&s->lock);
  s->owners = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) g_ptr_array_unref);
  s->disks = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      disk_unref);
  return s;
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar * const *) a, *(const gchar * const *) b);
}

/* a set's strings, sorted, as a new strv */
static gchar **
sorted_strv (GHashTable * set)
{
  guint n;
  gchar **v = (gchar **) g_hash_table_get_keys_as_array (set, &n);
  gchar **copy;

  qsort (v, n, sizeof (gchar *), compare_strings);
  copy = g_strdupv (v);
  g_free (v);
  return copy;
}

typedef struct
{
  GHashTable *paths, *owners;   /* sets */
  const UsedPath *first;
} MountUse;

static void
mount_use_free (gpointer data)
{
  MountUse *u = data;

  g_hash_table_unref (u->paths);
  g_hash_table_unref (u->owners);
  g_free (u);
}

/* called with the lock: makes the checks match the owners' paths */
static void
sync_disks_locked (ApmFsSpace * s)
{
  GHashTable *uses = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      mount_use_free);
  GHashTableIter it;
  const gchar *owner, *mount;
  GPtrArray *list, *gone = g_ptr_array_new ();
  MountUse *use;
  Disk *d;
  guint interval;

  g_hash_table_iter_init (&it, s->owners);
  while (g_hash_table_iter_next (&it, (gpointer *) & owner,
          (gpointer *) & list))
    for (guint i = 0; i < list->len; i++) {
      const UsedPath *u = g_ptr_array_index (list, i);

      use = g_hash_table_lookup (uses, u->mount);
      if (!use) {
        use = g_new0 (MountUse, 1);
        use->paths = g_hash_table_new (g_str_hash, g_str_equal);
        use->owners = g_hash_table_new (g_str_hash, g_str_equal);
        use->first = u;
        g_hash_table_insert (uses, u->mount, use);
      }
      g_hash_table_add (use->paths, u->path);
      g_hash_table_add (use->owners, (gpointer) owner);
    }

  /* filesystems no pipeline uses any more */
  g_hash_table_iter_init (&it, s->disks);
  while (g_hash_table_iter_next (&it, (gpointer *) & mount, (gpointer *) & d))
    if (!g_hash_table_contains (uses, mount))
      g_ptr_array_add (gone, d);
  for (guint i = 0; i < gone->len; i++) {
    d = g_ptr_array_index (gone, i);
    disk_retire (d);
    apm_health_remove_check (s->health, d->check_name);
    g_hash_table_remove (s->disks, d->mount);
  }
  g_ptr_array_unref (gone);

  apm_fsspace_get_defaults (NULL, &interval);
  g_hash_table_iter_init (&it, uses);
  while (g_hash_table_iter_next (&it, (gpointer *) & mount,
          (gpointer *) & use)) {
    gchar **paths = sorted_strv (use->paths);
    gchar **owners = sorted_strv (use->owners);

    d = g_hash_table_lookup (s->disks, mount);
    if (d) {
      g_mutex_lock (&d->lock);
      g_strfreev (d->paths);
      g_strfreev (d->owners);
      d->paths = paths;
      d->owners = owners;
      g_mutex_unlock (&d->lock);
      continue;
    }
    d = g_atomic_rc_box_new0 (Disk);
    d->mount = g_strdup (mount);
    d->device = g_strdup (use->first->device);
    d->fstype = g_strdup (use->first->fstype);
    d->check_name = g_strconcat ("disk:", mount, NULL);
    g_mutex_init (&d->lock);
    d->paths = paths;
    d->owners = owners;
    d->f_avail = s->f_avail;
    d->f_free = s->f_free;
    d->f_size = s->f_size;
    g_hash_table_insert (s->disks, d->mount, d);
    apm_health_add_check_full (s->health, d->check_name, disk_check,
        disk_ref (d), disk_unref, interval, DISK_CHECK_TIMEOUT_S, TRUE);
  }
  g_hash_table_unref (uses);
}

void
apm_fsspace_set_paths (ApmFsSpace * s, const gchar * owner,
    const gchar * const *paths)
{
  GPtrArray *list = g_ptr_array_new_with_free_func (used_path_free);
  GArray *mounts = NULL;

  g_return_if_fail (s != NULL && owner != NULL);
  if (paths && paths[0])
    mounts = read_mounts ();
  for (guint i = 0; paths && paths[i]; i++) {
    UsedPath *u = g_new0 (UsedPath, 1);
    const Mount *m;

    /* a string operation: no access to the file */
    u->path = g_canonicalize_filename (paths[i], NULL);
    m = find_mount (mounts, u->path);
    if (m) {
      u->mount = g_strdup (m->point);
      u->device = g_strdup (m->device);
      u->fstype = g_strdup (m->fstype);
    } else {
      /* no mountinfo: one check per directory */
      u->mount = g_path_get_dirname (u->path);
    }
    g_ptr_array_add (list, u);
  }
  if (mounts)
    g_array_unref (mounts);

  g_mutex_lock (&s->lock);
  if (list->len)
    g_hash_table_replace (s->owners, g_strdup (owner), list);
  else {
    g_hash_table_remove (s->owners, owner);
    g_ptr_array_unref (list);
  }
  sync_disks_locked (s);
  g_mutex_unlock (&s->lock);
}

void
apm_fsspace_free (ApmFsSpace * s)
{
  if (!s)
    return;
  g_mutex_lock (&s->lock);
  g_hash_table_remove_all (s->owners);
  sync_disks_locked (s);
  g_mutex_unlock (&s->lock);
  g_hash_table_unref (s->owners);
  g_hash_table_unref (s->disks);
  g_mutex_clear (&s->lock);
  g_free (s);
}
