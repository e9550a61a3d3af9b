/* gst-apm: metric registry */
#include "apm-metrics.h"
#include "apm-metrics-private.h"
#include "apm-history.h"

#include <math.h>
#include <string.h>

#define AS_SECONDS(ns) (ns) / 1e9,
#define AS_NS(ns) (ns),
const gdouble apm_seconds_buckets[] = { APM_SECONDS_BOUNDS_NS (AS_SECONDS) };
const gint64 apm_seconds_bounds_ns[] = { APM_SECONDS_BOUNDS_NS (AS_NS) };
#undef AS_SECONDS
#undef AS_NS
const guint apm_n_seconds_buckets = G_N_ELEMENTS (apm_seconds_buckets);

static guint series_hash (gconstpointer p);
static gboolean series_equal (gconstpointer a, gconstpointer b);

ApmRegistry *
apm_registry_new (guint max_series)
{
  ApmRegistry *r = g_new0 (ApmRegistry, 1);

  g_mutex_init (&r->lock);
  r->families = g_hash_table_new (g_str_hash, g_str_equal);
  r->order = g_ptr_array_new ();
  r->max_series = max_series ? max_series : 10000;
  return r;
}

static void
family_free (ApmFamily * f)
{
  g_hash_table_destroy (f->by_key);
  g_ptr_array_unref (f->series);
  if (f->overflow)
    apm_series_unref (f->overflow);
  g_free (f->name);
  g_free (f->help);
  g_strfreev (f->label_names);
  g_free (f->bounds);
  g_free (f->bounds_ns);
  g_free (f);
}

void
apm_registry_free (ApmRegistry * r)
{
  if (!r)
    return;
  for (guint i = 0; i < r->order->len; i++)
    family_free (g_ptr_array_index (r->order, i));
  g_ptr_array_unref (r->order);
  g_hash_table_destroy (r->families);
  apm_history_registry_free (r->history);
  g_mutex_clear (&r->lock);
  g_free (r);
}

static gboolean
same_labels (ApmFamily * f, const gchar * const *label_names)
{
  guint n = label_names ? g_strv_length ((gchar **) label_names) : 0;

  if (n != f->n_labels)
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (strcmp (f->label_names[i], label_names[i]) != 0)
      return FALSE;
  return TRUE;
}

ApmFamily *
apm_registry_family (ApmRegistry * r, const gchar * name, ApmMetricType type,
    const gchar * help, const gchar * const *label_names,
    const gdouble * bounds, guint n_bounds)
{
  ApmFamily *f;

  g_return_val_if_fail (r != NULL && name != NULL, NULL);

  g_mutex_lock (&r->lock);
  f = g_hash_table_lookup (r->families, name);
  if (f) {
    if (f->type != type || !same_labels (f, label_names))
      f = NULL;
    g_mutex_unlock (&r->lock);
    return f;
  }

  f = g_new0 (ApmFamily, 1);
  f->registry = r;
  f->name = g_strdup (name);
  f->help = g_strdup (help ? help : name);
  f->type = type;
  f->label_names = g_strdupv ((gchar **) label_names);
  if (!f->label_names)
    f->label_names = g_new0 (gchar *, 1);
  f->n_labels = g_strv_length (f->label_names);
  if (type == APM_METRIC_HISTOGRAM) {
    if (!bounds) {
      bounds = apm_seconds_buckets;
      n_bounds = apm_n_seconds_buckets;
    }
    f->n_bounds = n_bounds;
    f->bounds = g_memdup2 (bounds, sizeof (gdouble) * n_bounds);
    f->bounds_ns = g_new (gint64, n_bounds);
    for (guint i = 0; i < n_bounds; i++)
      f->bounds_ns[i] = (gint64) llround (bounds[i] * 1e9);
  }
  f->scale = 1.0;
  f->by_key = g_hash_table_new (series_hash, series_equal);
  f->series = g_ptr_array_new_with_free_func ((GDestroyNotify)
      apm_series_unref);
  g_hash_table_insert (r->families, f->name, f);
  g_ptr_array_add (r->order, f);
  g_mutex_unlock (&r->lock);
  return f;
}

void
apm_family_set_scale (ApmFamily * f, gdouble scale)
{
  g_mutex_lock (&f->registry->lock);
  f->scale = scale;
  g_mutex_unlock (&f->registry->lock);
}

ApmFamily *
apm_registry_lookup (ApmRegistry * r, const gchar * name)
{
  ApmFamily *f;

  g_mutex_lock (&r->lock);
  f = g_hash_table_lookup (r->families, name);
  g_mutex_unlock (&r->lock);
  return f;
}

