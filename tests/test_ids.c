/* Durable IDs (FNV-1a 64, 0 mapped to 1), the event registry and the
 * event catalog. */
#include "greatest.h"
#include "dt.h"
#include "support.h"

#include <string.h>

/* ---- helpers ------------------------------------------------------------ */

/* Collects whatever a dt_write_fn receives. */
typedef struct text_buf {
    char s[4096];
    size_t len;
} text_buf;

static void text_write(const char *bytes, size_t len, void *ud) {
    text_buf *t = (text_buf *)ud;
    if (len > sizeof t->s - 1 - t->len) len = sizeof t->s - 1 - t->len;
    memcpy(t->s + t->len, bytes, len);
    t->len += len;
    t->s[t->len] = 0;
}

static dt_engine *engine_with_events(uint32_t max_events) {
    dt_desc d;
    memset(&d, 0, sizeof d);
    d.max_events = max_events;
    return dt_create(&d);
}

static uint64_t overflows(dt_engine *e) { return stats(e).overflows; }

/* ---- durable IDs -------------------------------------------------------- */

/* The published table (docs/durable-ids.md): computed once with ref_fnv1a. */
static const struct {
    const char *name;
    uint64_t id;
} id_vectors[] = {
    {"", 0xcbf29ce484222325ull},
    {"a", 0xaf63dc4c8601ec8cull},
    {"LogWelcomeBanner", 0x5aa1dc656b460b41ull},
    {"LogStartingFileHash", 0x4c653818f081e4d3ull},
    {"\xc3\x9c" "berweisung", 0xccd9a5b224c55221ull},   /* "Überweisung", UTF-8 */
};

TEST id_vectors_match_the_published_table(void) {
    size_t i;
    for (i = 0; i < sizeof id_vectors / sizeof id_vectors[0]; i++) {
        ASSERT_EQ_FMTm(id_vectors[i].name, (unsigned long long)id_vectors[i].id,
                       (unsigned long long)dt_id(id_vectors[i].name), "0x%016llx");
        ASSERT_EQ_FMTm(id_vectors[i].name, (unsigned long long)id_vectors[i].id,
                       (unsigned long long)ref_fnv1a_n(id_vectors[i].name, strlen(id_vectors[i].name)), "0x%016llx");
    }
    PASS();
}

TEST id_is_fnv1a_of_the_utf8_bytes(void) {
    static const char *const names[] = {
        "LogLaunch", "HealthCheckPing", "ErrorInProductionHash", "x", "Http.Get-v2",
        "\xe6\x97\xa5\xe6\x9c\xac" /* 日本 */, "name with spaces", "\x7f\x01\xff"
    };
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        ASSERT_EQ_FMTm(names[i], (unsigned long long)ref_fnv1a_n(names[i], strlen(names[i])),
                       (unsigned long long)dt_id(names[i]), "0x%016llx");
    PASS();
}

/* FNV-1a 64 of these eight bytes is 0; 0 means "no id", so it becomes 1. */
TEST id_zero_hash_is_mapped_to_one(void) {
    static const char zero[] = "\xd5\x6b\xb9\x53\x42\x87\x08\x36";
    ASSERT_EQ_FMT(0ull, (unsigned long long)ref_fnv1a_n(zero, 8), "0x%016llx");
    ASSERT_EQ_FMT(1ull, (unsigned long long)dt_id_n(zero, 8), "0x%016llx");
    ASSERT_EQ_FMT(1ull, (unsigned long long)dt_id(zero), "0x%016llx");
    /* one byte fewer is an ordinary id */
    ASSERT_EQ_FMT((unsigned long long)ref_fnv1a_n(zero, 7), (unsigned long long)dt_id_n(zero, 7), "0x%016llx");
    PASS();
}

TEST id_n_hashes_exactly_len_bytes(void) {
    static const char nul_inside[] = {'a', '\0', 'b'};
    ASSERT_EQ(dt_id("LogWelcomeBanner"), dt_id_n("LogWelcomeBannerXYZ", 16));
    ASSERT_EQ(dt_id("Log"), dt_id_n("LogWelcomeBanner", 3));
    ASSERT_EQ(ref_fnv1a_n(nul_inside, 3), dt_id_n(nul_inside, 3));
    ASSERT(dt_id_n(nul_inside, 3) != dt_id(nul_inside));          /* dt_id stops at the NUL */
    ASSERT_EQ(dt_id("a"), dt_id(nul_inside));
    ASSERT_EQ(dt_id(""), dt_id_n("anything", 0));
    PASS();
}

