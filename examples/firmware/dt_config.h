/* dt_config.h — dt's options for the firmware (DT_CONFIG_FILE). Every
 * option is documented at the top of dt.h; docs/embedded.md says what each
 * one saves. */
#ifndef FW_DT_CONFIG_H
#define FW_DT_CONFIG_H

#define DT_NO_THREADS 1         /* one main loop; interrupts hand events to it */
#define DT_NO_MALLOC 1          /* the engine lives in a static block (desc.memory) */
#define DT_NO_CLOCK 1           /* time comes from the board's SysTick (desc.clock) */
#define DT_ASSERT(x) ((void)0)  /* no assert(): it would pull in stdio's fprintf */

/* Bounds, lowered from the defaults to fit a small stack: a handled event
 * keeps DT_MAX_FIELDS editable fields and DT_EXEC_ARENA bytes of scratch
 * on the stack, once per level of emit nesting. */
#define DT_MAX_FIELDS 16
#define DT_EXEC_ARENA 256
#define DT_MAX_EMIT_DEPTH 2
#define DT_MAX_INLINE_ACTIONS 2
#define DT_PENDING_ARG_BYTES 128
#define DT_MAX_EXPR_HEIGHT 24
#define DT_MAX_OVERRIDES 8

#endif