/* Label values are interned (GRefString): the same pipeline, element and pad
 * names recur in every family, and a series is then a few pointers. */
static ApmSeries *
series_new (ApmFamily * f, const gchar * const *label_values)
{
  /* one allocation: the label value pointers follow the struct */
  ApmSeries *s = g_malloc0 (sizeof (ApmSeries) +
      sizeof (gchar *) * (f->n_labels + 1));

  s->family = f;
  s->scale = f->scale;
  s->ref_count = 1;
  s->label_values = (gchar **) (s + 1);
  for (guint i = 0; i < f->n_labels; i++)
    s->label_values[i] = g_ref_string_new_intern (label_values &&
        label_values[i] ? label_values[i] : "");
  if (f->type == APM_METRIC_HISTOGRAM) {
    s->n_bounds = f->n_bounds;
    s->bounds = f->bounds;
    s->bounds_ns = f->bounds_ns;
    s->buckets = g_new0 (guint64, f->n_bounds + 1);
  }
  return s;
}

/* The family's set of series is hashed on the label values themselves, so
 * a lookup builds nothing and a series stores no key. */
static guint
series_hash (gconstpointer p)
{
  const ApmSeries *s = p;
  guint h = 5381;

  for (guint i = 0; i < s->family->n_labels; i++)
    h = h * 33 + g_str_hash (s->label_values[i]);
  return h;
}

static gboolean
series_equal (gconstpointer a, gconstpointer b)
{
  const ApmSeries *x = a, *y = b;

  for (guint i = 0; i < x->family->n_labels; i++)
    if (strcmp (x->label_values[i], y->label_values[i]) != 0)
      return FALSE;
  return TRUE;
}

gchar *
apm_series_dup_key (const ApmSeries * s)
{
  GString *k = g_string_new (NULL);

  /* \x1f cannot be confused with printable label text */
  for (guint i = 0; i < s->family->n_labels; i++) {
    if (i)
      g_string_append_c (k, '\x1f');
    g_string_append (k, s->label_values[i]);
  }
  return g_string_free (k, FALSE);
}

ApmSeries *
apm_family_series (ApmFamily * f, const gchar * const *label_values)
{
  ApmRegistry *r = f->registry;
  const gchar *values[f->n_labels + 1];
  gchar *valid[f->n_labels + 1];
  ApmSeries probe = {.family = f,.label_values = (gchar **) values };
  ApmSeries *s;

  /* stored values are valid UTF-8 (they are rendered): look up by the same */
  for (guint i = 0; i < f->n_labels; i++) {
    const gchar *v = label_values && label_values[i] ? label_values[i] : "";

    valid[i] = g_utf8_validate (v, -1, NULL) ? NULL : g_utf8_make_valid (v, -1);
    values[i] = valid[i] ? valid[i] : v;
  }
  values[f->n_labels] = NULL;

  g_mutex_lock (&r->lock);
  s = g_hash_table_lookup (f->by_key, &probe);
  if (s && s->retired_at == 0)
    ;                           /* live: share it */
  else if (r->n_series >= r->max_series) {
    r->n_dropped++;
    if (!f->overflow)
      f->overflow = series_new (f, NULL);
    s = f->overflow;
  } else {
    if (s) {
      /* a retired series with the same labels: replace it */
      g_hash_table_remove (f->by_key, s);
      g_ptr_array_remove (f->series, s);
      r->n_series--;
    }
    s = series_new (f, values);
    g_hash_table_add (f->by_key, s);
    g_ptr_array_add (f->series, s);
    r->n_series++;
  }
  apm_series_ref (s);
  g_mutex_unlock (&r->lock);
  for (guint i = 0; i < f->n_labels; i++)
    g_free (valid[i]);
  return s;
}

ApmSeries *
apm_series_ref (ApmSeries * s)
{
  g_atomic_int_inc (&s->ref_count);
  return s;
}

void
apm_series_unref (ApmSeries * s)
{
  if (!s || !g_atomic_int_dec_and_test (&s->ref_count))
    return;
  for (guint i = 0; s->label_values[i]; i++)
    g_ref_string_release (s->label_values[i]);
  g_free (s->buckets);
  if (s->extra) {
    apm_history_series_free (s->extra->history);
    g_free (s->extra);
  }
  g_free (s);
}

void
apm_series_retire (ApmSeries * s)
{
  if (!s)
    return;
  __atomic_store_n (&s->retired_at, g_get_monotonic_time (),
      __ATOMIC_RELAXED);
  apm_series_unref (s);
}