TEST id_of_null_is_the_empty_name(void) {
    ASSERT_EQ_FMT(0xcbf29ce484222325ull, (unsigned long long)dt_id(NULL), "0x%016llx");
    ASSERT_EQ_FMT(0xcbf29ce484222325ull, (unsigned long long)dt_id_n(NULL, 5), "0x%016llx");
    PASS();
}

/* ---- the registry ------------------------------------------------------- */

static const dt_schema_field login_schema[] = {{"user", DT_TYPE_STR}, {"ok", DT_TYPE_BOOL}};

TEST register_identical_schema_twice_is_ok(void) {
    dt_engine *e = engine_with_events(0);
    dt_schema_field copy[2];
    memcpy(copy, login_schema, sizeof copy);
    ASSERT_EQ(DT_OK, dt_register_event(e, "Login", login_schema, 2, NULL, 0));
    ASSERT_EQ(DT_OK, dt_register_event(e, "Login", copy, 2, "auth.c", 7));   /* same names, other storage */
    ASSERT_EQ(DT_OK, dt_register_event(e, "Login", NULL, 0, NULL, 0));       /* no schema: keeps it */
    dt_destroy(e);
    PASS();
}

TEST register_different_schema_is_exists(void) {
    dt_engine *e = engine_with_events(0);
    const dt_schema_field other_type[] = {{"user", DT_TYPE_STR}, {"ok", DT_TYPE_I64}};
    const dt_schema_field other_name[] = {{"user", DT_TYPE_STR}, {"okay", DT_TYPE_BOOL}};
    const dt_schema_field fewer[] = {{"user", DT_TYPE_STR}};
    ASSERT_EQ(DT_OK, dt_register_event(e, "Login", login_schema, 2, NULL, 0));
    ASSERT_EQ(DT_ERR_EXISTS, dt_register_event(e, "Login", other_type, 2, NULL, 0));
    ASSERT_EQ(DT_ERR_EXISTS, dt_register_event(e, "Login", other_name, 2, NULL, 0));
    ASSERT_EQ(DT_ERR_EXISTS, dt_register_event(e, "Login", fewer, 1, NULL, 0));
    ASSERT_EQ(DT_OK, dt_register_event(e, "Login", login_schema, 2, NULL, 0));
    dt_destroy(e);
    PASS();
}

TEST register_schema_after_plain_registration_adopts_it(void) {
    dt_engine *e = engine_with_events(0);
    text_buf t;
    memset(&t, 0, sizeof t);
    ASSERT_EQ(DT_OK, dt_register_event(e, "Login", NULL, 0, NULL, 0));
    ASSERT_EQ(DT_OK, dt_register_event(e, "Login", login_schema, 2, NULL, 0));
    ASSERT_EQ(DT_OK, dt_catalog_write(e, text_write, &t));
    ASSERT_STR_EQ("{\"dt_catalog\":1,\"events\":[\n"
                  "{\"name\":\"Login\",\"id\":\"0xc8da3cc71de63832\",\"fields\":[{\"name\":\"user\",\"type\":\"str\"},"
                  "{\"name\":\"ok\",\"type\":\"bool\"}],\"sites\":[]}\n"
                  "]}\n",
                  t.s);
    dt_destroy(e);
    PASS();
}

TEST register_into_full_registry_is_limit_and_counted(void) {
    dt_engine *e = engine_with_events(2);
    ASSERT_EQ(DT_OK, dt_register_event(e, "A", NULL, 0, NULL, 0));
    ASSERT_EQ(DT_OK, dt_register_event(e, "B", NULL, 0, NULL, 0));
    ASSERT_EQ(0u, overflows(e));
    ASSERT_EQ(DT_ERR_LIMIT, dt_register_event(e, "C", NULL, 0, NULL, 0));
    ASSERT_EQ(1u, overflows(e));
    ASSERT_EQ(DT_ERR_LIMIT, dt_register_event(e, "D", login_schema, 2, NULL, 0));
    ASSERT_EQ(2u, overflows(e));
    /* names already in the table still re-register */
    ASSERT_EQ(DT_OK, dt_register_event(e, "A", login_schema, 2, NULL, 0));
    ASSERT_EQ(2u, overflows(e));
    dt_destroy(e);
    PASS();
}

