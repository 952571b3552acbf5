/* For the small libmicrohttpd servers of the HTTP tests and benchmarks:
 * libmicrohttpd calls a request handler first with the headers only, then
 * once per piece of the body, then once more with nothing left to read.
 * t_mhd_reading() tells the handler which of those calls this is. */
#ifndef MHD_TLIB_H
#define MHD_TLIB_H

#include <microhttpd.h>
#include <stddef.h>

/* 1 while the request is still coming in (the first call, which marks the
 * connection through *con_cls, and each body piece, which is consumed and
 * dropped): the handler returns MHD_YES. 0 on the last call, when the
 * handler answers. */
static inline int t_mhd_reading(void **con_cls, size_t *upload_size)
{
        static int marker;
        if (!*con_cls) {
                *con_cls = &marker;
                return 1;
        }
        if (*upload_size) {
                *upload_size = 0;
                return 1;
        }
        return 0;
}

#endif
