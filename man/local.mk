# man build rules: the hand-written pages, and posthorn.conf(5), which is
# generated at build time from the parameter table (lib/params_table.c) by
# man/mkparamdoc so the reference always matches the code.
dist_man_MANS += man/posthorn.1 man/postalias.1 man/postmap.1 man/postconf.1 man/aliases.5 man/master.cf.5 \
	man/sendmail.1 man/postdrop.1 man/postqueue.1 man/postsuper.1 man/postcat.1 \
	man/master.8 man/smtpd.8 man/cleanup.8 man/qmgr.8 man/local.8 \
	man/smtp.8 man/bounce.8 man/pickup.8 man/showq.8 man/flush.8

noinst_PROGRAMS += man/mkparamdoc
man_mkparamdoc_SOURCES = man/mkparamdoc.c

nodist_man_MANS = man/posthorn.conf.5
CLEANFILES += man/posthorn.conf.5

man/posthorn.conf.5: man/mkparamdoc$(EXEEXT)
	$(AM_V_GEN)$(MKDIR_P) man && \
	man/mkparamdoc$(EXEEXT) > $@.tmp && mv -f $@.tmp $@
