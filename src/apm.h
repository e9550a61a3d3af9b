/* gst-apm: the public API (include this one) */
#pragma once

#include "apm-enums.h"
#include "apm-monitor.h"
#include "apm-logger.h"
#include "apm-breaker.h"
