// The operating system (and the C library's non-standard corners) behind one small contract,
// mimalloc's prim.h habit. Nothing here knows about heaps or slots, and nothing outside prim/
// calls the OS directly: a port to another system is one new prim/<os>.cpp that defines exactly
// these functions. Functions that can fail return 0 or an errno value.
//
// Why no C++20 concept checks a port (snmalloc's pal_concept.h): snmalloc's platform is a type
// chosen at compile time, and the concept is what ties it to the allocator's templates. Here the
// layer is one set of free functions declared once, below; the compiler checks each definition
// against its declaration and the linker reports any function a port leaves out, so a concept
// would restate this list without checking anything more.
#pragma once

#include <cstddef>

namespace rca::prim {

// ---- memory ---------------------------------------------------------------------------------

/// The OS page size (4096 on the machines rca targets; checked at heap creation).
std::size_t page_size() noexcept;
/// Reserves `bytes` of address space with no access and no commit charge; *out is its start,
/// page-aligned.
int reserve(std::size_t bytes, void **out) noexcept;
/// Makes [p, p+bytes) of a reservation readable and writable. Pages are faulted in lazily and
/// read as zero the first time.
int commit(void *p, std::size_t bytes) noexcept;
/// Gives the physical pages of [p, p+bytes) back now; the range stays readable and writable and
/// reads as zero afterwards.
int decommit(void *p, std::size_t bytes) noexcept;
/// Returns a whole reservation (as reserve gave it) to the OS.
int release(void *p, std::size_t bytes) noexcept;
/// Resizes a mapping made by reserve + commit (the whole of it) to new_bytes, moving it where
/// it cannot grow in place; *out is its start afterwards. Pages beyond the old end read as zero.
int remap(void *p, std::size_t old_bytes, std::size_t new_bytes, void **out) noexcept;
/// Usable bytes of a block from the process's malloc (at least what was asked for): the system
/// backend's accounting. p is not null.
std::size_t system_usable_size(const void *p) noexcept;

// ---- threads and processes ------------------------------------------------------------------

/// One pause of a spinning core (x86 `pause`, arm64 `yield`): lets the sibling hyperthread run
/// and saves power; never gives up the CPU.
void spin_pause() noexcept;
/// Gives the CPU to another runnable thread (a lock waiter that has spun long enough).
void yield() noexcept;
/// The process's peak resident set in bytes, or 0 when the OS does not say.
std::size_t peak_rss() noexcept;
/// Registers fork handlers, as pthread_atfork; the caller calls it once per process.
int atfork(void (*prepare)(), void (*parent)(), void (*child)()) noexcept;

// ---- environment, output, libraries ---------------------------------------------------------

/// A thread-exit hook: *key is made once; fn(value) runs when a thread that set a non-null
/// value with thread_exit_set exits (pthread keys: neither allocates).
int thread_exit_key(unsigned *key, void (*fn)(void *)) noexcept;
void thread_exit_set(unsigned key, void *value) noexcept;
/// The calling thread's id, unique among live threads.
unsigned long thread_id() noexcept;
/// Runs fn at normal process exit (atexit).
int at_exit(void (*fn)()) noexcept;
/// The value of environment variable `name`, or null when it is not set. The pointer is valid
/// until the environment changes; read it at once.
const char *env(const char *name) noexcept;
/// Writes msg[0, len) to standard error with as few system calls as the OS allows, without stdio
/// and without allocating: safe in any state (in a fork child, with locks held, before abort).
/// Errors are ignored: there is nowhere left to report them.
void write_stderr(const char *msg, std::size_t len) noexcept;
/// Loads a shared library privately (its symbols do not take part in the process's symbol
/// resolution, so a library exporting malloc does not replace it); null when it cannot be loaded.
void *library_open(const char *file) noexcept;
/// The address of `symbol` in a library from library_open, or null.
void *library_symbol(void *library, const char *symbol) noexcept;

}  // namespace rca::prim
