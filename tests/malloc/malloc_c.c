/* Every C entry point of rca malloc, run as the process's malloc: under LD_PRELOAD of
 * librca_malloc.so, or linked with librca_malloc.a. Semantics only (no timings).
 *
 *   malloc_c preload|static            the checks; exit 0 when all hold
 *   malloc_c misuse double_free|double_free_later|foreign|interior
 *   malloc_c brief                     a few blocks left live at exit (for RCA_SHOW_STATS)
 *                                      one misuse, which must abort with rca's one-line message
 *
 * The first argument says which rca malloc must be serving the process (dladdr of malloc), so
 * that a preload that did not take effect fails instead of testing glibc. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void *pvalloc(size_t size); /* glibc declares it only for some feature sets */

static int failures = 0;
#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond);                     \
      fprintf(stderr, __VA_ARGS__);                                                                \
      fputc('\n', stderr);                                                                         \
      ++failures;                                                                                  \
    }                                                                                              \
  } while (0)

static int aligned(const void *p, size_t a) { return ((uintptr_t)p & (a - 1)) == 0; }

static void fill(unsigned char *p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; ++i) p[i] = (unsigned char)(seed + i * 7);
}
static int filled(const unsigned char *p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; ++i)
    if (p[i] != (unsigned char)(seed + i * 7)) return 0;
  return 1;
}

static void check_served_by_rca(const char *how) {
  Dl_info info;
  void *(*m)(size_t) = malloc;
  CHECK(dladdr((void *)m, &info) != 0, "dladdr(malloc) failed");
  const char *file = info.dli_fname ? info.dli_fname : "";
  if (strcmp(how, "preload") == 0)
    CHECK(strstr(file, "librca_malloc.so") != NULL, "malloc comes from %s, not librca_malloc.so",
          file);
  else
    CHECK(strstr(file, "librca_malloc.so") == NULL && strstr(file, "libc.so") == NULL,
          "malloc comes from %s, not from this (statically linked) program", file);
}

static void check_malloc_free(void) {
  static const size_t sizes[] = {0,     1,      8,        15,       16,       17,   100,
                                 128,   129,    1000,     4096,     8191,     8192, 8193,
                                 65536, 100000, 1u << 20, 5u << 20, 33u << 20};
  void *blocks[sizeof sizes / sizeof sizes[0]];
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; ++i) {
    blocks[i] = malloc(sizes[i]);
    CHECK(blocks[i] != NULL, "malloc(%zu) = NULL", sizes[i]);
    CHECK(aligned(blocks[i], 16), "malloc(%zu) = %p, not 16-byte aligned", sizes[i], blocks[i]);
    CHECK(malloc_usable_size(blocks[i]) >= sizes[i], "usable %zu < %zu",
          malloc_usable_size(blocks[i]), sizes[i]);
    fill(blocks[i], sizes[i], (unsigned)i);
  }
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; ++i) {
    CHECK(filled(blocks[i], sizes[i], (unsigned)i), "block of %zu bytes changed", sizes[i]);
    free(blocks[i]);
  }
  free(NULL);
  CHECK(malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL) != 0");
  /* Many small blocks of every class, freed in another order than allocated. */
  enum { N = 20000 };
  static void *many[N];
  for (int i = 0; i < N; ++i) {
    many[i] = malloc((size_t)(i % 700) + 1);
    CHECK(many[i] != NULL, "malloc failed");
    memset(many[i], i & 0xff, (size_t)(i % 700) + 1);
  }
  for (int i = 0; i < N; i += 2) free(many[i]);
  for (int i = 1; i < N; i += 2) {
    const unsigned char *p = many[i];
    CHECK(p[0] == (i & 0xff) && p[i % 700] == (i & 0xff), "block %d changed", i);
    free(many[i]);
  }
}

static void check_calloc(void) {
  /* A reused block must come back zeroed. */
  for (size_t n = 16; n <= (1u << 20); n *= 4) {
    unsigned char *p = malloc(n);
    memset(p, 0xAB, n);
    free(p);
    unsigned char *q = calloc(1, n);
    CHECK(q != NULL, "calloc(1, %zu) = NULL", n);
    size_t nonzero = 0;
    for (size_t i = 0; i < n; ++i) nonzero += q[i] != 0;
    CHECK(nonzero == 0, "calloc(1, %zu): %zu bytes not zero", n, nonzero);
    free(q);
  }
  /* volatile: the compiler must not see the overflow (it warns, and may fold the call) */
  volatile size_t half = SIZE_MAX / 2, big = (size_t)1 << 33;
  errno = 0;
  CHECK(calloc(half, 3) == NULL, "calloc overflow gave a block");
  CHECK(errno == ENOMEM, "calloc overflow: errno %d, not ENOMEM", errno);
  errno = 0;
  CHECK(calloc(big, big) == NULL, "calloc overflow gave a block");
  CHECK(errno == ENOMEM, "calloc overflow: errno %d, not ENOMEM", errno);
  void *z = calloc(0, 16);
  CHECK(z != NULL, "calloc(0, 16) = NULL");
  free(z);
}

