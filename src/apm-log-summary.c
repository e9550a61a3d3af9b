/* gst-apm: the log summary: line counts per minute by level and component,
 * and the most frequent message templates
 *
 * Templating is a single left-to-right scan: at each position the first
 * rule that matches (quoted text, URL, path, time, UUID, hex id, number)
 * replaces what it matched with its placeholder; anything else is copied.
 * It runs on the writer's thread before the summary's lock is taken.
 */
#include "apm-log-summary.h"
#include "apm-log-store.h"
#include "apm-time.h"

#include <string.h>

#define US_PER_MINUTE (60 * G_USEC_PER_SEC)
#define OTHER_COMPONENT APM_LOG_SUMMARY_COMPONENTS
#define N_LEVELS (APM_LOG_CRITICAL + 1)

/* --- templates of messages --- */

static gboolean
is_word (guchar c)
{
  return g_ascii_isalnum (c) || c == '_';
}

/* a quoted text from the quote at s[0]; its length with both quotes, or 0
 * when it is not closed */
static gsize
match_quoted (const gchar * s, gsize len)
{
  gchar q = s[0];

  for (gsize i = 1; i < len; i++) {
    if (s[i] == '\\' && i + 1 < len)
      i++;
    else if (s[i] == q)
      return i + 1;
  }
  return 0;
}

/* where a URL or path ends: at white space, a quote or a closing bracket;
 * punctuation that ends a sentence or a clause is not part of it */
static gsize
token_end (const gchar * s, gsize start, gsize len)
{
  gsize i = start;

  while (i < len && !g_ascii_isspace (s[i]) && !strchr ("\"'`,;()[]{}<>",
          s[i]))
    i++;
  while (i > start && strchr (".:!?", s[i - 1]))
    i--;
  return i;
}

static gsize
match_url (const gchar * s, gsize len)
{
  gsize i = 0;

  if (!g_ascii_isalpha (s[0]))
    return 0;
  while (i < len && (g_ascii_isalnum (s[i]) || strchr ("+.-", s[i])))
    i++;
  if (i + 3 > len || strncmp (s + i, "://", 3) != 0)
    return 0;
  i = token_end (s, i + 3, len);
  return i;
}

/* /abs/path, ./rel, ../rel, ~/home: a slash followed by something */
static gsize
match_path (const gchar * s, gsize len)
{
  gsize i, end;

  if (len >= 3 && strncmp (s, "../", 3) == 0)
    i = 3;
  else if (len >= 2 && (strncmp (s, "./", 2) == 0
          || strncmp (s, "~/", 2) == 0))
    i = 2;
  else if (s[0] == '/')
    i = 1;
  else
    return 0;
  end = token_end (s, i, len);
  return end > i ? end : 0;
}

/* @pattern: 'd' a digit, anything else itself */
static gboolean
match_pattern (const gchar * s, gsize len, const gchar * pattern)
{
  gsize n = strlen (pattern);

  if (len < n)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (pattern[i] == 'd' ? !g_ascii_isdigit (s[i]) : s[i] != pattern[i])
      return FALSE;
  return TRUE;
}

/* 2026-11-24, 2026-11-24T05:04:36(.123456)(Z|+01:00), or with a space */
static gsize
match_time (const gchar * s, gsize len)
{
  gsize i;

  if (!match_pattern (s, len, "dddd-dd-dd"))
    return 0;
  i = 10;
  if (i < len && (s[i] == 'T' || s[i] == ' ')
      && match_pattern (s + i + 1, len - i - 1, "dd:dd:dd")) {
    i += 9;
    if (i + 1 < len && (s[i] == '.' || s[i] == ',')
        && g_ascii_isdigit (s[i + 1])) {
      i++;
      while (i < len && g_ascii_isdigit (s[i]))
        i++;
    }
    if (i < len && s[i] == 'Z')
      i++;
    else if (i < len && (s[i] == '+' || s[i] == '-')
        && match_pattern (s + i + 1, len - i - 1, "dd:dd"))
      i += 6;
  }
  return i < len && is_word (s[i]) ? 0 : i;
}

