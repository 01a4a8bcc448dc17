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

# The set-group-id commands: postdrop writes maildrop/ and postqueue reads
# public/showq for any user, through group setgid_group (created by
# scripts/deps; packages create it too).  Installing as non-root (a staged
# DESTDIR install) cannot set the group: say what to run instead.
# mailq and newaliases are names of sendmail, where users look for them.
SETGID_GROUP = posthorndrop
install-exec-hook: install-setgid-commands install-sendmail-names
install-setgid-commands:
	@for f in postdrop postqueue; do \
	  p=$(DESTDIR)$(sbindir)/$$f; \
	  test -f $$p || continue; \
	  if chgrp $(SETGID_GROUP) $$p 2>/dev/null && chmod 2755 $$p; then \
	    echo " chgrp $(SETGID_GROUP) $$p && chmod 2755 $$p"; \
	  else \
	    echo "warning: could not make $$p set-group-id $(SETGID_GROUP);" \
	         "as root run: chgrp $(SETGID_GROUP) $$p && chmod 2755 $$p"; \
	  fi; \
	done
install-sendmail-names:
	$(MKDIR_P) $(DESTDIR)$(bindir)
	cd $(DESTDIR)$(bindir) && for n in mailq newaliases; do \
	  rm -f $$n && $(LN_S) $(sbindir)/sendmail $$n; \
	done
# man mailq and man newaliases show sendmail(1), which documents them.
install-data-hook:
	$(MKDIR_P) $(DESTDIR)$(man1dir)
	cd $(DESTDIR)$(man1dir) && for n in mailq newaliases; do \
	  rm -f $$n.1 && $(LN_S) sendmail.1 $$n.1; \
	done
uninstall-hook:
	rm -f $(DESTDIR)$(bindir)/mailq $(DESTDIR)$(bindir)/newaliases
	rm -f $(DESTDIR)$(man1dir)/mailq.1 $(DESTDIR)$(man1dir)/newaliases.1
.PHONY: install-setgid-commands install-sendmail-names