static void check_realloc(void) {
  /* Growing across every class, into large and huge blocks, then shrinking back: the contents
   * that fit are kept at each step. */
  size_t n = 1;
  unsigned char *p = malloc(n);
  fill(p, n, 3);
  while (n < (48u << 20)) {
    size_t next = n * 3 / 2 + 1;
    p = realloc(p, next);
    CHECK(p != NULL, "realloc to %zu = NULL", next);
    CHECK(filled(p, n, 3), "realloc %zu -> %zu lost the contents", n, next);
    CHECK(malloc_usable_size(p) >= next, "usable %zu < %zu", malloc_usable_size(p), next);
    fill(p, next, 3);
    n = next;
  }
  while (n > 1) {
    size_t next = n / 3;
    p = realloc(p, next);
    CHECK(p != NULL, "realloc down to %zu = NULL", next);
    CHECK(filled(p, next, 3), "realloc %zu -> %zu lost the contents", n, next);
    n = next;
  }
  free(p);
  /* In place while the size class stays. */
  void *q = malloc(100);
  CHECK(realloc(q, 110) == q, "realloc 100 -> 110 moved the block");
  q = realloc(q, 100);
  free(q);
  q = realloc(NULL, 50);
  CHECK(q != NULL, "realloc(NULL, 50) = NULL");
  CHECK(realloc(q, 0) == NULL, "realloc(p, 0) did not free (glibc's behaviour)");
  errno = 0;
  void *volatile kept = malloc(64); /* volatile: still ours after the refused reallocarray */
  volatile size_t quarter = SIZE_MAX / 4;
  CHECK(reallocarray(kept, quarter, 8) == NULL && errno == ENOMEM,
        "reallocarray overflow: no ENOMEM");
  q = reallocarray(kept, 10, 100);
  CHECK(q != NULL && malloc_usable_size(q) >= 1000, "reallocarray(q, 10, 100)");
  free(q);
}

static void check_aligned(void) {
  static const size_t sizes[] = {0, 1, 24, 100, 4096, 10000, 70000, 1u << 20, 40u << 20};
  for (size_t a = sizeof(void *); a <= (4u << 20); a *= 2)
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; ++i) {
      const size_t n = sizes[i];
      void *p = NULL;
      CHECK(posix_memalign(&p, a, n) == 0, "posix_memalign(%zu, %zu) failed", a, n);
      CHECK(p && aligned(p, a), "posix_memalign(%zu, %zu) = %p", a, n, p);
      CHECK(malloc_usable_size(p) >= n, "usable %zu < %zu", malloc_usable_size(p), n);
      if (n) { /* the ends only: the huge ones would fault in hundreds of MiB */
        memset(p, 0x5A, n < 8192 ? n : 4096);
        memset((char *)p + n - (n < 8192 ? n : 4096), 0x5A, n < 8192 ? n : 4096);
      }
      void *q = aligned_alloc(a, n);
      CHECK(q && aligned(q, a), "aligned_alloc(%zu, %zu) = %p", a, n, q);
      void *r = memalign(a, n);
      CHECK(r && aligned(r, a), "memalign(%zu, %zu) = %p", a, n, r);
      CHECK(malloc_usable_size(r) >= n, "usable %zu < %zu", malloc_usable_size(r), n);
      /* realloc of an aligned block keeps its contents */
      if (n && n < (1u << 20)) {
        unsigned char *g = realloc(p, n * 2);
        CHECK(g && g[n - 1] == 0x5A, "realloc of an aligned block lost its contents");
        p = g;
      }
      free(p);
      free(q);
      free(r);
    }
  void *p = (void *)1;
  CHECK(posix_memalign(&p, 3, 16) == EINVAL && p == (void *)1, "alignment 3 accepted");
  CHECK(posix_memalign(&p, 4, 16) == EINVAL, "alignment 4 (< sizeof(void *)) accepted");
  errno = 0;
  CHECK(aligned_alloc(24, 48) == NULL && errno == EINVAL, "aligned_alloc(24) accepted");
  void *m = memalign(48, 10); /* glibc rounds the alignment up to a power of two */
  CHECK(m && aligned(m, 64), "memalign(48) = %p", m);
  free(m);
  void *v = valloc(100);
  CHECK(v && aligned(v, 4096), "valloc = %p", v);
  free(v);
  void *pv = pvalloc(5000);
  CHECK(pv && aligned(pv, 4096) && malloc_usable_size(pv) >= 8192, "pvalloc(5000) = %p (%zu)", pv,
        pv ? malloc_usable_size(pv) : 0);
  free(pv);
  pv = pvalloc(0);
  CHECK(pv && malloc_usable_size(pv) >= 4096, "pvalloc(0)");
  free(pv);
}

