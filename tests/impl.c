/* The one translation unit of the test binary that holds dt's code: the
 * core and both processor headers, so every suite (the allocation-failure
 * and hostile-input ones included) can plug in the query and stateful
 * processors. */
#define DT_IMPLEMENTATION
#include "dt.h"
#define DT_QUERY_IMPLEMENTATION
#include "dt_query.h"
#define DT_STATEFUL_IMPLEMENTATION
#include "dt_stateful.h"
