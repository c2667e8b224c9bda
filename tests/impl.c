/* The one translation unit of the test binary that holds dt's code. */
#define DT_IMPLEMENTATION
#include "dt.h"
