// The placements, indexed by rca_placement_t. A new placement adds its table here.
#include "placement/placement.h"

#include <iterator>

namespace rca::detail {

extern const placement_ops inline_placement;    // inline.cpp
extern const placement_ops embedded_placement;  // embedded.cpp
extern const placement_ops shared_placement;    // arena.cpp
extern const placement_ops thread_placement;    // arena.cpp
extern const placement_ops padded_placement;    // arena.cpp
extern const placement_ops computed_placement;  // computed.cpp

namespace {
const placement_ops *const placements[] = {
    &inline_placement, &embedded_placement, &shared_placement,
    &thread_placement, &padded_placement,   &computed_placement,
};
static_assert(std::size(placements) == RCA_PLACEMENT_COUNT,
              "one table per rca_placement_t value (include/rca/rca.h)");
}  // namespace

const placement_ops &placement_of(rca_placement_t p) noexcept { return *placements[p]; }

}  // namespace rca::detail
