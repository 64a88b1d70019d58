# The product & asset hub: pimd, damd and pimctl.
# make            build into build/
# make run        both daemons on 127.0.0.1:8080/8081 with a demo catalog
# make test       unit, integration and browser tests
# make SANITIZE=address,undefined test    the same under ASan and UBSan
# make bench      side-by-side benchmarks, see bench/README.md

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
           -Wformat=2 -Wvla -Wno-format-nonliteral
CPPFLAGS += -D_GNU_SOURCE -Icommon -include common/fmacros.h -include common/banned.h

COMMON_PKGS = libmicrohttpd jansson libcrypto libutf8proc
PIMD_PKGS   = $(COMMON_PKGS) lmdb libxml-2.0 libcurl
PIMCTL_PKGS = $(PIMD_PKGS)
DAMD_PKGS   = $(COMMON_PKGS) lmdb vips libarchive libmagic
ALL_PKGS    = $(sort $(PIMD_PKGS) $(DAMD_PKGS))

ifdef DEVELOPER
WARN += -Werror
endif
ifdef SANITIZE
BUILD   ?= build-san
CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=$(SANITIZE)
else
# pimd and pimctl run on mimalloc (see common/alloc.c); the sanitizers bring
# their own malloc
CPPFLAGS += -DHUB_MIMALLOC
PIM_MALLOC = -lmimalloc
endif
BUILD ?= build

# Evaluated when a recipe runs, so that scripts/deps.sh can install first.
pkg_cflags = $(shell pkg-config --cflags $(1))
pkg_libs   = $(shell pkg-config --libs $(1))

COMMON_SRCS = $(wildcard common/*.c)
IMP_SRCS    = $(wildcard importers/*.c)
PIMD_SRCS   = $(filter-out pimd/main.c,$(wildcard pimd/*.c))
DAMD_SRCS   = $(filter-out damd/main.c,$(wildcard damd/*.c))
UNIT_SRCS   = $(wildcard tests/unit/test_*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBHUB = $(BUILD)/libhub.a
LIBIMP = $(BUILD)/libimp.a
LIBPIM = $(BUILD)/libpim.a
LIBDAM = $(BUILD)/libdam.a
BINS   = $(BUILD)/pimd $(BUILD)/damd $(BUILD)/pimctl
UNITS  = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

.PHONY: all deps test-deps run test unit integration browser bench clean format
# keep the unit tests' objects: they are not throwaway intermediates
.SECONDARY:
all: $(BINS) $(UNITS)

deps:
	@scripts/deps.sh build
test-deps:
	@scripts/deps.sh test

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(call pkg_cflags,$(ALL_PKGS)) -MMD -MP -c $< -o $@

$(LIBHUB): $(call obj,$(COMMON_SRCS))
$(LIBIMP): $(call obj,$(IMP_SRCS))
$(LIBPIM): $(call obj,$(PIMD_SRCS))
$(LIBDAM): $(call obj,$(DAMD_SRCS))
$(LIBHUB) $(LIBIMP) $(LIBPIM) $(LIBDAM):
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/pimd: $(call obj,pimd/main.c) $(LIBPIM) $(LIBIMP) $(LIBHUB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(PIMD_PKGS)) -lcsv -lpthread -lm $(PIM_MALLOC)
$(BUILD)/damd: $(call obj,damd/main.c) $(LIBDAM) $(LIBHUB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(DAMD_PKGS)) -lcsv -lpthread -lm
$(BUILD)/pimctl: $(call obj,$(wildcard pimctl/*.c)) $(LIBPIM) $(LIBIMP) $(LIBHUB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(PIMCTL_PKGS)) -lcsv -lpthread -lm $(PIM_MALLOC)
# A unit test links only its module: test_pim_* pimd (and importers),
# test_imp_* importers, test_dam_* damd, anything else common/ alone.
$(BUILD)/tests/test_pim_%: $(call obj,tests/unit/test_pim_%.c) $(LIBPIM) $(LIBIMP) $(LIBHUB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(PIMD_PKGS)) -lcsv -lpthread -lm
$(BUILD)/tests/test_imp_%: $(call obj,tests/unit/test_imp_%.c) $(LIBIMP) $(LIBHUB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(PIMD_PKGS)) -lcsv -lpthread -lm
$(BUILD)/tests/test_dam_%: $(call obj,tests/unit/test_dam_%.c) $(LIBDAM) $(LIBHUB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(DAMD_PKGS)) -lcsv -lpthread -lm
$(BUILD)/tests/%: $(call obj,tests/unit/%.c) $(LIBHUB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(COMMON_PKGS)) -lpthread -lm

run: deps
	@$(MAKE) --no-print-directory all
	@scripts/run.sh

test: test-deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) tests/run

unit: all
	@BUILD=$(BUILD) tests/run unit
integration: all
	@BUILD=$(BUILD) tests/run integration
browser: all
	@BUILD=$(BUILD) tests/run browser

bench: deps
	@$(MAKE) --no-print-directory all
	@scripts/deps.sh bench
	@BUILD=$(BUILD) bench/run

format:
	clang-format -i $(COMMON_SRCS) $(IMP_SRCS) $(PIMD_SRCS) $(DAMD_SRCS) pimd/main.c damd/main.c \
		$(wildcard common/*.h pimd/*.h damd/*.h importers/*.h)

clean:
	rm -rf build build-san

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
