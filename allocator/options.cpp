// Options: one table serves the config fields, the RCA_<NAME> environment variables and
// rca_config_set (mimalloc's options.c habit).
#include "internal.h"
#include "placement/placement.h"
#include "prim/prim.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <strings.h>

#include <array>
#include <cstdio>
#include <iterator>
#include <string>

namespace rca::detail {
namespace {

// Each placement names itself in its table (placement/); the tables are constant-initialised.
const auto placement_names = [] {
  std::array<const char *, RCA_PLACEMENT_COUNT> names{};
  for (std::size_t i = 0; i < names.size(); ++i)
    names[i] = placement_of(static_cast<rca_placement_t>(i)).name;
  return names;
}();
const char *const handle_names[] = {"pointer", "index"};
const char *const backend_names[] = {"system", "mimalloc", "jemalloc", "rca"};
const char *const address_names[] = {"span", "granule"};
static_assert(std::size(backend_names) == RCA_BACKEND_COUNT);
static_assert(std::size(address_names) == RCA_ADDRESS_COUNT);

template <class Names>
int parse_name(const Names &names, const char *what, const char *value, int *out) {
  const std::size_t N = std::size(names);
  for (std::size_t i = 0; i < N; ++i)
    if (value && strcasecmp(value, names[i]) == 0) {
      *out = static_cast<int>(i);
      return 0;
    }
  char list[128] = "";
  for (std::size_t i = 0; i < N; ++i) {
    std::strcat(list, names[i]);
    if (i + 1 < N) std::strcat(list, "|");
  }
  set_error(EINVAL, "unknown %s '%s' (expected %s)", what, value ? value : "(null)", list);
  return -1;
}

}  // namespace

int parse_bool(const char *name, const char *v, int *out) noexcept {
  const char *yes[] = {"1", "on", "yes", "true"}, *no[] = {"0", "off", "no", "false"};
  for (const char *s : yes)
    if (strcasecmp(v, s) == 0) return *out = 1, 0;
  for (const char *s : no)
    if (strcasecmp(v, s) == 0) return *out = 0, 0;
  set_error(EINVAL, "option %s: '%s' is not a boolean (1|0|on|off|yes|no|true|false)", name, v);
  return -1;
}

int parse_size(const char *name, const char *v, std::size_t *out) noexcept {
  char *end = nullptr;
  errno = 0;
  unsigned long long n = std::strtoull(v, &end, 10);
  if (end == v || errno != 0 || *v == '-') {
    set_error(EINVAL, "option %s: '%s' is not a size (e.g. 4096, 64k, 16m, 1g)", name, v);
    return -1;
  }
  unsigned long long mul = 1;
  switch (*end) {
    case 'k':
    case 'K':
      mul = 1ull << 10;
      ++end;
      break;
    case 'm':
    case 'M':
      mul = 1ull << 20;
      ++end;
      break;
    case 'g':
    case 'G':
      mul = 1ull << 30;
      ++end;
      break;
    default: break;
  }
  if (*end == 'b' || *end == 'B') ++end;
  if (*end != '\0') {
    set_error(EINVAL, "option %s: '%s' is not a size (e.g. 4096, 64k, 16m, 1g)", name, v);
    return -1;
  }
  // A suffix must not wrap the value round to a small one (18014398509481984k was 0).
  unsigned long long bytes;
  if (__builtin_mul_overflow(n, mul, &bytes) || bytes > SIZE_MAX) {
    set_error(EINVAL, "option %s: '%s' does not fit in 64 bits", name, v);
    return -1;
  }
  *out = static_cast<std::size_t>(bytes);
  return 0;
}

namespace {

// ---- the table ------------------------------------------------------------------------------
// What rca_option_set accepts: an enum's values, 32|64, a flag (-1 = resolve to the default),
// a byte count.
enum class value_kind { choice, bits, flag, size };

struct option {
  const char *name;  // rca_config_set name; the env variable is RCA_<NAME upper-cased>
  int (*set)(rca_config_t *, const char *name, const char *value);  // from text
  std::int64_t (*get)(const rca_config_t *);                        // by number
  void (*put)(rca_config_t *, std::int64_t);                        // checked first
  value_kind kind;
  int choices;                     // value_kind::choice: 0 .. choices - 1
  const char *old_name = nullptr;  // the name before a rename, still read (rca.h: deprecated)
};

// The field an option lives in. Options added after 0.2 live in rca_config_t::more.
#define RCA_OPTION_FIELD(f)                                                                        \
  [](const rca_config_t *c) { return static_cast<std::int64_t>(c->f); },                           \
      [](rca_config_t *c, std::int64_t v) { c->f = static_cast<decltype(c->f)>(v); }

// Each enum option parses through the same public function the API offers.
int set_placement(rca_config_t *c, const char *, const char *v) {
  return rca_placement_parse(v, &c->placement);
}
int set_handle_kind(rca_config_t *c, const char *, const char *v) {
  return rca_handle_kind_parse(v, &c->handle_kind);
}
int set_backend(rca_config_t *c, const char *, const char *v) {
  return rca_backend_parse(v, &c->backend);
}
int set_address(rca_config_t *c, const char *, const char *v) {
  return rca_address_parse(v, &c->address);
}
int set_object_limit(rca_config_t *c, const char *n, const char *v) {
  return parse_size(n, v, &c->object_limit);
}
int set_slot_bits(rca_config_t *c, const char *n, const char *v) {
  if (std::strcmp(v, "32") == 0) return c->slot_bits = 32, 0;
  if (std::strcmp(v, "64") == 0) return c->slot_bits = 64, 0;
  set_error(EINVAL, "option %s: '%s' (expected 32|64)", n, v);
  return -1;
}
int set_arena_limit(rca_config_t *c, const char *n, const char *v) {
  return parse_size(n, v, &c->arena_limit);
}
int set_retain_pages(rca_config_t *c, const char *n, const char *v) {
  return parse_size(n, v, &c->retain_pages);
}
int set_checks(rca_config_t *c, const char *n, const char *v) {
  return parse_bool(n, v, &c->checks);
}
int set_track(rca_config_t *c, const char *n, const char *v) {
  return parse_bool(n, v, &c->track_objects);
}
int set_show_stats(rca_config_t *c, const char *n, const char *v) {
  return parse_bool(n, v, &c->show_stats);
}

// In rca_option_t's order.
const option options[] = {
    {"placement", set_placement, RCA_OPTION_FIELD(placement), value_kind::choice,
     RCA_PLACEMENT_COUNT},
    {"handle_kind", set_handle_kind, RCA_OPTION_FIELD(handle_kind), value_kind::choice,
     RCA_HANDLE_KIND_COUNT, "handle"},
    {"slot_bits", set_slot_bits, RCA_OPTION_FIELD(slot_bits), value_kind::bits, 0},
    {"backend", set_backend, RCA_OPTION_FIELD(backend), value_kind::choice, RCA_BACKEND_COUNT},
    {"arena_limit", set_arena_limit, RCA_OPTION_FIELD(arena_limit), value_kind::size, 0},
    {"retain_pages", set_retain_pages, RCA_OPTION_FIELD(retain_pages), value_kind::size, 0},
    {"checks", set_checks, RCA_OPTION_FIELD(checks), value_kind::flag, 0},
    {"track_objects", set_track, RCA_OPTION_FIELD(track_objects), value_kind::flag, 0},
    {"show_stats", set_show_stats, RCA_OPTION_FIELD(show_stats), value_kind::flag, 0},
    {"address", set_address, RCA_OPTION_FIELD(address), value_kind::choice, RCA_ADDRESS_COUNT},
    {"object_limit", set_object_limit, RCA_OPTION_FIELD(object_limit), value_kind::size, 0},
};
static_assert(std::size(options) == RCA_OPTION_COUNT, "one row per rca_option_t, in its order");
#undef RCA_OPTION_FIELD

// The option `id` names, or null with a message.
const option *option_of(const char *fn, rca_option_t id) noexcept {
  if (static_cast<unsigned>(id) < RCA_OPTION_COUNT) return &options[id];
  set_error(EINVAL, "%s: unknown option %d (0..%d)", fn, static_cast<int>(id),
            RCA_OPTION_COUNT - 1);
  return nullptr;
}

// RCA_<NAME upper-cased>, in out (64 bytes).
const char *env_name(const char *name, char *out) {
  std::size_t n = 0;
  for (const char *p = "RCA_"; *p;) out[n++] = *p++;
  for (std::size_t i = 0; name[i] && n < 63; ++i)
    out[n++] = static_cast<char>(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
  out[n] = '\0';
  return out;
}

}  // namespace

int resolve_config(rca_config_t *c) noexcept {
  if (static_cast<unsigned>(c->placement) >= RCA_PLACEMENT_COUNT)
    return set_error(EINVAL, "placement %d out of range", c->placement), EINVAL;
  if (static_cast<unsigned>(c->handle_kind) >= RCA_HANDLE_KIND_COUNT)
    return set_error(EINVAL, "handle kind %d out of range", c->handle_kind), EINVAL;
  if (static_cast<unsigned>(c->backend) >= RCA_BACKEND_COUNT)
    return set_error(EINVAL, "backend %d out of range", c->backend), EINVAL;
  if (c->slot_bits != 32 && c->slot_bits != 64)
    return set_error(EINVAL, "slot_bits must be 32 or 64, not %u", c->slot_bits), EINVAL;
  if (static_cast<unsigned>(c->address) >= RCA_ADDRESS_COUNT)
    return set_error(EINVAL, "address function %d out of range", c->address), EINVAL;
  const placement_ops &placement = placement_of(c->placement);
  if (int e = placement.resolve(c)) return e;
  if (c->arena_limit == 0) c->arena_limit = kDefaultArenaLimit;
  if (c->arena_limit < kPageSize)
    return set_error(EINVAL, "arena_limit %zu is below one refcount page (%zu bytes)",
                     c->arena_limit, kPageSize),
           EINVAL;
  // Refused rather than clamped: a config that says 1000g while 16g is reserved would mislead
  // every figure computed from it.
  if (c->arena_limit > max_arena_limit(c->slot_bits / 8))
    return set_error(EINVAL,
                     "arena_limit %zu is above the largest arena 32-bit indexes reach with "
                     "%u-bit slots (%zu bytes: 2^32 slots less the guard page)",
                     c->arena_limit, c->slot_bits, max_arena_limit(c->slot_bits / 8)),
           EINVAL;
  if (c->checks < 0) {
#ifdef NDEBUG
    c->checks = 0;
#else
    c->checks = 1;
#endif
  }
  if (c->track_objects < 0) c->track_objects = c->checks || placement.tracks_objects_by_default;
  if (c->show_stats < 0) c->show_stats = 0;
  if (c->object_limit == 0) c->object_limit = kDefaultObjectLimit;  // (computed: its resolve)
  if (c->object_limit < kSpanBytes)
    return set_error(EINVAL, "object_limit %zu is below one span (%zu bytes)", c->object_limit,
                     kSpanBytes),
           EINVAL;
  return 0;
}

}  // namespace rca::detail

using namespace rca::detail;

extern "C" {

RCA_API void rca_config_init(rca_config_t *c) {
  c->placement = RCA_PLACEMENT_SHARED;
  c->handle_kind = RCA_HANDLE_KIND_POINTER;
  c->slot_bits = 32;
  c->backend = RCA_BACKEND_SYSTEM;
  c->arena_limit = kDefaultArenaLimit;
  c->retain_pages = kDefaultRetainPages;
  c->checks = -1;
  c->track_objects = -1;
  c->show_stats = -1;
  c->address = RCA_ADDRESS_SPAN;
  c->object_limit = 0;
  for (std::int64_t &m : c->more) m = 0;
}

RCA_API int rca_option_set(rca_config_t *c, rca_option_t id, int64_t v) {
  const option *o = option_of("rca_option_set", id);
  if (!o) return -1;
  if (!c) return set_error(EINVAL, "rca_option_set: null config"), -1;
  const long long x = v;
  switch (o->kind) {
    case value_kind::choice:
      if (v < 0 || v >= o->choices)
        return set_error(EINVAL, "option %s: %lld out of range (0..%d)", o->name, x,
                         o->choices - 1),
               -1;
      break;
    case value_kind::bits:
      if (v != 32 && v != 64)
        return set_error(EINVAL, "option %s: %lld (expected 32|64)", o->name, x), -1;
      break;
    case value_kind::flag:
      if (v < -1 || v > 1)
        return set_error(EINVAL, "option %s: %lld (expected 0, 1, or -1 for the default)", o->name,
                         x),
               -1;
      break;
    case value_kind::size:
      if (v < 0) return set_error(EINVAL, "option %s: %lld is negative", o->name, x), -1;
      break;
  }
  o->put(c, v);
  return 0;
}

RCA_API int rca_option_get(const rca_config_t *c, rca_option_t id, int64_t *out) {
  const option *o = option_of("rca_option_get", id);
  if (!o) return -1;
  if (!c || !out) return set_error(EINVAL, "rca_option_get: null argument"), -1;
  *out = o->get(c);
  return 0;
}

RCA_API const char *rca_option_name(rca_option_t id) {
  return static_cast<unsigned>(id) < RCA_OPTION_COUNT ? options[id].name : "?";
}

RCA_API int rca_config_set(rca_config_t *c, const char *name, const char *value) {
  if (!c || !name || !value) {
    set_error(EINVAL, "rca_config_set: null argument");
    return -1;
  }
  for (const option &o : options)
    if (strcasecmp(o.name, name) == 0 || (o.old_name && strcasecmp(o.old_name, name) == 0))
      return o.set(c, o.name, value);
  std::string known;
  for (const option &o : options) known += std::string(known.empty() ? "" : ", ") + o.name;
  set_error(EINVAL, "unknown option '%s' (known: %s)", name, known.c_str());
  return -1;
}

RCA_API int rca_config_from_env(rca_config_t *c) {
  for (const option &o : options) {
    char env[64];
    const char *v = rca::prim::env(env_name(o.name, env));
    if ((!v || !*v) && o.old_name) v = rca::prim::env(env_name(o.old_name, env));
    if (v && *v && o.set(c, o.name, v) != 0) {
      char msg[256];
      std::snprintf(msg, sizeof msg, "%s: %s", env, rca_last_error());
      set_error(EINVAL, "%s", msg);
      return -1;
    }
  }
  return 0;
}

RCA_API int rca_heap_check_slot_bits(const rca_heap_t *heap, unsigned bits) {
  check_heap(heap, "rca_heap_check_slot_bits");
  if (heap->config.slot_bits == bits) return 0;
  char desc[128];
  set_error(EINVAL, "%s has %u-bit slots, but the hot path was compiled with RCA_SLOT_BITS=%u",
            describe(heap, desc, sizeof desc), heap->config.slot_bits, bits);
  return -1;
}

RCA_API const char *rca_placement_name(rca_placement_t p) {
  return static_cast<unsigned>(p) < RCA_PLACEMENT_COUNT ? placement_names[p] : "?";
}
RCA_API const char *rca_handle_kind_name(rca_handle_kind_t h) {
  return static_cast<unsigned>(h) < RCA_HANDLE_KIND_COUNT ? handle_names[h] : "?";
}
RCA_API const char *rca_backend_name(rca_backend_t b) {
  return static_cast<unsigned>(b) < RCA_BACKEND_COUNT ? backend_names[b] : "?";
}
RCA_API const char *rca_address_name(rca_address_t a) {
  return static_cast<unsigned>(a) < RCA_ADDRESS_COUNT ? address_names[a] : "?";
}
RCA_API int rca_address_parse(const char *name, rca_address_t *out) {
  int x;
  if (parse_name(address_names, "address function", name, &x)) return -1;
  *out = static_cast<rca_address_t>(x);
  return 0;
}
RCA_API int rca_placement_parse(const char *name, rca_placement_t *out) {
  int x;
  if (parse_name(placement_names, "placement", name, &x)) return -1;
  *out = static_cast<rca_placement_t>(x);
  return 0;
}
RCA_API int rca_handle_kind_parse(const char *name, rca_handle_kind_t *out) {
  int x;
  if (parse_name(handle_names, "handle kind", name, &x)) return -1;
  *out = static_cast<rca_handle_kind_t>(x);
  return 0;
}
RCA_API int rca_backend_parse(const char *name, rca_backend_t *out) {
  int x;
  if (parse_name(backend_names, "backend", name, &x)) return -1;
  *out = static_cast<rca_backend_t>(x);
  return 0;
}

}  // extern "C"
