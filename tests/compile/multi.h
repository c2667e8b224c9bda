/* Functions the compile-check translation units export to main.c. */
#ifndef DT_COMPILE_MULTI_H
#define DT_COMPILE_MULTI_H
#ifdef __cplusplus
extern "C" {
#endif
int multi_a(void);       /* multi_a.c: 1 when dt.h's API works from that TU */
int multi_b(void);       /* multi_b.c */
int static_other(void);  /* static_other.c: its own DT_STATIC implementation */
#ifdef __cplusplus
}
#endif
#endif
