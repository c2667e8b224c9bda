/* A second, independent DT_STATIC implementation linked into the same
 * program as main.c's: with every function static, the two cannot clash. */
#include <string.h>

#ifndef DT_STATIC
#define DT_STATIC
#endif
#define DT_IMPLEMENTATION
#include "dt.h"
#include "multi.h"

int static_other(void) {
    dt_desc d;
    dt_engine *e;
    int ok;
    static const char prog[] = "level Other = off";
    memset(&d, 0, sizeof d);
    e = dt_create(&d);
    if (!e) return 0;
    ok = dt_deploy(e, prog, sizeof prog - 1, NULL) == DT_OK;
    dt_destroy(e);
    return ok;
}
