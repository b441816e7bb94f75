# Man pages (scdoc sources in man/) and shell completions (completions/).
#
# `make docs` (part of `make all`) turns man/NAME.scd into $(B)/man/NAME with scdoc.
# Without scdoc it prints a notice and builds nothing, so the binary still builds.
#
# MAN_TIDY cleans the roff scdoc writes so that `mandoc -Tlint` and `groff -ww` have
# nothing to say, without changing the rendered page: paragraph macros they would skip
# anyway (right after a heading, before a heading) are left out, those before the end of
# an indented block are moved after it, filled text lines are wrapped at 80 bytes, and
# hyphenation stays off after .TH (groff's man macros turn it back on there).
.PHONY: docs install-docs uninstall-docs

SCDOC      ?= scdoc
MAN_SRCS   := $(wildcard man/*.scd)
MAN_PAGES  := $(MAN_SRCS:man/%.scd=$(B)/man/%)
HAVE_SCDOC := $(shell command -v $(SCDOC) 2>/dev/null)

# Installed names of the completions, by shell.
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR  ?= $(DATADIR)/zsh/site-functions
FISHCOMPDIR ?= $(DATADIR)/fish/vendor_completions.d

MAN_TIDY = LC_ALL=C awk ' \
	function put(s, i) { \
		while (!nofill && length(s) > 80) { \
			for (i = 81; i > 1; i--) \
				if (substr(s, i, 1) == " " && substr(s, i - 1, 1) !~ /[ ?!]/) break; \
			if (i <= 1) break; \
			print substr(s, 1, i - 1); \
			s = substr(s, i + 1); \
			if (s ~ /^[.\047]/) s = "\\&" s; \
		} \
		print s; \
	} \
	/^\.TH / { print; print ".nh"; last = $$0; next } \
	/^\.P$$/ { if (last ~ /^\.(SH|SS|TH|RS|P)( |$$)/) next; pend = 1; next } \
	/^\.RE/ { print; last = $$0; next } \
	{ if (pend && $$0 !~ /^\.(SH|SS|P)( |$$)/) print ".P"; pend = 0; last = $$0 } \
	/^\.nf/ { nofill = 1 } \
	/^\.fi/ { nofill = 0 } \
	/^[.\047]/ { print; next } \
	{ put($$0) }'

ifneq ($(HAVE_SCDOC),)
docs: $(MAN_PAGES)
else
docs:
	@echo 'note: $(SCDOC) not found, man pages not built (Debian: apt-get install scdoc)'
endif

# @VERSION@ in the source is the Makefile's VERSION; scdoc dates the page from
# SOURCE_DATE_EPOCH when it is set (reproducible builds).
$(B)/man/%: man/%.scd mk/docs.mk Makefile
	@mkdir -p $(dir $@)
	@echo '$(SCDOC) < $< > $@'
	@sed 's/@VERSION@/$(VERSION)/g' $< > $@.scd && $(SCDOC) < $@.scd > $@.roff && \
		$(MAN_TIDY) $@.roff > $@.tmp && rm -f $@.scd $@.roff && mv $@.tmp $@

install-docs: docs
	install -d $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 0644 completions/oktacred.bash $(DESTDIR)$(BASHCOMPDIR)/oktacred
	install -m 0644 completions/_oktacred $(DESTDIR)$(ZSHCOMPDIR)/_oktacred
	install -m 0644 completions/oktacred.fish $(DESTDIR)$(FISHCOMPDIR)/oktacred.fish
	@set -e; for page in $(MAN_PAGES); do \
		[ -f "$$page" ] || continue; \
		sect=$${page##*.}; \
		echo "install -m 0644 $$page $(DESTDIR)$(MANDIR)/man$$sect/"; \
		install -d "$(DESTDIR)$(MANDIR)/man$$sect"; \
		install -m 0644 "$$page" "$(DESTDIR)$(MANDIR)/man$$sect/"; \
	done

uninstall-docs:
	rm -f $(DESTDIR)$(BASHCOMPDIR)/oktacred $(DESTDIR)$(ZSHCOMPDIR)/_oktacred \
		$(DESTDIR)$(FISHCOMPDIR)/oktacred.fish
	rm -f $(foreach p,$(notdir $(MAN_PAGES)),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(p)))/$(p))