static gsize
match_uuid (const gchar * s, gsize len)
{
  static const guint groups[] = { 8, 4, 4, 4, 12 };
  gsize i = 0;

  for (guint g = 0; g < G_N_ELEMENTS (groups); g++) {
    if (g && (i >= len || s[i++] != '-'))
      return 0;
    for (guint k = 0; k < groups[g]; k++, i++)
      if (i >= len || !g_ascii_isxdigit (s[i]))
        return 0;
  }
  return i < len && is_word (s[i]) ? 0 : i;
}

/* 0x1f, or a word of 8 or more hex digits with both digits and letters */
static gsize
match_hex (const gchar * s, gsize len)
{
  gsize i = 0;
  gboolean digit = FALSE, letter = FALSE;

  if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')
      && g_ascii_isxdigit (s[2])) {
    i = 2;
    while (i < len && g_ascii_isxdigit (s[i]))
      i++;
    return i < len && is_word (s[i]) ? 0 : i;
  }
  while (i < len && g_ascii_isxdigit (s[i])) {
    if (g_ascii_isdigit (s[i]))
      digit = TRUE;
    else
      letter = TRUE;
    i++;
  }
  if (i < 8 || !digit || !letter || (i < len && is_word (s[i])))
    return 0;
  return i;
}

/* 42, -3, 1.5, 2e-6: digits first (a sign only where a word may start) */
static gsize
match_number (const gchar * s, gsize len, gboolean boundary)
{
  gsize i = 0;

  if (boundary && s[0] == '-' && len > 1 && g_ascii_isdigit (s[1]))
    i = 1;
  if (i >= len || !g_ascii_isdigit (s[i]))
    return 0;
  while (i < len && g_ascii_isdigit (s[i]))
    i++;
  if (i + 1 < len && s[i] == '.' && g_ascii_isdigit (s[i + 1])) {
    i++;
    while (i < len && g_ascii_isdigit (s[i]))
      i++;
  }
  if (i + 1 < len && (s[i] == 'e' || s[i] == 'E')) {
    gsize j = i + 1;

    if (j < len && (s[j] == '+' || s[j] == '-'))
      j++;
    if (j < len && g_ascii_isdigit (s[j])) {
      while (j < len && g_ascii_isdigit (s[j]))
        j++;
      i = j;
    }
  }
  return i;
}

/* the length of @message's first APM_LOG_SUMMARY_MAX_MESSAGE bytes, cut on
 * a character boundary */
static gsize
cut_length (const gchar * message)
{
  gsize len = message ? strlen (message) : 0;

  if (len > APM_LOG_SUMMARY_MAX_MESSAGE) {
    len = APM_LOG_SUMMARY_MAX_MESSAGE;
    while (len > 0 && ((guchar) message[len] & 0xc0) == 0x80)
      len--;
  }
  return len;
}

gchar *
apm_log_template (const gchar * message)
{
  gsize len = cut_length (message);
  GString *out;
  gsize i = 0;

  out = g_string_sized_new (len + 8);
  while (i < len) {
    const gchar *s = message + i;
    gsize rest = len - i, n;
    gboolean boundary = i == 0 || !is_word (message[i - 1]);
    const gchar *placeholder = NULL;

    if ((s[0] == '"' || (s[0] == '\'' && boundary))
        && (n = match_quoted (s, rest))
        && (s[0] == '"' || i + n >= len || !is_word (s[n])))
      placeholder = "<str>";
    else if (boundary && (n = match_url (s, rest)))
      placeholder = "<url>";
    else if (boundary && (n = match_path (s, rest)))
      placeholder = "<path>";
    else if (boundary && (n = match_time (s, rest)))
      placeholder = "<time>";
    else if (boundary && ((n = match_uuid (s, rest))
            || (n = match_hex (s, rest))))
      placeholder = "<id>";
    else if ((n = match_number (s, rest, boundary)))
      placeholder = "<n>";
    if (placeholder) {
      g_string_append (out, placeholder);
      i += n;
    } else {
      g_string_append_c (out, s[0]);
      i++;
    }
  }
  return g_string_free (out, FALSE);
}

/* --- the summary --- */

typedef struct
{
  guint16 component;            /* index in components, or OTHER_COMPONENT */
  guint16 level;
  guint32 count;
} Cell;