guint
apm_registry_retire_label (ApmRegistry * r, const gchar * label,
    const gchar * value)
{
  gint64 now = g_get_monotonic_time ();
  guint n = 0;

  g_mutex_lock (&r->lock);
  for (guint i = 0; i < r->order->len; i++) {
    ApmFamily *f = g_ptr_array_index (r->order, i);
    gint idx = -1;

    for (guint l = 0; l < f->n_labels; l++)
      if (strcmp (f->label_names[l], label) == 0)
        idx = l;
    if (idx < 0)
      continue;
    for (guint j = 0; j < f->series->len; j++) {
      ApmSeries *s = g_ptr_array_index (f->series, j);

      if (s->retired_at == 0 && strcmp (s->label_values[idx], value) == 0) {
        __atomic_store_n (&s->retired_at, now, __ATOMIC_RELAXED);
        n++;
      }
    }
  }
  g_mutex_unlock (&r->lock);
  return n;
}

void
apm_registry_sweep (ApmRegistry * r, gint64 grace_us)
{
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&r->lock);
  for (guint i = 0; i < r->order->len; i++) {
    ApmFamily *f = g_ptr_array_index (r->order, i);

    for (guint j = f->series->len; j > 0; j--) {
      ApmSeries *s = g_ptr_array_index (f->series, j - 1);
      gint64 t = __atomic_load_n (&s->retired_at, __ATOMIC_RELAXED);

      if (t && now - t >= grace_us) {
        g_hash_table_remove (f->by_key, s);
        g_ptr_array_remove_index (f->series, j - 1);
        r->n_series--;
      }
    }
  }
  g_mutex_unlock (&r->lock);
}

guint
apm_registry_n_series (ApmRegistry * r)
{
  guint n;

  g_mutex_lock (&r->lock);
  n = r->n_series;
  g_mutex_unlock (&r->lock);
  return n;
}

guint64
apm_registry_n_dropped (ApmRegistry * r)
{
  guint64 n;

  g_mutex_lock (&r->lock);
  n = r->n_dropped;
  g_mutex_unlock (&r->lock);
  return n;
}

void
apm_histogram_observe (ApmSeries * s, gdouble v)
{
  guint i = 0;

  while (i < s->n_bounds && v > s->bounds[i])
    i++;
  __atomic_fetch_add (&s->buckets[i], 1, __ATOMIC_RELAXED);
  apm_series_add (s, v);
}

struct _ApmSeriesExtra *
apm_series_extra_locked (ApmSeries * s)
{
  if (!s->extra)
    __atomic_store_n (&s->extra, g_new0 (struct _ApmSeriesExtra, 1),
        __ATOMIC_RELEASE);
  return s->extra;
}

void
apm_histogram_set_exemplar (ApmSeries * s, gdouble v, const gchar * trace_id)
{
  ApmRegistry *r = s->family->registry;
  guint i = 0;

  if (!s->buckets || !trace_id || strlen (trace_id) != APM_TRACE_ID_LEN)
    return;
  while (i < s->n_bounds && v > s->bounds[i])
    i++;
  g_mutex_lock (&r->lock);
  {
    ApmExemplar *x = &apm_series_extra_locked (s)->exemplar;

    memcpy (x->trace_id, trace_id, APM_TRACE_ID_LEN + 1);
    x->bucket = i;
    x->value = v;
    x->wall_us = g_get_real_time ();
  }
  g_mutex_unlock (&r->lock);
}

gboolean
apm_trace_id_from_correlation_id (const gchar * cid,
    gchar out[APM_TRACE_ID_LEN + 1])
{
  guint n = 0;

  for (const gchar * c = cid; c && *c; c++) {
    if (*c == '-')
      continue;
    if (!g_ascii_isxdigit (*c) || n == APM_TRACE_ID_LEN)
      return FALSE;
    out[n++] = g_ascii_tolower (*c);
  }
  out[n] = '\0';
  return n == APM_TRACE_ID_LEN;
}

gdouble
apm_series_value (const ApmSeries * s)
{
  union { guint64 u; gdouble d; } x;

  x.u = __atomic_load_n (&s->fbits, __ATOMIC_RELAXED);
  return (gdouble) __atomic_load_n (&s->ival, __ATOMIC_RELAXED) * s->scale
      + x.d;
}

gdouble
apm_series_histogram (const ApmSeries * s, guint64 * counts)
{
  guint64 acc = 0;

  for (guint i = 0; i <= s->n_bounds; i++) {
    acc += __atomic_load_n (&s->buckets[i], __ATOMIC_RELAXED);
    counts[i] = acc;
  }
  {
    union { guint64 u; gdouble d; } x;

    x.u = __atomic_load_n (&s->fbits, __ATOMIC_RELAXED);
    return __atomic_load_n (&s->sum_ns, __ATOMIC_RELAXED) / 1e9 + x.d;
  }
}

