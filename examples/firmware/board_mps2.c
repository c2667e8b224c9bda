/* board_mps2.c — board.h for the Arm MPS2 AN385 (Cortex-M3, 25 MHz) as
 * qemu-system-arm emulates it (-M mps2-an385): UART0 (CMSDK APB UART) for
 * output, SysTick for time, PendSV as the spare interrupt, semihosting to
 * stop. Startup code and the vector table are here too, so the firmware
 * needs no vendor files. */
#include "board.h"

#define FW_CPU_HZ 25000000u
#define FW_TICKS_PER_MS (FW_CPU_HZ / 1000u)
#define FW_NS_PER_TICK (1000000000u / FW_CPU_HZ)

#define REG(addr) (*(volatile uint32_t *)(addr))
#define UART0_DATA REG(0x40004000u)
#define UART0_STATE REG(0x40004004u)       /* bit 0: transmit buffer full */
#define UART0_CTRL REG(0x40004008u)        /* bit 0: transmit enable */
#define UART0_BAUDDIV REG(0x40004010u)
#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)
#define SCB_ICSR REG(0xE000ED04u)          /* bit 28: set PendSV pending */
#define SCB_SHPR3 REG(0xE000ED20u)         /* PendSV priority [23:16], SysTick [31:24] */

static volatile uint32_t board_ms;

void board_init(void) {
    UART0_BAUDDIV = 16u;
    UART0_CTRL = 1u;
    /* SysTick above PendSV, so the millisecond count moves on even while
     * the spare interrupt runs and board_now_ns is right there too. */
    SCB_SHPR3 = (0x00u << 24) | (0xFFu << 16);
    SYST_RVR = FW_TICKS_PER_MS - 1u;
    SYST_CVR = 0u;
    SYST_CSR = 7u;                         /* processor clock, interrupt, enable */
}

void board_write(const char *bytes, size_t len) {
    size_t i;
    for (i = 0; i < len; i++) {
        while (UART0_STATE & 1u) {}
        UART0_DATA = (uint8_t)bytes[i];
    }
}

/* The count read between two equal readings of the millisecond counter
 * belongs to that millisecond: a wrap in between makes them differ. */
int64_t board_now_ns(void) {
    uint32_t ms, ticks;
    do {
        ms = board_ms;
        ticks = FW_TICKS_PER_MS - 1u - SYST_CVR;
    } while (ms != board_ms);
    return (int64_t)ms * 1000000 + (int64_t)ticks * FW_NS_PER_TICK;
}

void board_raise_irq(void) {
    SCB_ICSR = 1u << 28;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}

/* Semihosting SYS_EXIT: 0x20026 (application exit) makes qemu exit 0,
 * 0x20023 (run-time error) makes it exit 1. */
void board_exit(int status) {
    register uint32_t op __asm__("r0") = 0x18u;
    register uint32_t reason __asm__("r1") = status == 0 ? 0x20026u : 0x20023u;
    __asm__ volatile("bkpt 0xab" : : "r"(op), "r"(reason) : "memory");
    for (;;) {}
}

/* newlib's strtod and printf("%g") take a few hundred bytes from malloc;
 * this heap (mps2.ld's FW_HEAP) is theirs. dt itself never calls malloc. */
extern char board_heap_start[], board_heap_end[];
void *_sbrk(ptrdiff_t incr);
void *_sbrk(ptrdiff_t incr) {
    static char *brk = board_heap_start;
    char *old = brk;
    if (incr > board_heap_end - brk || incr < board_heap_start - brk) return (void *)-1;
    brk += incr;
    return old;
}

/* >>startup ----------------------------------------------------------------*/

extern uint32_t board_data_load[], board_data_start[], board_data_end[];
extern uint32_t board_bss_start[], board_bss_end[];
int main(void);

void board_reset(void);
void board_fault(void);
void board_systick(void);
void board_pendsv(void);

void board_reset(void) {
    uint32_t *src = board_data_load, *dst;
    for (dst = board_data_start; dst < board_data_end;) *dst++ = *src++;
    for (dst = board_bss_start; dst < board_bss_end;) *dst++ = 0;
    board_exit(main());
}

void board_fault(void) {
    static const char msg[] = "# fault\n";
    board_write(msg, sizeof msg - 1);
    board_exit(1);
}

void board_systick(void) { board_ms++; }
void board_pendsv(void) { board_irq_handler(); }

typedef void (*board_vector)(void);
__attribute__((section(".vectors"), used)) static const board_vector board_vectors[16] = {
    (board_vector)(uintptr_t)board_stack_top,
    board_reset,
    board_fault,       /* NMI */
    board_fault,       /* HardFault */
    board_fault,       /* MemManage */
    board_fault,       /* BusFault */
    board_fault,       /* UsageFault */
    0, 0, 0, 0,
    board_fault,       /* SVCall */
    board_fault,       /* DebugMonitor */
    0,
    board_pendsv,
    board_systick,
};
