# Thin wrapper over CMake presets. The experiments have their own Makefile.perf.
PRESET ?= release
JOBS ?= 2

.PHONY: all bootstrap build run demo test test-all clean

all: build

bootstrap:
	@scripts/bootstrap.sh

build: bootstrap
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build --preset $(PRESET) -j $(JOBS)

# The main job.
run: demo

demo: build
	build/$(PRESET)/examples/rca-demo

# The whole test suite of one preset (release by default).
test: build
	ctest --preset $(PRESET) -j $(JOBS)

# Every preset the README names.
test-all:
	@for p in release debug asan tsan; do $(MAKE) --no-print-directory test PRESET=$$p || exit 1; done

clean:
	rm -rf build
