#include "greatest.h"
#include "dt.h"

TEST ids_are_fnv1a_with_zero_reserved(void) {
    ASSERT_EQ_FMT((uint64_t)0xcbf29ce484222325ull, dt_id(""), "%llx");
    PASS();
}

SUITE(smoke) { RUN_TEST(ids_are_fnv1a_with_zero_reserved); }