TEST register_invalid_names_and_schemas_is_invalid(void) {
    dt_engine *e = engine_with_events(0);
    char name[DT_MAX_NAME + 2];
    const dt_schema_field empty_field[] = {{"", DT_TYPE_I64}};
    const dt_schema_field null_field[] = {{NULL, DT_TYPE_I64}};
    const dt_schema_field bad_type[] = {{"x", (dt_type)99}};
    memset(name, 'n', sizeof name);
    name[DT_MAX_NAME + 1] = 0;                                    /* DT_MAX_NAME + 1 bytes */
    ASSERT_EQ(DT_ERR_INVALID, dt_register_event(e, "", NULL, 0, NULL, 0));
    ASSERT_EQ(DT_ERR_INVALID, dt_register_event(e, NULL, NULL, 0, NULL, 0));
    ASSERT_EQ(DT_ERR_INVALID, dt_register_event(e, name, NULL, 0, NULL, 0));
    name[DT_MAX_NAME] = 0;                                        /* exactly DT_MAX_NAME: fine */
    ASSERT_EQ(DT_OK, dt_register_event(e, name, NULL, 0, NULL, 0));
    ASSERT_EQ(DT_ERR_INVALID, dt_register_event(e, "X", NULL, 1, NULL, 0));
    ASSERT_EQ(DT_ERR_INVALID, dt_register_event(e, "X", empty_field, 1, NULL, 0));
    ASSERT_EQ(DT_ERR_INVALID, dt_register_event(e, "X", null_field, 1, NULL, 0));
    ASSERT_EQ(DT_ERR_INVALID, dt_register_event(e, "X", bad_type, 1, NULL, 0));
    ASSERT_EQ(DT_ERR_INVALID, dt_register_event(e, "X", login_schema, DT_MAX_FIELDS + 1, NULL, 0));
    ASSERT_EQ(DT_ERR_INVALID, dt_register_event(NULL, "X", NULL, 0, NULL, 0));
    ASSERT_EQ(0u, overflows(e));
    dt_destroy(e);
    PASS();
}

/* A colliding pair, found by a distinguished-point (parallel rho) search
 * over names "c" + 11 characters of [A-Za-z0-9_.]: about 5e9 FNV
 * evaluations, one CPU-minute. Both hash to 0x08596e21a5046d05. */
#define COLLIDE_A "cZ0fG9zuWcUK"
#define COLLIDE_B "c_QIKXfCwyFN"

TEST register_two_names_with_one_id_is_collision(void) {
    dt_engine *e = engine_with_events(0);
    text_buf t;
    memset(&t, 0, sizeof t);
    ASSERT_EQ_FMT(0x08596e21a5046d05ull, (unsigned long long)ref_fnv1a_n(COLLIDE_A, 12), "0x%016llx");
    ASSERT_EQ_FMT(0x08596e21a5046d05ull, (unsigned long long)ref_fnv1a_n(COLLIDE_B, 12), "0x%016llx");
    ASSERT_EQ(dt_id(COLLIDE_A), dt_id(COLLIDE_B));
    ASSERT_EQ(DT_OK, dt_register_event(e, COLLIDE_A, NULL, 0, NULL, 0));
    ASSERT_EQ(DT_ERR_COLLISION, dt_register_event(e, COLLIDE_B, NULL, 0, NULL, 0));
    ASSERT_EQ(DT_ERR_COLLISION, dt_register_event(e, COLLIDE_B, login_schema, 2, "b.c", 3));
    ASSERT_EQ(DT_OK, dt_register_event(e, COLLIDE_A, NULL, 0, NULL, 0));
    ASSERT_EQ(DT_OK, dt_catalog_write(e, text_write, &t));
    ASSERT_STR_EQ("{\"dt_catalog\":1,\"events\":[\n"
                  "{\"name\":\"" COLLIDE_A "\",\"id\":\"0x08596e21a5046d05\",\"fields\":null,\"sites\":[]}\n"
                  "]}\n",
                  t.s);
    dt_destroy(e);
    PASS();
}

