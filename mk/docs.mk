# Man pages (scdoc sources in man/) and shell completions (completions/).
.PHONY: docs install-docs uninstall-docs
docs:
install-docs:
uninstall-docs:
