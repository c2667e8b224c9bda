/* dt_impl.c — dt's implementation for the firmware, in a translation unit
 * of its own so that the size report (size.sh) can read dt's share of the
 * image from this object. The processors come in when their headers sit
 * next to dt.h (FW_CORE_ONLY=1 leaves them out), as in the dt tool. */
#define DT_IMPLEMENTATION
#include "dt.h"
#include "fw_processors.h"
