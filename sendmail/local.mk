# sendmail build rules: the sendmail command (also mailq and newaliases by
# its name), linked with smtpd's protocol module for -bs and qmgr's
# resolver for -bv.  Owned by the sendmail engineer.
sbin_PROGRAMS += sendmail/sendmail
sendmail_sendmail_SOURCES = sendmail/sendmail.c sendmail/sendmail.h sendmail/sendmail_opts.c \
	sendmail/sendmail_msg.c sendmail/sendmail_submit.c sendmail/sendmail_smtp.c \
	sendmail/sendmail_verify.c smtpd/smtp_proto.c smtpd/smtp_proto.h qmgr/qmgr_resolve.c \
	qmgr/qmgr_resolve.h
sendmail_sendmail_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/smtpd -I$(top_srcdir)/qmgr

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_sendmail
TESTS += tests/unit/test_sendmail
tests_unit_test_sendmail_SOURCES = tests/unit/test_sendmail.c sendmail/sendmail_opts.c \
	sendmail/sendmail_msg.c sendmail/sendmail_submit.c sendmail/sendmail_smtp.c \
	sendmail/sendmail_verify.c smtpd/smtp_proto.c qmgr/qmgr_resolve.c
tests_unit_test_sendmail_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/sendmail \
	-I$(top_srcdir)/smtpd -I$(top_srcdir)/qmgr
tests_unit_test_sendmail_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_sendmail_LDADD = $(CMOCKA_LIBS) $(LDADD)
endif
