/* gst-apm: typed reads of JSON members (see apm-json.h) */
#include "apm-json.h"

const gchar *
apm_json_string (JsonObject * o, const gchar * name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n && JSON_NODE_HOLDS_VALUE (n)
      && json_node_get_value_type (n) == G_TYPE_STRING ?
      json_node_get_string (n) : NULL;
}

gdouble
apm_json_number (JsonObject * o, const gchar * name, gdouble absent)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  if (!n || !JSON_NODE_HOLDS_VALUE (n))
    return absent;
  if (json_node_get_value_type (n) == G_TYPE_INT64)
    return (gdouble) json_node_get_int (n);
  if (json_node_get_value_type (n) == G_TYPE_DOUBLE)
    return json_node_get_double (n);
  return absent;
}
