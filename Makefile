# alerttrace: build in the libbpf-bootstrap manner. Generated files live in .output/.
OUTPUT := .output
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc
PKG_CONFIG ?= pkg-config
ARCH := x86
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

# user/: main and options; bin/: binary analysis (ELF, .eh_frame, x86 data flow), free of libbpf;
# tls/: the library path and one provider per TLS library; wire/: the TC source's interfaces,
# attachment and socket owners; out/: decoding, aggregation and every output format.
USER_DIRS := user user/bin user/tls user/wire user/out
# -iquote, not -I: user/bin/elf.h must not shadow the C library's <elf.h> that libelf includes.
CFLAGS ?= -g -O2
CFLAGS += -Wall -Wextra -Wno-unused-parameter -std=gnu11 -D_GNU_SOURCE -I/usr/include/libnl3 \
	  -I$(OUTPUT) -Ibpf $(addprefix -iquote ,$(USER_DIRS)) -DAT_VERSION='"$(VERSION)"'
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Ibpf -I$(OUTPUT) \
	      -I/usr/include/$(shell $(CC) -dumpmachine)
# Lazy: pkg-config may only exist once 'make deps' ran.
# libevent_extra holds evhttp (the /metrics server), libevent_core the event loop it runs on.
# libnl-3 (rtnetlink, user/wire/ifwatch.c), not libmnl: Debian ships libnl-3.a, no libmnl.a.
LIBS = $(shell $(PKG_CONFIG) --libs libbpf libelf zlib libevent_core libevent_extra libnl-3.0 \
	 2>/dev/null || echo -lbpf -lelf -lz -levent_core -levent_extra -lnl-3) -lcapstone -lcrypto
