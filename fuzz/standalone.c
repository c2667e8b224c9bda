/* standalone.c — replays fuzz corpora without libFuzzer.
 *
 * Link it with any fuzz target built without -fsanitize=fuzzer and give it
 * files and directories (not recursive); every file is one input:
 *
 *     gcc -g fuzz/fuzz_jsonl.c fuzz/standalone.c -o /tmp/fuzz_jsonl_replay
 *     valgrind /tmp/fuzz_jsonl_replay fuzz/corpus/jsonl crash-1234
 *
 * Prints "N inputs ok" and exits 0 when every input ran (a failed property
 * aborts inside the target); exits 1 when a path cannot be read, so a typo
 * in a test script does not pass silently. POSIX (opendir), like the
 * machines that run fuzzers.
 */
#if !defined(_POSIX_C_SOURCE) && !defined(_XOPEN_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs bigger than this are not fuzz inputs; refuse rather than thrash. */
#define STANDALONE_MAX_INPUT ((size_t)64 << 20)

static int run_file(const char *path) {
    FILE *fp = fopen(path, "rb");
    uint8_t *buf = NULL, *grown;
    size_t len = 0, cap = 0, got;
    if (!fp) {
        perror(path);
        return -1;
    }
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            grown = cap <= STANDALONE_MAX_INPUT ? (uint8_t *)realloc(buf, cap) : NULL;
            if (!grown) {
                fprintf(stderr, "%s: too large or out of memory\n", path);
                free(buf);
                fclose(fp);
                return -1;
            }
            buf = grown;
        }
        got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0) break;
    }
    if (ferror(fp)) {
        perror(path);
        free(buf);
        fclose(fp);
        return -1;
    }
    fclose(fp);
    /* a fresh exact-size copy, so that reads past the end trip valgrind */
    grown = (uint8_t *)malloc(len ? len : 1);
    if (!grown) {
        free(buf);
        return -1;
    }
    if (len) memcpy(grown, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(grown, len);
    free(grown);
    return 0;
}

static int run_dir(const char *dir, unsigned long *count) {
    DIR *d = opendir(dir);
    struct dirent *ent;
    struct stat st;
    char *path;
    int failed = 0;
    if (!d) {
        perror(dir);
        return -1;
    }
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.') continue;   /* ., .., and hidden files */
        path = (char *)malloc(strlen(dir) + strlen(ent->d_name) + 2);
        if (!path) {
            failed = -1;
            break;
        }
        sprintf(path, "%s/%s", dir, ent->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(path) == 0) (*count)++;
            else failed = -1;
        }
        free(path);
    }
    closedir(d);
    return failed;
}

int main(int argc, char **argv) {
    unsigned long count = 0;
    int i, failed = 0;
    struct stat st;
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
        return 2;
    }
    for (i = 1; i < argc; i++) {
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            failed = 1;
        } else if (S_ISDIR(st.st_mode)) {
            if (run_dir(argv[i], &count) != 0) failed = 1;
        } else if (run_file(argv[i]) == 0) {
            count++;
        } else {
            failed = 1;
        }
    }
    printf("%lu inputs ok\n", count);
    return failed;
}
