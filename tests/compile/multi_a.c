/* A plain user of dt.h: declarations only, included twice (the include
 * guard must make the second inclusion a no-op). */
#include "dt.h"
#include "dt.h"
#include "multi.h"

int multi_a(void) {
    DT_EMIT(DT_INFO, "MultiA", DT_STR("tu", "a"));
    DT_EMIT(DT_DEBUG, "MultiQuiet");
    return dt_id("MultiA") == dt_id_n("MultiA", 6) && dt_level_parse("warn", 4) == DT_WARN;
}
