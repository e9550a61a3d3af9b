/* gst-apm: the configuration file (JSON)
 *
 * {
 *   "listen": {"address": "127.0.0.1", "port": 9464},
 *   "alert_interval": 30, "websocket_rate": 1,
 *   "log": {"file": "/var/log/apm.jsonl", "stderr": false, "level": "info"},
 *   "webhook": {"url": "http://127.0.0.1:9093/api/v2/alerts", "timeout": 5,
 *               "breaker": {"failures": 5, "reset_timeout": 30}},
 *   "rules": [{"name": ..., "metric": ..., "aggregation": "p95",
 *              "window": 60, "op": ">", "threshold": 0.2, "for": 30,
 *              "severity": "warning", "message": "...",
 *              "match": {"pipeline": "main"}, "denominator": ...,
 *              "require": ...},
 *             {"name": "audio_silence", "enabled": false}],
 *   "health_checks": [{"name": ..., "type": "http", "url": ...,
 *                      "expect_status": 200, "timeout": 2, "interval": 30,
 *                      "breaker": {"failures": 3, "reset_timeout": 60}},
 *                     {"name": ..., "type": "path", "path": ...,
 *                      "min_free_bytes": 1000000000, "interval": 60}],
 *   "disk_space": {"degraded_free_percent": 10, "unhealthy_free_percent": 5,
 *                  "degraded_free_bytes": 0, "unhealthy_free_bytes": 0,
 *                  "interval": 10},
 *   "history": {"tiers": [{"resolution": 1, "retention": 900},
 *                         {"resolution": 10, "retention": 21600},
 *                         {"resolution": 60, "retention": 604800}],
 *               "max_bytes": 67108864},
 *   "state_dir": "/var/lib/apm"
 * }
 *
 * The whole file is checked before anything is applied: one problem and
 * nothing of it is used (the defaults run), with an error naming the file,
 * the line and the problem.
 */
#pragma once

#include "apm-service.h"

G_BEGIN_DECLS

/* Loads @path: on success installs its rules, checks and webhook into
 * @service and fills the fields of @config that the file sets (the caller
 * decides what wins over them).  On failure changes nothing. */
gboolean apm_config_load (ApmService * service, const gchar * path,
    ApmServiceConfig * config, GError ** error);

/* Checks a configuration text without applying it (for tests and fuzzing);
 * @name stands for the file in messages. */
gboolean apm_config_check_data (const gchar * name, const gchar * data,
    gsize len, GError ** error);

G_END_DECLS