/* ---- the catalog -------------------------------------------------------- */

TEST catalog_lists_schema_and_location(void) {
    dt_engine *e = engine_with_events(0);
    text_buf t;
    memset(&t, 0, sizeof t);
    ASSERT_EQ(DT_OK, dt_register_event(e, "Login", login_schema, 2, NULL, 0));
    ASSERT_EQ(DT_OK, dt_register_event(e, "LogWelcomeBanner", NULL, 0, "src/main.c", 42));
    ASSERT_EQ(DT_OK, dt_catalog_write(e, text_write, &t));
    ASSERT_STR_EQ("{\"dt_catalog\":1,\"events\":[\n"
                  "{\"name\":\"Login\",\"id\":\"0xc8da3cc71de63832\",\"fields\":[{\"name\":\"user\",\"type\":\"str\"},"
                  "{\"name\":\"ok\",\"type\":\"bool\"}],\"sites\":[]},\n"
                  "{\"name\":\"LogWelcomeBanner\",\"id\":\"0x5aa1dc656b460b41\",\"fields\":null,"
                  "\"sites\":[{\"file\":\"src/main.c\",\"line\":42}]}\n"
                  "]}\n",
                  t.s);
    dt_destroy(e);
    PASS();
}

TEST catalog_of_empty_registry(void) {
    dt_engine *e = engine_with_events(0);
    text_buf t;
    memset(&t, 0, sizeof t);
    ASSERT_EQ(DT_OK, dt_catalog_write(e, text_write, &t));
    ASSERT_STR_EQ("{\"dt_catalog\":1,\"events\":[\n]}\n", t.s);
    ASSERT_EQ(DT_ERR_INVALID, dt_catalog_write(e, NULL, &t));
    ASSERT_EQ(DT_ERR_INVALID, dt_catalog_write(NULL, text_write, &t));
    dt_destroy(e);
    PASS();
}

TEST catalog_escapes_json_in_names(void) {
    dt_engine *e = engine_with_events(0);
    text_buf t;
    char expect[256];
    memset(&t, 0, sizeof t);
    ASSERT_EQ(DT_OK, dt_register_event(e, "Say\"hi\"\\\x01", NULL, 0, "dir\\f.c", 1));
    ASSERT_EQ(DT_OK, dt_catalog_write(e, text_write, &t));
    snprintf(expect, sizeof expect,
            "{\"dt_catalog\":1,\"events\":[\n"
            "{\"name\":\"Say\\\"hi\\\"\\\\\\u0001\",\"id\":\"0x%016llx\",\"fields\":null,"
            "\"sites\":[{\"file\":\"dir\\\\f.c\",\"line\":1}]}\n"
            "]}\n",
            (unsigned long long)ref_fnv1a_n("Say\"hi\"\\\x01", 9));
    ASSERT_STR_EQ(expect, t.s);
    dt_destroy(e);
    PASS();
}

SUITE(ids) {
    RUN_TEST(id_vectors_match_the_published_table);
    RUN_TEST(id_is_fnv1a_of_the_utf8_bytes);
    RUN_TEST(id_zero_hash_is_mapped_to_one);
    RUN_TEST(id_n_hashes_exactly_len_bytes);
    RUN_TEST(id_of_null_is_the_empty_name);
    RUN_TEST(register_identical_schema_twice_is_ok);
    RUN_TEST(register_different_schema_is_exists);
    RUN_TEST(register_schema_after_plain_registration_adopts_it);
    RUN_TEST(register_into_full_registry_is_limit_and_counted);
    RUN_TEST(register_invalid_names_and_schemas_is_invalid);
    RUN_TEST(register_two_names_with_one_id_is_collision);
    RUN_TEST(catalog_lists_schema_and_location);
    RUN_TEST(catalog_of_empty_registry);
    RUN_TEST(catalog_escapes_json_in_names);
}
