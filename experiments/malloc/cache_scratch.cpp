// cache-scratch: see hoard_cache.hpp.
#include "hoard_cache.hpp"

int main(int argc, char **argv) { return mbench::run_cache(argc, argv, "cache_scratch", true); }
