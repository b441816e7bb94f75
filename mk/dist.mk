# Release artefacts: the source tarball and the Debian package.
DIST_NAME := oktacred-$(VERSION)
DIST_TAR  := $(B)/dist/$(DIST_NAME).tar.gz

.PHONY: dist deb

# The committed tree (HEAD) under oktacred-VERSION/.
dist:
	rm -rf $(B)/dist && mkdir -p $(B)/dist
	git archive --format=tar --prefix=$(DIST_NAME)/ HEAD | gzip -n > $(DIST_TAR)
	@echo "$(DIST_TAR)"

# Builds the .deb from the dist tarball with packaging/debian, then lintian, then
# scripts/check-deb.sh (the timer is not enabled for every user; README.md is shipped).
deb: dist
	rm -rf $(B)/deb && mkdir -p $(B)/deb
	tar -xzf $(DIST_TAR) -C $(B)/deb
	cp $(DIST_TAR) $(B)/deb/oktacred_$(VERSION).orig.tar.gz
	cp -r packaging/debian $(B)/deb/$(DIST_NAME)/debian
	cd $(B)/deb/$(DIST_NAME) && dpkg-buildpackage -us -uc -b
	lintian --fail-on error $(B)/deb/oktacred_$(VERSION)-1_*.deb
	for d in $(B)/deb/oktacred_$(VERSION)-1_*.deb; do scripts/check-deb.sh "$$d" || exit 1; done
	@ls $(B)/deb/*.deb
