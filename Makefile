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

# The main job: every experiment, small (a few minutes on 2 cores), ending with the claim table.
run: build
	$(MAKE) --no-print-directory -f Makefile.perf quick BUILD=build/$(PRESET)

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