typedef struct
{
  gint64 minute;                /* Unix minutes; -1: empty */
  GArray *cells;                /* Cell */
} Minute;

typedef struct
{
  gchar *template, *example, *component;
  ApmLogLevel level;            /* of the latest line */
  gint64 first_us, last_us;
  guint64 total;
  /* counts of the last APM_LOG_SUMMARY_TEMPLATE_MINUTES minutes, by
   * minute modulo their number */
  gint64 minute_of[APM_LOG_SUMMARY_TEMPLATE_MINUTES];
  guint32 count_of[APM_LOG_SUMMARY_TEMPLATE_MINUTES];
} Template;

struct _ApmLogSummary
{
  GMutex lock;
  Minute minutes[APM_LOG_SUMMARY_MINUTES];
  GPtrArray *components;        /* gchar, at most APM_LOG_SUMMARY_COMPONENTS */
  GHashTable *component_index;  /* name -> index + 1 */
  GHashTable *templates;        /* template -> Template */
  guint max_templates;
  guint64 evicted;
};

static void
template_free (gpointer data)
{
  Template *t = data;

  g_free (t->template);
  g_free (t->example);
  g_free (t->component);
  g_free (t);
}

ApmLogSummary *
apm_log_summary_new (guint max_templates)
{
  ApmLogSummary *s = g_new0 (ApmLogSummary, 1);

  g_mutex_init (&s->lock);
  for (guint i = 0; i < APM_LOG_SUMMARY_MINUTES; i++)
    s->minutes[i].minute = -1;
  s->components = g_ptr_array_new_with_free_func (g_free);
  s->component_index = g_hash_table_new (g_str_hash, g_str_equal);
  /* the key is the Template's own string */
  s->templates = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      template_free);
  s->max_templates = max_templates ? max_templates :
      APM_LOG_SUMMARY_TEMPLATES;
  return s;
}

void
apm_log_summary_free (ApmLogSummary * s)
{
  if (!s)
    return;
  for (guint i = 0; i < APM_LOG_SUMMARY_MINUTES; i++)
    if (s->minutes[i].cells)
      g_array_unref (s->minutes[i].cells);
  g_hash_table_destroy (s->templates);
  g_hash_table_destroy (s->component_index);
  g_ptr_array_unref (s->components);
  g_mutex_clear (&s->lock);
  g_free (s);
}

/* called with the lock */
static guint16
component_locked (ApmLogSummary * s, const gchar * name)
{
  guint idx = GPOINTER_TO_UINT (g_hash_table_lookup (s->component_index,
          name));
  gchar *copy;

  if (idx)
    return idx - 1;
  if (s->components->len >= APM_LOG_SUMMARY_COMPONENTS)
    return OTHER_COMPONENT;
  copy = g_strdup (name);
  g_ptr_array_add (s->components, copy);
  g_hash_table_insert (s->component_index, copy,
      GUINT_TO_POINTER (s->components->len));
  return s->components->len - 1;
}

static const gchar *
component_name (ApmLogSummary * s, guint16 idx)
{
  return idx < s->components->len ? s->components->pdata[idx] : "(other)";
}

/* called with the lock: the least recently seen template goes */
static void
evict_one_locked (ApmLogSummary * s)
{
  GHashTableIter it;
  Template *t, *oldest = NULL;

  g_hash_table_iter_init (&it, s->templates);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & t))
    if (!oldest || t->last_us < oldest->last_us)
      oldest = t;
  if (oldest) {
    g_hash_table_remove (s->templates, oldest->template);
    s->evicted++;
  }
}

static gint64
minute_of (gint64 wall_us)
{
  /* floor, for times before 1970 too */
  return wall_us >= 0 ? wall_us / US_PER_MINUTE :
      -((-wall_us + US_PER_MINUTE - 1) / US_PER_MINUTE);
}