/* ---- threads ---------------------------------------------------------------------------- */

enum { kRing = 1024, kPerProducer = 200000 };
struct ring {
  void *slot[kRing];
  size_t head, tail; /* guarded by lock */
  pthread_mutex_t lock;
  pthread_cond_t cond;
};

static void *producer(void *arg) {
  struct ring *r = arg;
  for (int i = 0; i < kPerProducer; ++i) {
    size_t n = (size_t)(i * 37 % 3000) + 1;
    unsigned char *p = malloc(n);
    p[0] = (unsigned char)n;
    p[n - 1] = (unsigned char)(n >> 3);
    pthread_mutex_lock(&r->lock);
    while (r->head - r->tail == kRing) pthread_cond_wait(&r->cond, &r->lock);
    r->slot[r->head++ % kRing] = p;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
  }
  return NULL;
}

static void *consumer(void *arg) {
  struct ring *r = arg;
  for (int i = 0; i < kPerProducer; ++i) {
    pthread_mutex_lock(&r->lock);
    while (r->head == r->tail) pthread_cond_wait(&r->cond, &r->lock);
    unsigned char *p = r->slot[r->tail++ % kRing];
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    size_t n = malloc_usable_size(p);
    CHECK(n >= 1, "usable size 0");
    free(p); /* a block of the producer's spans: the cross-thread path */
  }
  return NULL;
}

/* A thread that exits with live blocks: its spans are abandoned, the main thread frees them. */
static void *leaver(void *arg) {
  void **out = arg;
  for (int i = 0; i < 5000; ++i) out[i] = malloc((size_t)(i % 500) + 1);
  return NULL;
}

static void check_threads(void) {
  struct ring r;
  memset(&r, 0, sizeof r);
  pthread_mutex_init(&r.lock, NULL);
  pthread_cond_init(&r.cond, NULL);
  pthread_t p, c;
  pthread_create(&p, NULL, producer, &r);
  pthread_create(&c, NULL, consumer, &r);
  pthread_join(p, NULL);
  pthread_join(c, NULL);
  static void *left[4][5000];
  for (int round = 0; round < 4; ++round) {
    pthread_t t;
    pthread_create(&t, NULL, leaver, left[round]);
    pthread_join(t, NULL);
  }
  for (int round = 0; round < 4; ++round)
    for (int i = 0; i < 5000; ++i) free(left[round][i]);
}

/* ---- fork in a threaded program ---------------------------------------------------------- */

static volatile int stop_churn = 0;
static void *churn(void *arg) {
  (void)arg;
  void *keep[64] = {0};
  for (unsigned i = 0; !stop_churn; ++i) {
    free(keep[i % 64]);
    keep[i % 64] = malloc((i * 131) % 20000 + 1);
  }
  for (int i = 0; i < 64; ++i) free(keep[i]);
  return NULL;
}

static void check_fork(void) {
  pthread_t t[3];
  for (int i = 0; i < 3; ++i) pthread_create(&t[i], NULL, churn, NULL);
  for (int round = 0; round < 20; ++round) {
    pid_t pid = fork();
    if (pid == 0) {
      /* The child: the churning threads are gone, possibly mid-operation. */
      static void *blocks[20000];
      for (int i = 0; i < 20000; ++i) blocks[i] = malloc((size_t)(i * 131) % 20000 + 1);
      for (int i = 0; i < 20000; ++i) free(blocks[i]);
      void *big = malloc(40u << 20);
      free(big);
      _exit(0);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fork child (round %d): status 0x%x",
          round, status);
  }
  stop_churn = 1;
  for (int i = 0; i < 3; ++i) pthread_join(t[i], NULL);
}

/* ---- misuse ------------------------------------------------------------------------------ */

