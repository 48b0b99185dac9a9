// The operating system behind one small contract (mimalloc's prim.h habit): each function
// returns 0 on success or an errno value; nothing here knows about heaps or slots.
#pragma once

#include <cstddef>

namespace rca::prim {

/// The OS page size (4096 on the machines rca targets; checked at heap creation).
std::size_t page_size() noexcept;

/// Reserves `bytes` of address space with no access and no commit charge.
int reserve(std::size_t bytes, void **out) noexcept;
/// Makes [p, p+bytes) readable and writable (pages are faulted in lazily, zero-filled).
int commit(void *p, std::size_t bytes) noexcept;
/// Gives the physical pages back; the range stays readable/writable and reads as zero.
int decommit(void *p, std::size_t bytes) noexcept;
/// Returns the whole reservation to the OS.
int release(void *p, std::size_t bytes) noexcept;

/// Gives the CPU to another runnable thread (a lock waiter that has spun long enough).
void yield() noexcept;

/// Registers fork handlers once per process.
int atfork(void (*prepare)(), void (*parent)(), void (*child)()) noexcept;

}  // namespace rca::prim
