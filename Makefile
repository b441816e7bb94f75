# oktacred: build, test, install. `make help` lists the targets.
VERSION   := 0.1.0
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec
MANDIR    ?= $(PREFIX)/share/man
DATADIR   ?= $(PREFIX)/share
SYSTEMDUSERDIR ?= $(PREFIX)/lib/systemd/user
DESTDIR   ?=
CC        ?= cc
PKG_CONFIG ?= pkg-config

# Compiled against every library, linked only with those that every command needs. The
# others are dlopen()ed on first use by their one module (http.c, assertion.c, qr.c,
# keyring.c, sts.c: see include/oktacred/dl.h), so that a command served from the cache
# maps none of them. The packages in packaging/ still depend on them.
LINK_PKGS   :=
DLOPEN_PKGS := libcurl libcrypto libqrencode libsecret-1 libxml-2.0
PKG_CFLAGS  := $(shell $(PKG_CONFIG) --cflags $(LINK_PKGS) $(DLOPEN_PKGS) 2>/dev/null)
PKG_LIBS    := $(shell $(PKG_CONFIG) --libs $(LINK_PKGS) 2>/dev/null)

# WERROR= turns warnings back into warnings (distribution builds with newer compilers).
WERROR    ?= -Werror
WARN      := -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 $(WERROR)
CFLAGS    ?= -O2 -g
# "override": a CFLAGS/LDFLAGS given on the command line (dpkg, rpmbuild) adds to these.
override CFLAGS   += -std=c11 $(WARN) -fstack-protector-strong -pthread
override CPPFLAGS += -D_POSIX_C_SOURCE=200809L -D_FORTIFY_SOURCE=2 \
                     -DOKTACRED_VERSION='"$(VERSION)"' -Iinclude $(PKG_CFLAGS)
override LDFLAGS  += -Wl,-z,relro,-z,now
# -ldl: dlopen() for glibc before 2.34 (since then it is in libc and libdl.a is empty).
override LDLIBS   += $(PKG_LIBS) -ldl -pthread

B         := build
LIB_SRCS  := $(filter-out src/cmd/main.c,$(wildcard src/*.c src/*/*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(B)/%.o)
MAIN_OBJ  := $(B)/src/cmd/main.o
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(B)/%.o)
DEPFILES  := $(LIB_OBJS:.o=.d) $(MAIN_OBJ:.o=.d) $(UNIT_OBJS:.o=.d)

.PHONY: all deps deps-if-missing check check-secrets unit integration demo lint banned-check format \
        install uninstall clean help

all: oktacred docs

# Two programs from the same sources (docs/DESIGN.md, "The front and the full binary"):
# ./oktacred, the front, static (FRONT_LDFLAGS) and without dlopen(), serves a valid cache
# and execs $(B)/oktacred-full, the full dynamic program, for everything else. Only main.c
# and dl.c are compiled a second time for it (-DOKTACRED_FRONT); its dl.o comes before the
# library, so the library's own is never linked in. FRONT_LDFLAGS=-static for a non-PIE one.
# Where the front looks for the full program last (after OKTACRED_FULL, BINDIR/../libexec/
# oktacred/oktacred and build/oktacred-full next to it): where `make install` puts it.
# Elsewhere than Linux (no static libc, no /proc/self/exe) ./oktacred is the full program.
# -z pack-relative-relocs (DT_RELR, binutils 2.38 and glibc 2.36): the static-pie's own
# relocations in 500 bytes instead of 50 KB, a quarter fewer instructions to apply them.
RELR_FLAG := $(shell printf 'int main(void){return 0;}' | $(CC) -x c - -static-pie \
               -Wl,-z,pack-relative-relocs -o /dev/null 2>/dev/null && echo -Wl,-z,pack-relative-relocs)
FRONT_LDFLAGS ?= -static-pie $(RELR_FLAG)
FRONT_OBJS := $(B)/front/src/cmd/main.o $(B)/front/src/lib/dl.o
DEPFILES   += $(FRONT_OBJS:.o=.d)

ifeq ($(shell uname -s),Linux)
FRONT := yes
oktacred: $(FRONT_OBJS) $(B)/liboktacred.a | $(B)/oktacred-full
	$(CC) $(CFLAGS) $(LDFLAGS) $(FRONT_LDFLAGS) -o $@ $^ -pthread
else
oktacred: $(B)/oktacred-full
	cp $< $@
endif

$(B)/oktacred-full: $(MAIN_OBJ) $(B)/liboktacred.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/front/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DOKTACRED_FRONT -DOKTACRED_FULL_PATH='"$(LIBEXECDIR)/oktacred/oktacred"' \
		$(CFLAGS) -MMD -MP -c -o $@ $<