void
apm_log_summary_add (ApmLogSummary * s, gint64 wall_us, ApmLogLevel level,
    const gchar * component, const gchar * message)
{
  gchar *tpl = apm_log_template (message);
  gint64 minute = minute_of (wall_us);
  Minute *m = &s->minutes[(guint64) minute % APM_LOG_SUMMARY_MINUTES];
  guint slot = (guint64) minute % APM_LOG_SUMMARY_TEMPLATE_MINUTES;
  guint16 comp;
  Cell *cell = NULL;
  Template *t;

  level = CLAMP (level, APM_LOG_DEBUG, APM_LOG_CRITICAL);
  g_mutex_lock (&s->lock);
  comp = component_locked (s, component ? component : "");
  if (m->minute != minute) {
    m->minute = minute;
    if (!m->cells)
      m->cells = g_array_new (FALSE, FALSE, sizeof (Cell));
    g_array_set_size (m->cells, 0);
  }
  for (guint i = 0; i < m->cells->len && !cell; i++) {
    Cell *c = &g_array_index (m->cells, Cell, i);

    if (c->component == comp && c->level == level)
      cell = c;
  }
  if (cell) {
    cell->count++;
  } else {
    Cell c = { comp, level, 1 };

    g_array_append_val (m->cells, c);
  }

  t = g_hash_table_lookup (s->templates, tpl);
  if (!t) {
    if (g_hash_table_size (s->templates) >= s->max_templates)
      evict_one_locked (s);
    t = g_new0 (Template, 1);
    t->template = g_steal_pointer (&tpl);
    t->first_us = wall_us;
    for (guint i = 0; i < APM_LOG_SUMMARY_TEMPLATE_MINUTES; i++)
      t->minute_of[i] = -1;
    g_hash_table_insert (s->templates, t->template, t);
  }
  /* the example is the latest line, cut as the template was */
  g_free (t->example);
  t->example = g_utf8_make_valid (message ? message : "",
      cut_length (message));
  if (g_strcmp0 (t->component, component_name (s, comp)) != 0) {
    g_free (t->component);
    t->component = g_strdup (component_name (s, comp));
  }
  t->level = level;
  t->last_us = MAX (t->last_us, wall_us);
  t->total++;
  if (t->minute_of[slot] != minute) {
    t->minute_of[slot] = minute;
    t->count_of[slot] = 0;
  }
  t->count_of[slot]++;
  g_mutex_unlock (&s->lock);
  g_free (tpl);
}

typedef struct
{
  Template *t;
  guint64 count;
} Ranked;

static gint
compare_ranked (gconstpointer a, gconstpointer b)
{
  const Ranked *ra = a, *rb = b;

  if (ra->count != rb->count)
    return ra->count > rb->count ? -1 : 1;
  if (ra->t->last_us != rb->t->last_us)
    return ra->t->last_us > rb->t->last_us ? -1 : 1;
  return strcmp (ra->t->template, rb->t->template);
}

static void
add_time (JsonObject * o, const gchar * name, gint64 wall_us)
{
  gchar *text = apm_time_format (wall_us);

  json_object_set_string_member (o, name, text);
  g_free (text);
}

static JsonObject *
levels_object (const guint64 * counts)
{
  JsonObject *o = json_object_new ();

  for (guint l = 0; l < N_LEVELS; l++)
    if (counts[l])
      json_object_set_int_member (o, apm_log_level_to_string (l), counts[l]);
  return o;
}