gint64
apm_series_int_value (const ApmSeries * s)
{
  return __atomic_load_n (&s->ival, __ATOMIC_RELAXED);
}

gint64
apm_series_sum_ns (const ApmSeries * s)
{
  return __atomic_load_n (&s->sum_ns, __ATOMIC_RELAXED);
}

const gchar *const *
apm_series_label_values (const ApmSeries * s)
{
  return (const gchar * const *) s->label_values;
}

const gchar *const *
apm_series_label_names (const ApmSeries * s)
{
  /* a family's names never change once it exists */
  return (const gchar * const *) s->family->label_names;
}

const gchar *
apm_series_label (const ApmSeries * s, const gchar * label_name)
{
  for (guint i = 0; i < s->family->n_labels; i++)
    if (strcmp (s->family->label_names[i], label_name) == 0)
      return s->label_values[i];
  return NULL;
}

ApmMetricType
apm_series_metric_type (const ApmSeries * s)
{
  return s->family->type;
}

GPtrArray *
apm_registry_list_series (ApmRegistry * r, const gchar * name)
{
  GPtrArray *out = NULL;
  ApmFamily *f;

  g_mutex_lock (&r->lock);
  f = g_hash_table_lookup (r->families, name);
  if (f) {
    out = g_ptr_array_new_full (f->series->len, (GDestroyNotify)
        apm_series_unref);
    for (guint i = 0; i < f->series->len; i++) {
      ApmSeries *s = g_ptr_array_index (f->series, i);

      if (__atomic_load_n (&s->retired_at, __ATOMIC_RELAXED) == 0)
        g_ptr_array_add (out, apm_series_ref (s));
    }
  }
  g_mutex_unlock (&r->lock);
  return out;
}

ApmSeries *
apm_registry_find_series_like (ApmRegistry * r, const gchar * name,
    const ApmSeries * like)
{
  ApmSeries *s = NULL;
  ApmFamily *f;

  g_mutex_lock (&r->lock);
  f = g_hash_table_lookup (r->families, name);
  if (f) {
    const gchar *values[f->n_labels + 1];
    ApmSeries probe = {.family = f,.label_values = (gchar **) values };
    gboolean complete = TRUE;

    for (guint i = 0; i < f->n_labels; i++) {
      values[i] = apm_series_label (like, f->label_names[i]);
      complete &= values[i] != NULL;
    }
    values[f->n_labels] = NULL;
    s = complete ? g_hash_table_lookup (f->by_key, &probe) : NULL;
    if (s)
      apm_series_ref (s);
  }
  g_mutex_unlock (&r->lock);
  return s;
}

void
apm_registry_foreach (ApmRegistry * r, ApmFamilyFunc func, gpointer user_data)
{
  g_mutex_lock (&r->lock);
  for (guint i = 0; i < r->order->len; i++) {
    ApmFamily *f = g_ptr_array_index (r->order, i);

    func (f->name, f->type, f->help, (const gchar * const *) f->label_names,
        f->series, user_data);
  }
  g_mutex_unlock (&r->lock);
}

guint64
apm_series_count (const ApmSeries * s)
{
  guint64 n = 0;

  for (guint i = 0; s->buckets && i <= s->n_bounds; i++)
    n += __atomic_load_n (&s->buckets[i], __ATOMIC_RELAXED);
  return n;
}

gdouble
apm_series_sum (const ApmSeries * s)
{
  union { guint64 u; gdouble d; } x;

  x.u = __atomic_load_n (&s->fbits, __ATOMIC_RELAXED);
  return __atomic_load_n (&s->sum_ns, __ATOMIC_RELAXED) / 1e9 + x.d;
}

gdouble
apm_series_quantile (const ApmSeries * s, gdouble q)
{
  guint64 counts[s->n_bounds + 1];
  gdouble rank, lower = 0;
  guint64 prev = 0;

  if (!s->buckets)
    return NAN;
  apm_series_histogram (s, counts);
  if (counts[s->n_bounds] == 0)
    return NAN;
  rank = CLAMP (q, 0.0, 1.0) * counts[s->n_bounds];
  for (guint i = 0; i < s->n_bounds; i++) {
    if (counts[i] >= rank && counts[i] > 0) {
      gdouble in_bucket = counts[i] - prev;

      return lower + (s->bounds[i] - lower) *
          (in_bucket > 0 ? (rank - prev) / in_bucket : 1.0);
    }
    prev = counts[i];
    lower = s->bounds[i];
  }
  return s->n_bounds ? s->bounds[s->n_bounds - 1] : NAN;
}