$(B)/liboktacred.a: $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(B)/unit-tests: $(UNIT_OBJS) $(B)/liboktacred.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(shell $(PKG_CONFIG) --libs criterion libcrypto)

-include $(DEPFILES)

# Man pages and shell completions: their build and install rules.
include mk/docs.mk
include mk/dist.mk
include mk/bench.mk
include mk/fuzz.mk mk/sanitize.mk

# Installs the build and test dependencies (apt on Debian/Ubuntu; prints the dnf and
# brew lines elsewhere).
deps:
	scripts/deps.sh

deps-if-missing:
	@scripts/deps.sh --if-missing

check: deps-if-missing
	$(MAKE) oktacred $(B)/unit-tests
	$(MAKE) unit integration

unit: $(B)/unit-tests
	$(B)/unit-tests --jobs 2

integration: oktacred
	scripts/test-integration.sh

# The integration suite again with --debug -v added to every oktacred run, every byte it
# writes captured and scanned for secrets (tests/integration/secretscan.py); two shards.
check-secrets: oktacred
	OKTACRED_TEST_DEBUG=1 tests/sanitize/run-shards.sh 2 $(B)/secrets

demo: deps-if-missing
	$(MAKE) oktacred
	scripts/demo.sh

FORMAT_FILES = $(wildcard src/*.c src/*/*.c include/oktacred/*.h tests/unit/*.c)

lint:
	clang-format --dry-run -Werror $(FORMAT_FILES)
	scripts/check-layers.sh
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--suppress=missingIncludeSystem --inline-suppr -Iinclude \
		-D_POSIX_C_SOURCE=200809L -DOKTACRED_VERSION='"$(VERSION)"' src
	@# Banned functions (strcpy, sprintf, ...) are compile errors: include/oktacred/banned.h.
	@$(MAKE) --no-print-directory banned-check

# Proves that banned.h still bites (a call to strcpy or sprintf must not compile) and that
# every source file reaches it (through util.h or err.h, or directly).
BANNED_CALLS := 'strcpy(d, s)' 'sprintf(d, "%s", s)' 'strncpy(d, s, 1)' 'gmtime(0)'
banned-check:
	@for call in $(BANNED_CALLS); do \
		printf '#include "oktacred/util.h"\nvoid f(char *d, const char *s);\nvoid f(char *d, const char *s) { (void)%s; }\n' "$$call" | \
		$(CC) $(CPPFLAGS) -std=c11 -fsyntax-only -x c - 2>/dev/null && \
		{ echo "banned.h does not reject $$call"; exit 1; }; \
	done; \
	for f in $(LIB_SRCS) src/cmd/main.c; do \
		$(CC) $(CPPFLAGS) -MM $$f | grep -q 'oktacred/banned\.h' || \
		{ echo "$$f does not include oktacred/banned.h"; exit 1; }; \
	done; true

format:
	clang-format -i $(FORMAT_FILES)

install: oktacred install-docs
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSTEMDUSERDIR)
	install -m 0755 oktacred $(DESTDIR)$(BINDIR)/oktacred
ifeq ($(FRONT),yes)
	install -d $(DESTDIR)$(LIBEXECDIR)/oktacred
	install -m 0755 $(B)/oktacred-full $(DESTDIR)$(LIBEXECDIR)/oktacred/oktacred
endif
	sed 's|@BINDIR@|$(BINDIR)|g' packaging/systemd/oktacred-refresh.service.in \
		> $(DESTDIR)$(SYSTEMDUSERDIR)/oktacred-refresh.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUSERDIR)/oktacred-refresh.service
	install -m 0644 packaging/systemd/oktacred-refresh.timer $(DESTDIR)$(SYSTEMDUSERDIR)/

uninstall: uninstall-docs
	rm -f $(DESTDIR)$(BINDIR)/oktacred $(DESTDIR)$(LIBEXECDIR)/oktacred/oktacred
	-rmdir $(DESTDIR)$(LIBEXECDIR)/oktacred
	rm -f $(DESTDIR)$(SYSTEMDUSERDIR)/oktacred-refresh.service \
		$(DESTDIR)$(SYSTEMDUSERDIR)/oktacred-refresh.timer

clean:
	rm -rf $(B) oktacred

help:
	@echo 'make            build ./oktacred'
	@echo 'make check      install missing dependencies (as root), build, run every test'
	@echo 'make demo       log in against the bundled local identity provider'
	@echo '                (DEMO_FLOW=browser: through the browser flow; DEMO_MANUAL=1: by hand)'
	@echo 'make deps       install the build and test dependencies'
	@echo 'make lint       clang-format check, cppcheck, banned functions'
	@echo 'make install    install under PREFIX ($(PREFIX)), honouring DESTDIR'
