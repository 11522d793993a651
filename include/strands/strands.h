/* Umbrella header of the strands-c public API (prefix strands_). */
#ifndef STRANDS_STRANDS_H
#define STRANDS_STRANDS_H

#include "strands/agent.h"
#include "strands/anthropic.h"
#include "strands/aws.h"
#include "strands/clock.h"
#include "strands/config.h"
#include "strands/event.h"
#include "strands/log.h"
#include "strands/model.h"
#include "strands/registry.h"
#include "strands/server.h"
#include "strands/session.h"
#include "strands/session_file.h"
#include "strands/session_s3.h"
#include "strands/settings.h"
#include "strands/status.h"
#include "strands/tool.h"
#include "strands/util.h"
#include "strands/runtime.h"

#endif
