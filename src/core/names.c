/* Names for the public enums and error codes (include/smsmux.h). */
#include <string.h>

#include "smsmux.h"

const char *smx_strerror(int err)
{
        switch (err) {
        case SMX_OK: return "success";
        case SMX_EAGAIN: return "ingress full, try again (backpressure)";
        case SMX_EINVAL: return "invalid argument";
        case SMX_ENOMEM: return "out of memory";
        case SMX_E2BIG: return "field or text too long";
        case SMX_ESTATE: return "not allowed in the client's current state";
        case SMX_ETIMEDOUT: return "timed out";
        default: break;
        }
        if (err < 0)
                return strerror(-err);
        return "unknown error";
}

const char *smx_health_name(enum smx_bind_health h)
{
        static const char *const names[] = {
                [SMX_HEALTH_DOWN] = "DOWN", [SMX_HEALTH_CONNECTING] = "CONNECTING",
                [SMX_HEALTH_BINDING] = "BINDING", [SMX_HEALTH_ACTIVE] = "ACTIVE",
                [SMX_HEALTH_THROTTLED] = "THROTTLED", [SMX_HEALTH_DRAINING] = "DRAINING",
        };
        if ((unsigned)h < sizeof names / sizeof names[0] && names[h])
                return names[h];
        return "?";
}

const char *smx_dr_state_name(enum smx_dr_state s)
{
        static const char *const names[] = {
                [SMX_DR_ENROUTE] = "ENROUTE", [SMX_DR_DELIVERED] = "DELIVERED",
                [SMX_DR_EXPIRED] = "EXPIRED", [SMX_DR_DELETED] = "DELETED",
                [SMX_DR_UNDELIVERABLE] = "UNDELIVERABLE", [SMX_DR_ACCEPTED] = "ACCEPTED",
                [SMX_DR_UNKNOWN] = "UNKNOWN", [SMX_DR_REJECTED] = "REJECTED",
        };
        if ((unsigned)s < sizeof names / sizeof names[0] && names[s])
                return names[s];
        return "UNKNOWN";
}

const char *smx_fail_reason_name(enum smx_fail_reason r)
{
        static const char *const names[] = {
                [SMX_FAIL_NONE] = "none", [SMX_FAIL_REJECTED] = "rejected",
                [SMX_FAIL_NO_ROUTE] = "no_route", [SMX_FAIL_ATTEMPTS] = "attempts_exhausted",
                [SMX_FAIL_SHUTDOWN] = "shutdown", [SMX_FAIL_ENCODING] = "encoding",
        };
        if ((unsigned)r < sizeof names / sizeof names[0] && names[r])
                return names[r];
        return "unknown";
}
