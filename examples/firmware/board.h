/* board.h — the little the firmware needs from its board: a UART for
 * output, a millisecond timer, one software-triggered interrupt, and a way
 * to stop the emulator with a status. board_mps2.c implements it for the
 * Arm MPS2 AN385 (Cortex-M3) that qemu-system-arm emulates; porting the
 * example to another board means writing this file again, nothing else. */
#ifndef FW_BOARD_H
#define FW_BOARD_H

#include <stddef.h>
#include <stdint.h>

/* Clocks, the UART and the timer interrupt; interrupts are on afterwards. */
void board_init(void);

/* Blocking UART output. Not reentrant: call it from one context at a time. */
void board_write(const char *bytes, size_t len);

/* Nanoseconds since board_init, from the timer: the SysTick interrupt
 * counts milliseconds and the current count gives the part in between.
 * Never goes backwards. */
int64_t board_now_ns(void);

/* Raises the board's spare interrupt; board_irq_handler() runs in interrupt
 * context before this returns (it is taken as soon as it is pending). */
void board_raise_irq(void);
void board_irq_handler(void);    /* defined by the application */

/* Stops the emulator (semihosting): status 0 passes, anything else fails. */
void board_exit(int status);

/* The stack, lowest address first, for measuring how deep it went. */
extern uint32_t board_stack_bottom[], board_stack_top[];

#endif
