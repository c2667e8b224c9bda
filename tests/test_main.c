/* The test runner: every SUITE(name) at the start of a line in
 * tests/test_*.c is found by the Makefile and listed in build/suites.h. */
#include "greatest.h"

#define X(name) SUITE_EXTERN(name);
#include "suites.h"
#undef X

GREATEST_MAIN_DEFS();

int main(int argc, char **argv) {
    GREATEST_MAIN_BEGIN();
#define X(name) RUN_SUITE(name);
#include "suites.h"
#undef X
    GREATEST_MAIN_END();
}
