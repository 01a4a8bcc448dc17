# conf build rules: the default main.cf and master.cf of a system install.
# They are installed into $(sysconfdir)/posthorn only when absent, so an
# upgrade never overwrites an administrator's configuration.
EXTRA_DIST += conf/main.cf conf/master.cf
posthorn_confdir = $(sysconfdir)/posthorn

install-data-local: install-conf-files
install-conf-files:
	$(MKDIR_P) $(DESTDIR)$(posthorn_confdir)
	@for f in main.cf master.cf; do \
	  if test -f $(DESTDIR)$(posthorn_confdir)/$$f; then \
	    echo "keeping existing $(posthorn_confdir)/$$f"; \
	  else \
	    echo " $(INSTALL_DATA) $(srcdir)/conf/$$f $(DESTDIR)$(posthorn_confdir)/$$f"; \
	    $(INSTALL_DATA) $(srcdir)/conf/$$f $(DESTDIR)$(posthorn_confdir)/$$f || exit 1; \
	  fi; \
	done
.PHONY: install-conf-files

# Uninstall removes a configuration file only while it is still the one we
# shipped: an administrator's edits are never thrown away.
uninstall-local: uninstall-conf-files
uninstall-conf-files:
	@for f in main.cf master.cf; do \
	  if cmp -s $(srcdir)/conf/$$f $(DESTDIR)$(posthorn_confdir)/$$f; then \
	    echo " rm -f $(DESTDIR)$(posthorn_confdir)/$$f"; \
	    rm -f $(DESTDIR)$(posthorn_confdir)/$$f; \
	  elif test -f $(DESTDIR)$(posthorn_confdir)/$$f; then \
	    echo "keeping modified $(posthorn_confdir)/$$f"; \
	  fi; \
	done
.PHONY: uninstall-conf-files
