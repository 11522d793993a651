/* The OTEL_TRACES_SAMPLER decision, made once per invocation for its root
 * span. parentbased_* follow a remote parent's sampled flag; otherwise the
 * root sampler decides. traceidratio compares the trace id's last 8 bytes
 * (the random part, also of X-Ray ids) with ratio * 2^64, so every
 * service sampling by ratio agrees on a trace.                           */
#include "telemetry/internal.h"

static int ratio_sample(double ratio, const uint8_t id[16])
{
    if (ratio >= 1.0) return 1;
    if (ratio <= 0.0) return 0;
    uint64_t v = 0;
    for (int i = 8; i < 16; i++) v = v << 8 | id[i];
    /* ratio < 1, so the bound fits: 2^64 * ratio < 2^64. */
    uint64_t bound = (uint64_t)(ratio * 18446744073709551616.0);
    return v < bound;
}

int tel_sampler_should_sample(const tel_sampler *s,
                              const strands_trace_ctx *parent,
                              const uint8_t trace_id[16])
{
    if (s->parent_based && parent)
        return (parent->flags & STRANDS_TRACE_FLAG_SAMPLED) != 0;
    switch (s->root) {
    case TEL_SAMPLE_ALWAYS_ON:
        return 1;
    case TEL_SAMPLE_ALWAYS_OFF:
        return 0;
    case TEL_SAMPLE_RATIO:
        return ratio_sample(s->ratio, trace_id);
    }
    return 1;
}