static int misuse(const char *what) {
  if (strcmp(what, "double_free") == 0) {
    void *p = malloc(40);
    free(p);
    free(p); /* the block freed last: caught without checks */
  } else if (strcmp(what, "double_free_later") == 0) {
    void *p = malloc(40);
    void *q = malloc(40);
    free(p);
    free(q);
    free(p); /* not the block freed last: caught with RCA_CHECKS=1 (a marker per block) */
  } else if (strcmp(what, "foreign") == 0) {
    static char not_ours[64];
    free(not_ours + 16);
  } else if (strcmp(what, "interior") == 0) {
    char *p = malloc(100);
    free(p + 16);
  } else {
    fprintf(stderr, "unknown misuse %s\n", what);
    return 2;
  }
  return 0; /* reached only when the misuse went unnoticed */
}

/* For RCA_SHOW_STATS: one huge block and an exited thread's small blocks stay live at exit. */
static void *brief_thread(void *arg) {
  void **out = arg;
  for (int i = 0; i < 100; ++i) out[i] = malloc(100);
  return NULL;
}
static int brief(void) {
  static void *kept[100];
  void *huge = malloc(40u << 20);
  pthread_t t;
  pthread_create(&t, NULL, brief_thread, kept);
  pthread_join(t, NULL);
  return huge && kept[99] ? 0 : 1;
}

/* glibc's malloc.h extras reach rca's heap: mallinfo2 counts rca's blocks (exactly their usable
 * sizes, and a huge block as a mapping of its own), malloc_trim gives its free units back, and
 * mallopt accepts glibc's parameters and refuses others. */
static void check_glibc_extras(void) {
  enum { N = 100 };
  void *blocks[N];
  const struct mallinfo2 before = mallinfo2();
  size_t usable = 0;
  for (int i = 0; i < N; ++i) {
    blocks[i] = malloc(1000);
    usable += malloc_usable_size(blocks[i]);
  }
  void *huge = malloc(40u << 20);
  const struct mallinfo2 during = mallinfo2();
  CHECK(during.uordblks - before.uordblks == usable, "mallinfo2 counts %zu bytes more, not %zu",
        during.uordblks - before.uordblks, usable);
  CHECK(during.hblks == before.hblks + 1, "hblks %zu, not %zu", during.hblks, before.hblks + 1);
  CHECK(during.hblkhd - before.hblkhd >= (40u << 20), "hblkhd grew by %zu",
        during.hblkhd - before.hblkhd);
  CHECK(during.arena >= during.uordblks && during.fordblks == during.arena - during.uordblks,
        "arena %zu, uordblks %zu, fordblks %zu", during.arena, during.uordblks, during.fordblks);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations" /* mallinfo: it is an entry point */
  const struct mallinfo old = mallinfo();
#pragma GCC diagnostic pop
  CHECK((size_t)old.uordblks == during.uordblks, "mallinfo %d, mallinfo2 %zu", old.uordblks,
        during.uordblks);
  for (int i = 0; i < N; ++i) free(blocks[i]);
  free(huge);
  CHECK(mallinfo2().uordblks == before.uordblks, "mallinfo2 counts freed blocks");
  /* 64 KiB blocks, a unit each: freed, their units are kept committed (keepcost) until trimmed. */
  enum { L = 64 };
  void *large[L];
  for (int i = 0; i < L; ++i) memset(large[i] = malloc(60000), 1, 60000);
  for (int i = 0; i < L; ++i) free(large[i]);
  CHECK(mallinfo2().keepcost > 0, "no free unit is kept committed");
  CHECK(malloc_trim(0) == 1, "malloc_trim(0) gave nothing back");
  CHECK(mallinfo2().keepcost == 0, "keepcost %zu after malloc_trim(0)", mallinfo2().keepcost);
  CHECK(malloc_trim(0) == 0, "a second malloc_trim(0) gave memory back");
  CHECK(mallopt(M_ARENA_MAX, 1) == 1 && mallopt(M_MMAP_THRESHOLD, 1 << 20) == 1 &&
            mallopt(M_TRIM_THRESHOLD, -1) == 1,
        "mallopt refused one of glibc's parameters");
  CHECK(mallopt(12345, 1) == 0, "mallopt accepted an unknown parameter");
}

int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "misuse") == 0) return misuse(argv[2]);
  if (argc >= 2 && strcmp(argv[1], "brief") == 0) return brief();
  if (argc < 2 || (strcmp(argv[1], "preload") != 0 && strcmp(argv[1], "static") != 0)) {
    fprintf(stderr, "usage: %s preload|static | misuse double_free|foreign|interior\n", argv[0]);
    return 2;
  }
  check_served_by_rca(argv[1]);
  check_malloc_free();
  check_calloc();
  check_realloc();
  check_aligned();
  check_glibc_extras();
  check_threads();
  check_fork();
  if (failures) {
    fprintf(stderr, "%d checks failed\n", failures);
    return 1;
  }
  printf("rca malloc C entry points: all checks held (%s)\n", argv[1]);
  return 0;
}
