/* A second user TU: every public declaration links against the single
 * implementation in main.c. */
#include <string.h>

#include "dt.h"
#include "multi.h"

int multi_b(void) {
    DT_EMIT(DT_WARN, "MultiB", DT_I64("n", 2), DT_BOOL("b", 1));
    return strcmp(dt_result_str(DT_ERR_LIMIT), "limit reached") == 0 && strcmp(dt_type_name(DT_TYPE_STR), "str") == 0;
}
