/* The one translation unit of the test binary that holds dt's code. */
#define DT_IMPLEMENTATION
#include "dt.h"
#define DT_QUERY_IMPLEMENTATION
#include "dt_query.h"
