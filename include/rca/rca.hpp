// rca, C++ face: RAII heaps over the C API, plus the compile-time hot path (rca::rc).
#pragma once

#include <rca/rca.h>
#include <rca/refcount.hpp>

#include <cerrno>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace rca {

using placement = rca_placement_t;
using handle_kind = rca_handle_kind_t;
using backend = rca_backend_t;
using stats = rca_stats_t;

/// A heap configuration: defaults, then whatever is set by name (the RCA_* option names).
class config {
 public:
  config() { rca_config_init(&c_); }
  /// Defaults overlaid with the RCA_* environment variables.
  static config from_env() {
    config c;
    if (rca_config_from_env(&c.c_) != 0) throw std::invalid_argument(rca_last_error());
    return c;
  }
  config &set(std::string_view name, std::string_view value) {
    if (rca_config_set(&c_, std::string(name).c_str(), std::string(value).c_str()) != 0)
      throw std::invalid_argument(rca_last_error());
    return *this;
  }
  /// One option by number (rca_option_t); throws std::invalid_argument on a bad value.
  config &option(rca_option_t o, std::int64_t value) {
    if (rca_option_set(&c_, o, value) != 0) throw std::invalid_argument(rca_last_error());
    return *this;
  }
  std::int64_t option(rca_option_t o) const {
    std::int64_t v;
    if (rca_option_get(&c_, o, &v) != 0) throw std::invalid_argument(rca_last_error());
    return v;
  }
  config &placement(rca::placement p) {
    c_.placement = p;
    return *this;
  }
  config &handle_kind(rca::handle_kind k) {
    c_.handle_kind = k;
    return *this;
  }
  [[deprecated("renamed handle_kind")]] config &handle(rca::handle_kind k) {
    return handle_kind(k);
  }
  config &slot_bits(unsigned bits) {
    c_.slot_bits = bits;
    return *this;
  }
  config &backend(rca::backend b) {
    c_.backend = b;
    return *this;
  }
  config &arena_limit(std::size_t bytes) {
    c_.arena_limit = bytes;
    return *this;
  }
  config &checks(bool on) {
    c_.checks = on;
    return *this;
  }
  config &track_objects(bool on) {
    c_.track_objects = on;
    return *this;
  }
  const rca_config_t &raw() const { return c_; }
  rca_config_t &raw() { return c_; }

 private:
  rca_config_t c_;
};

/// Owns an rca_heap_t. Throws std::system_error (with rca_last_error()) when creation fails.
class heap {
 public:
  explicit heap(const config &cfg = config()) : h_(rca_heap_new(&cfg.raw())) {
    if (!h_) throw std::system_error(errno, std::generic_category(), rca_last_error());
  }
  heap(const heap &) = delete;
  heap &operator=(const heap &) = delete;
  heap(heap &&o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  heap &operator=(heap &&o) noexcept {
    if (this != &o) {
      if (h_) rca_heap_destroy(h_);
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  ~heap() {
    if (h_) rca_heap_destroy(h_);
  }

  rca_heap_t *get() const noexcept { return h_; }
  const rca_config_t &cfg() const noexcept { return *rca_heap_config(h_); }
  std::size_t header_size() const noexcept { return rca_header_size(h_); }

  void *alloc(std::size_t size) const noexcept { return rca_obj_alloc(h_, size); }
  void free(void *obj) const noexcept { rca_obj_free(h_, obj); }
  void *slot_of(const void *obj) const noexcept { return rca_obj_slot(h_, obj); }
  std::uint64_t count(const void *obj) const noexcept { return rca_obj_count(h_, obj); }

  rca_handle_t slot_alloc(void *embedded_slot = nullptr) const noexcept {
    return rca_slot_alloc(h_, embedded_slot);
  }
  void slot_free(rca_handle_t h) const noexcept { rca_slot_free(h_, h); }
  /// rca_slot_alloc_batch: fills the front of `out`, returns how many it filled.
  std::size_t slot_alloc_batch(std::span<rca_handle_t> out,
                               void *const *embedded_slots = nullptr) const noexcept {
    return rca_slot_alloc_batch(h_, out.data(), out.size(), embedded_slots);
  }
  void slot_free_batch(std::span<const rca_handle_t> handles) const noexcept {
    rca_slot_free_batch(h_, handles.data(), handles.size());
  }
  void *slot_ptr(rca_handle_t h) const noexcept { return rca_slot_ptr(h_, h); }
  void *slot_base() const noexcept { return rca_slot_base(h_); }

  long freeze() const noexcept { return rca_heap_freeze(h_); }
  long thaw() const noexcept { return rca_heap_thaw(h_); }
  rca::stats stats() const noexcept {
    rca::stats s;
    rca_heap_stats(h_, &s);
    return s;
  }
  std::pair<void *, void *> arena_range() const noexcept {
    void *lo, *hi;
    rca_heap_arena_range(h_, &lo, &hi);
    return {lo, hi};
  }

 private:
  rca_heap_t *h_;
};

}  // namespace rca
