/* hash_service.c — a multi-threaded file-hashing service, the seeds'
 * hashing sample in C.
 *
 *     make examples-check          (builds, runs, compares with hash_service.expected)
 *     build/hash_service [program.dt]
 *
 * Three worker threads hash their share of files. The code logs what a
 * hashing service logs, through DT_EMIT call sites:
 *
 *     LogStartingFileHash{fileName}            info, per file
 *     LogHashDetail{fileName, chunk}           debug, per 64-byte chunk
 *     LogEndFileHash{fileName, hashValue}      info, per file
 *     ErrorHashing{fileName, error}            error, when a file fails
 *
 * and registers one host action, memory_dump(file). What happens to the
 * events is the deployed program's business (hash_service.dt): a machine
 * times each file into a histogram and calls memory_dump when hashing
 * fails, a recorder keeps each thread's recent detail and writes it out on
 * failure, one query drops the start events, another turns the end events
 * into a count per file extension.
 *
 * Time is virtual (1 ms per chunk, per thread) and the output sorted, so
 * every run prints the same thing (see host_common.h). */
#define DT_ALL_IMPLEMENTATION
#include "dt.h"
#include "dt_query.h"
#include "dt_stateful.h"

#include "host_common.h"

#define WORKERS 3
#define CHUNK 64
#define START_NS 1000000000000ll     /* virtual start: 1000 s, inside one 1-minute window */
#define MS 1000000ll

typedef struct hs_file {
    const char *name;
    uint32_t chunks;
    uint32_t fail_at;                /* 0: hashes fine; n: fails reading chunk n */
} hs_file;

/* Each worker's files: a fixed share, so each thread's story is fixed. */
static const hs_file hs_files[WORKERS][3] = {
    { { "a.txt", 3, 0 }, { "b.c", 6, 0 }, { "c.txt", 12, 0 } },
    { { "d.log", 2, 0 }, { "broken.bin", 4, 3 }, { "e.c", 8, 0 } },
    { { "f.txt", 4, 0 }, { "g.log", 25, 0 }, { "h.c", 1, 0 } },
};

/* The file's bytes are made from its name: the content does not matter,
 * only that every run hashes the same bytes. */
static uint64_t hs_hash_chunk(uint64_t h, const char *name, uint32_t chunk) {
    uint32_t i;
    size_t n = strlen(name);
    for (i = 0; i < CHUNK; i++) {
        h ^= (unsigned char)name[(chunk * CHUNK + i) % n];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Hashes one file at the worker's virtual time *now. */
static void hs_hash_file(const hs_file *f, int64_t *now) {
    uint64_t h = 0xcbf29ce484222325ull;
    uint32_t c;
    DT_EMIT(DT_INFO, "LogStartingFileHash", DT_STR("fileName", f->name));
    for (c = 1; c <= f->chunks; c++) {
        *now += MS;
        if (c == f->fail_at) {
            DT_EMIT(DT_ERROR, "ErrorHashing", DT_STR("fileName", f->name), DT_STR("error", "EIO"));
            return;
        }
        h = hs_hash_chunk(h, f->name, c);
        DT_EMIT(DT_DEBUG, "LogHashDetail", DT_STR("fileName", f->name), DT_U64("chunk", c));
    }
    DT_EMIT(DT_INFO, "LogEndFileHash", DT_STR("fileName", f->name), DT_U64("hashValue", h));
}

static void *hs_worker(void *arg) {
    const hs_file *files = (const hs_file *)arg;
    int64_t now = START_NS;
    int i;
    host_time_bind(&now);
    for (i = 0; i < 3; i++) {
        hs_hash_file(&files[i], &now);
        now += MS;                   /* between files */
    }
    return NULL;
}

int main(int argc, char **argv) {
    const char *program = argc > 1 ? argv[1] : "examples/hosts/hash_service.dt";
    pthread_t t[WORKERS];
    dt_engine *e = host_start(program, START_NS);
    int i;
    if (!e) return 1;
    for (i = 0; i < WORKERS; i++) pthread_create(&t[i], NULL, hs_worker, (void *)hs_files[i]);
    for (i = 0; i < WORKERS; i++) pthread_join(t[i], NULL);
    host_finish(e, START_NS + 60 * 1000 * MS);     /* a minute later: the windows close */
    return 0;
}