JsonNode *
apm_log_summary_query (ApmLogSummary * s, gint64 since_us, gint64 now_us,
    guint top)
{
  JsonObject *root = json_object_new (), *totals = json_object_new ();
  JsonObject *total_components = json_object_new ();
  JsonArray *minutes = json_array_new (), *templates = json_array_new ();
  guint64 total_levels[N_LEVELS] = { 0 }, lines = 0;
  guint64 *by_component;        /* [component][level] */
  gint64 now_min = minute_of (now_us), oldest_kept =
      now_min - APM_LOG_SUMMARY_MINUTES + 1;
  gint64 since_min = minute_of (since_us);
  gboolean per_minute = since_min > now_min -
      APM_LOG_SUMMARY_TEMPLATE_MINUTES;
  GArray *ranked = g_array_new (FALSE, FALSE, sizeof (Ranked));
  GHashTableIter it;
  Template *t;
  JsonNode *node;

  add_time (root, "since", since_us);
  add_time (root, "until", now_us);
  g_mutex_lock (&s->lock);
  by_component = g_new0 (guint64, (s->components->len + 1) * N_LEVELS);
  for (gint64 m = MAX (since_min, oldest_kept); m <= now_min; m++) {
    Minute *b = &s->minutes[(guint64) m % APM_LOG_SUMMARY_MINUTES];
    guint64 levels[N_LEVELS] = { 0 }, n = 0;
    JsonObject *o, *comps;

    if (b->minute != m || !b->cells || !b->cells->len)
      continue;
    o = json_object_new ();
    comps = json_object_new ();
    add_time (o, "minute", m * US_PER_MINUTE);
    for (guint i = 0; i < b->cells->len; i++) {
      Cell *c = &g_array_index (b->cells, Cell, i);
      const gchar *name = component_name (s, c->component);
      JsonObject *co = json_object_has_member (comps, name) ?
          json_object_get_object_member (comps, name) : NULL;
      guint ci = MIN (c->component, s->components->len);

      if (!co) {
        co = json_object_new ();
        json_object_set_object_member (comps, name, co);
      }
      json_object_set_int_member (co, apm_log_level_to_string (c->level),
          c->count);
      levels[c->level] += c->count;
      total_levels[c->level] += c->count;
      by_component[ci * N_LEVELS + c->level] += c->count;
      n += c->count;
    }
    lines += n;
    json_object_set_int_member (o, "total", n);
    json_object_set_object_member (o, "levels", levels_object (levels));
    json_object_set_object_member (o, "components", comps);
    json_array_add_object_element (minutes, o);
  }
  for (guint ci = 0; ci <= s->components->len; ci++) {
    gboolean any = FALSE;

    for (guint l = 0; l < N_LEVELS; l++)
      any |= by_component[ci * N_LEVELS + l] != 0;
    if (any)
      json_object_set_object_member (total_components,
          component_name (s, ci), levels_object (by_component +
              ci * N_LEVELS));
  }
  g_free (by_component);

  g_hash_table_iter_init (&it, s->templates);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & t)) {
    Ranked r = { t, 0 };

    if (t->last_us < since_us)
      continue;
    if (per_minute) {
      for (guint i = 0; i < APM_LOG_SUMMARY_TEMPLATE_MINUTES; i++)
        if (t->minute_of[i] >= since_min && t->minute_of[i] <= now_min)
          r.count += t->count_of[i];
    } else {
      r.count = t->total;
    }
    if (r.count)
      g_array_append_val (ranked, r);
  }
  g_array_sort (ranked, compare_ranked);
  for (guint i = 0; i < ranked->len && i < top; i++) {
    Ranked *r = &g_array_index (ranked, Ranked, i);
    JsonObject *o = json_object_new ();

    json_object_set_string_member (o, "template", r->t->template);
    json_object_set_int_member (o, "count", r->count);
    add_time (o, "first_seen", r->t->first_us);
    add_time (o, "last_seen", r->t->last_us);
    json_object_set_string_member (o, "example", r->t->example);
    json_object_set_string_member (o, "level",
        apm_log_level_to_string (r->t->level));
    json_object_set_string_member (o, "component", r->t->component);
    json_array_add_object_element (templates, o);
  }
  json_object_set_int_member (root, "templates_tracked",
      g_hash_table_size (s->templates));
  json_object_set_int_member (root, "templates_max", s->max_templates);
  json_object_set_int_member (root, "templates_evicted", s->evicted);
  g_mutex_unlock (&s->lock);
  g_array_unref (ranked);

  json_object_set_int_member (totals, "lines", lines);
  json_object_set_object_member (totals, "levels",
      levels_object (total_levels));
  json_object_set_object_member (totals, "components", total_components);
  json_object_set_array_member (root, "minutes", minutes);
  json_object_set_object_member (root, "totals", totals);
  json_object_set_array_member (root, "templates", templates);
  json_object_set_int_member (root, "retention_seconds",
      APM_LOG_SUMMARY_MINUTES * 60);
  /* counts start at the minute that holds @since_us; older than what is
   * kept, they start later */
  json_object_set_boolean_member (root, "complete", since_min >= oldest_kept);
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, root);
  return node;
}
