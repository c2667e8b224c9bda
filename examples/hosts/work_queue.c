/* work_queue.c — a multi-threaded work-queue service, the seeds' queue
 * sample in C.
 *
 *     make examples-check          (builds, runs, compares with work_queue.expected)
 *     build/work_queue [program.dt]
 *
 * The main thread enqueues work, three workers take it off. The code logs
 * LogEnqueueWork{depth} and LogDequeueWork{depth}, and declares its queue's
 * expectations with dt_probe.h: depth <= 10, no item waits more than
 * 200 ms; violations are events (ExpectDepthExceeded, ExpectWaitExceeded,
 * ExpectDepthRecovered). It registers one host action, memory_dump(depth).
 * The deployed program (work_queue.dt) drops the dequeue events, turns the
 * enqueue events into metrics, calls memory_dump when the queue gets deep,
 * runs a machine on the expectation events, and keeps a recorder of the
 * queue's history that is written out when the depth bound is broken.
 *
 * The run is a burst of 12 items (the workers wait until it is queued),
 * then a calm 3. Events are emitted under the queue's lock, so their order
 * is the queue's order, and each thread's virtual clock is set from the
 * item it handles: every run prints the same thing (see host_common.h). */
#define DT_ALL_IMPLEMENTATION
#include "dt.h"
#include "dt_query.h"
#include "dt_stateful.h"

#include "host_common.h"
#include "../probes/dt_probe.h"

#define WORKERS 3
#define START_NS 1000000000000ll     /* virtual start: 1000 s, inside one 1-minute window */
#define MS 1000000ll
#define CAP 64

typedef struct wq_item {
    int64_t enqueued;                /* virtual time it was queued */
    int64_t dequeue_at;              /* virtual time a worker takes it */
} wq_item;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t work, drained;
    wq_item items[CAP];
    int head, tail, busy, done;
} wq = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, {{0, 0}}, 0, 0, 0, 0 };

static dt_queue_expect wq_expect = DT_QUEUE_EXPECT("jobs", 10, 200 * MS);

static int64_t wq_depth(void) { return (int64_t)(wq.tail - wq.head); }

/* Queues one item at the main thread's virtual time; under wq.mu. */
static void wq_push(int64_t at, int64_t dequeue_at) {
    host_main_time = at;
    wq.items[wq.tail % CAP].enqueued = at;
    wq.items[wq.tail % CAP].dequeue_at = dequeue_at;
    wq.tail++;
    DT_EMIT(DT_INFO, "LogEnqueueWork", DT_I64("depth", wq_depth()));
    dt_expect_depth(&wq_expect, wq_depth());
}

/* Takes one item and reports it, all under wq.mu so the events keep the
 * queue's order whichever worker runs. */
static void wq_take(int64_t *now) {
    wq_item it = wq.items[wq.head % CAP];
    wq.head++;
    *now = it.dequeue_at;
    DT_EMIT(DT_INFO, "LogDequeueWork", DT_I64("depth", wq_depth()));
    dt_expect_depth(&wq_expect, wq_depth());
    dt_expect_wait(&wq_expect, it.dequeue_at - it.enqueued);
}

static void *wq_worker(void *arg) {
    int64_t now = START_NS;
    (void)arg;
    host_time_bind(&now);
    pthread_mutex_lock(&wq.mu);
    for (;;) {
        while (wq.head == wq.tail && !wq.done) pthread_cond_wait(&wq.work, &wq.mu);
        if (wq.head == wq.tail) break;
        wq_take(&now);
        wq.busy++;
        pthread_mutex_unlock(&wq.mu);
        /* the work itself would run here, outside the lock */
        pthread_mutex_lock(&wq.mu);
        wq.busy--;
        if (wq.head == wq.tail && !wq.busy) pthread_cond_signal(&wq.drained);
    }
    pthread_mutex_unlock(&wq.mu);
    return NULL;
}

/* Queues n items (the k-th at start + k ms, taken at take + step * k ms)
 * in one go, then waits until the workers have taken them all. */
static void wq_batch(int n, int64_t start, int64_t take, int64_t step) {
    int k;
    pthread_mutex_lock(&wq.mu);
    for (k = 1; k <= n; k++) wq_push(start + k * MS, take + step * k * MS);
    pthread_cond_broadcast(&wq.work);
    while (wq.head != wq.tail || wq.busy) pthread_cond_wait(&wq.drained, &wq.mu);
    pthread_mutex_unlock(&wq.mu);
}

int main(int argc, char **argv) {
    const char *program = argc > 1 ? argv[1] : "examples/hosts/work_queue.dt";
    pthread_t t[WORKERS];
    dt_engine *e = host_start(program, START_NS);
    int i;
    if (!e) return 1;
    for (i = 0; i < WORKERS; i++) pthread_create(&t[i], NULL, wq_worker, NULL);
    /* the burst: items wait 140 ms + 9 ms per place in the queue */
    wq_batch(12, START_NS, START_NS + 140 * MS, 10);
    /* the calm: each item taken 5 ms after it was queued */
    wq_batch(3, START_NS + 2000 * MS, START_NS + 2005 * MS, 1);
    pthread_mutex_lock(&wq.mu);
    wq.done = 1;
    pthread_cond_broadcast(&wq.work);
    pthread_mutex_unlock(&wq.mu);
    for (i = 0; i < WORKERS; i++) pthread_join(t[i], NULL);
    host_finish(e, START_NS + 60 * 1000 * MS);     /* a minute later: the windows close */
    return 0;
}