STATIC_LIBS = -static -lbpf -lelf -lz -lzstd -lcapstone -levent_extra -levent_core -lcrypto \
	      -lnl-3 -lpthread

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
USER_SRCS := $(foreach d,$(USER_DIRS),$(wildcard $(d)/*.c))
# The selftest's peer program (user/peer/, not in USER_DIRS): a dynamic executable of its own,
# linked into alerttrace as a blob (selftest_peers.c runs it from a memfd).
# The Go peer (user/peer/go_peer/main.go): Go's own crypto/tls, built with Debian's Go, static.
PEER_BLOB := $(OUTPUT)/st_peer_blob.o $(OUTPUT)/st_go_peer_blob.o
USER_OBJS := $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(USER_SRCS)) $(PEER_BLOB)
GO ?= go
LIB_OBJS := $(filter-out $(OUTPUT)/user/main.o,$(USER_OBJS))
TEST_SRCS := $(wildcard tests/*.c)
TEST_BINS := $(patsubst tests/%.c,$(OUTPUT)/tests/%,$(TEST_SRCS))
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(patsubst bench/%.c,$(OUTPUT)/bench/%,$(BENCH_SRCS))

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all deps run test test-versions static bench clean format lint tests install uninstall \
	fuzz fuzz-build sanitize

all: alerttrace

deps:
	$(Q)./tools/deps.sh

run: deps
	$(Q)$(MAKE) --no-print-directory all
	./alerttrace $(ARGS)

test: deps
	$(Q)$(MAKE) --no-print-directory all tests alerttrace-static
	$(Q)./tests/run.sh

# The OpenSSL 3.5 (trixie) and 1.1.1 (bullseye) roots alone; make test runs them too.
test-versions: deps
	$(Q)$(MAKE) --no-print-directory all tests
	$(Q)./tests/run.sh tests/versions

tests: $(TEST_BINS) $(BENCH_BINS)

bench: deps
	$(Q)$(MAKE) --no-print-directory all tests
	$(Q)./bench/run.sh

$(OUTPUT) $(OUTPUT)/user $(OUTPUT)/tests $(OUTPUT)/bench:
	$(Q)mkdir -p $@

$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c bpf/alerttrace.h $(wildcard bpf/*.h) $(OUTPUT)/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

USER_HDRS := $(foreach d,$(USER_DIRS),$(wildcard $(d)/*.h))
$(OUTPUT)/user/%.o: user/%.c $(USER_HDRS) bpf/alerttrace.h $(SKELS) | $(OUTPUT)/user
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUTPUT)/st_peer: user/peer/st_peer.c user/selftest_peers.h bpf/alerttrace.h | $(OUTPUT)
	$(call msg,PEER,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@
# Offline, its build cache in $(OUTPUT) (about 25 s the first time, the standard library).
$(OUTPUT)/st_go_peer: user/peer/go_peer/main.go | $(OUTPUT)
	$(call msg,GO-PEER,$@)
	$(Q)cd user/peer/go_peer && env -u GOFLAGS -u GOROOT GOCACHE=$(abspath $(OUTPUT))/gocache \
		GOPATH=$(abspath $(OUTPUT))/gopath GOPROXY=off GOTOOLCHAIN=local GOTELEMETRY=off \
		CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o $(abspath $@) main.go
# Symbols _binary_NAME_start/_end: named after the input file, hence the cd.
$(OUTPUT)/%_blob.o: $(OUTPUT)/%
	$(call msg,BLOB,$@)
	$(Q)cd $(OUTPUT) && $(LD) -r -b binary -z noexecstack $* -o $(notdir $@)

alerttrace: $(USER_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

# One binary that needs nothing on the target host: libbpf, libelf, zlib, zstd, capstone, libevent
# (the /metrics server) and the C library linked in; the same objects as ./alerttrace. The linker's
# warnings that getaddrinfo and getservbyname need glibc's shared libraries at run time are about
# libevent functions alerttrace never calls: it binds numeric addresses itself.
static: deps
	$(Q)$(MAKE) --no-print-directory alerttrace-static
alerttrace-static: $(USER_OBJS)
	$(call msg,STATIC,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(STATIC_LIBS) -o $@

$(OUTPUT)/tests/%: tests/%.c $(LIB_OBJS) $(SKELS) $(wildcard tests/*.h) | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(LIB_OBJS) $(LIBS) -o $@

# The differential fuzzer of the TC classifier: its generator and reference model (tests/fuzz/)
# are sources of their own; it needs only libbpf and the classifier's skeleton.
TC_FUZZ_SRCS := tests/fuzz/tcgen.c tests/fuzz/tcref.c
$(OUTPUT)/tests/test_tc_fuzz: tests/test_tc_fuzz.c $(TC_FUZZ_SRCS) $(wildcard tests/fuzz/*.h) \
		tests/testlib.h tests/tc_run.h $(OUTPUT)/tc.skel.h | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(TC_FUZZ_SRCS) $(LIBS) -o $@

$(OUTPUT)/bench/%: bench/%.c $(LIB_OBJS) $(SKELS) | $(OUTPUT)/bench
	$(call msg,BENCH,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(LIB_OBJS) $(LIBS) -o $@

# make install [PREFIX=/usr/local] [DESTDIR=]: the binary, alerttrace(8), the systemd unit (its
# ExecStart names $(SBINDIR)), the system user it runs as (sysusers.d) and bash completion.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MAN8DIR ?= $(PREFIX)/share/man/man8
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
INSTALLED := $(SBINDIR)/alerttrace $(MAN8DIR)/alerttrace.8 $(UNITDIR)/alerttrace.service \
	     $(SYSUSERSDIR)/alerttrace.conf $(BASHCOMPDIR)/alerttrace

install: alerttrace
	$(Q)install -d $(addprefix $(DESTDIR),$(SBINDIR) $(MAN8DIR) $(UNITDIR) $(SYSUSERSDIR) $(BASHCOMPDIR))
	$(call msg,INSTALL,$(DESTDIR)$(SBINDIR)/alerttrace)
	$(Q)install -m 0755 alerttrace $(DESTDIR)$(SBINDIR)/alerttrace
	$(Q)install -m 0644 doc/alerttrace.8 $(DESTDIR)$(MAN8DIR)/alerttrace.8
	$(Q)sed 's|@SBINDIR@|$(SBINDIR)|g' dist/alerttrace.service >$(DESTDIR)$(UNITDIR)/alerttrace.service
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/alerttrace.service
	$(Q)install -m 0644 dist/alerttrace.sysusers $(DESTDIR)$(SYSUSERSDIR)/alerttrace.conf
	$(Q)install -m 0644 dist/alerttrace.bash-completion $(DESTDIR)$(BASHCOMPDIR)/alerttrace

# The files install wrote; the directories stay (they may hold others' files).
uninstall:
	$(call msg,REMOVE,$(addprefix $(DESTDIR),$(INSTALLED)))
	$(Q)rm -f $(addprefix $(DESTDIR),$(INSTALLED))

# Hardening: libFuzzer targets (tests/fuzz/fuzz_*.c) on the user/ objects built with clang's
# coverage, ASan and UBSan into a directory of their own; tests/t_fuzz.sh runs them.
FUZZ_OUT := .output-fuzz
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS = -g -O1 $(SAN_FLAGS) $(filter-out -g -O2,$(CFLAGS))
FUZZ_OBJS := $(patsubst user/%.c,$(FUZZ_OUT)/user/%.o,$(filter-out user/main.c,$(USER_SRCS)))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(FUZZ_OUT)/%,$(wildcard tests/fuzz/fuzz_*.c))

$(FUZZ_OUT)/user/%.o: user/%.c $(USER_HDRS) bpf/alerttrace.h $(SKELS)
	$(Q)mkdir -p $(@D)
	$(call msg,CC-FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
# The CLI target turns the parser's exits into returns (see tests/fuzz/fuzz_cli.c).
$(FUZZ_OUT)/fuzz_cli: FUZZ_LDFLAGS = -Wl,--wrap=exit -Wl,--wrap=argp_parse
$(FUZZ_OUT)/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(FUZZ_OBJS) $(PEER_BLOB)
	$(call msg,FUZZER,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Itests/fuzz $< $(FUZZ_OBJS) $(PEER_BLOB) \
		$(LIBS) $(FUZZ_LDFLAGS) -o $@

fuzz-build: $(FUZZ_BINS)
# make test builds them too (here: a rule's prerequisites are expanded where it is read).
tests: $(FUZZ_BINS)

# Longer runs: the differential fuzzer FUZZ_SECONDS (default 600) and each libFuzzer target
# FUZZ_TIME seconds (default 120); run directly, not through tests/run.sh, which stops a test
# after 900 s.
fuzz: deps
	$(Q)$(MAKE) --no-print-directory all $(OUTPUT)/tests/test_tc_fuzz fuzz-build
	$(Q)FUZZ_SECONDS=$${FUZZ_SECONDS:-600} $(OUTPUT)/tests/test_tc_fuzz
	$(Q)FUZZ_TIME=$${FUZZ_TIME:-120} bash tests/t_fuzz.sh

# make sanitize: the loader (alerttrace-san) and the C tests built with ASan and UBSan into
# .output-san/, the C tests run under them, then a real tracer run (tests/sanitize.sh).
SAN_OUT := .output-san
SAN_CFLAGS = -g -O1 $(SAN_FLAGS) $(filter-out -g -O2,$(CFLAGS))
SAN_OBJS := $(patsubst user/%.c,$(SAN_OUT)/user/%.o,$(USER_SRCS))
SAN_LIB_OBJS := $(filter-out $(SAN_OUT)/user/main.o,$(SAN_OBJS)) $(PEER_BLOB)
SAN_TESTS := $(patsubst tests/%.c,$(SAN_OUT)/tests/%,$(TEST_SRCS))

$(SAN_OUT)/user/%.o: user/%.c $(USER_HDRS) bpf/alerttrace.h $(SKELS)
	$(Q)mkdir -p $(@D)
	$(call msg,CC-SAN,$@)
	$(Q)$(CC) $(SAN_CFLAGS) -c $< -o $@
alerttrace-san: $(SAN_OBJS) $(PEER_BLOB)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(SAN_CFLAGS) $^ $(LIBS) -o $@
$(SAN_OUT)/tests/test_tc_fuzz: tests/test_tc_fuzz.c $(TC_FUZZ_SRCS) $(wildcard tests/fuzz/*.h) \
		tests/testlib.h tests/tc_run.h $(OUTPUT)/tc.skel.h
	$(Q)mkdir -p $(@D)
	$(call msg,TEST-SAN,$@)
	$(Q)$(CC) $(SAN_CFLAGS) -Itests $< $(TC_FUZZ_SRCS) $(LIBS) -o $@
$(SAN_OUT)/tests/%: tests/%.c $(SAN_LIB_OBJS) $(wildcard tests/*.h)
	$(Q)mkdir -p $(@D)
	$(call msg,TEST-SAN,$@)
	$(Q)$(CC) $(SAN_CFLAGS) -Itests $< $(SAN_LIB_OBJS) $(LIBS) -o $@

sanitize: deps
	$(Q)$(MAKE) --no-print-directory all tests alerttrace-static alerttrace-san $(SAN_TESTS)
	$(Q)./tests/sanitize.sh

format:
	clang-format -i bpf/*.c bpf/*.h $(USER_SRCS) $(USER_HDRS) tests/*.c

lint:
	cppcheck -q --enable=warning,performance --inline-suppr -Ibpf $(addprefix -I,$(USER_DIRS)) -I$(OUTPUT) user tests

clean:
	rm -rf $(OUTPUT) $(FUZZ_OUT) $(SAN_OUT) alerttrace alerttrace-static alerttrace-san
