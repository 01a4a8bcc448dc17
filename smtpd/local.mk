# smtpd build rules: the SMTP server (event-driven, one process serves many
# sessions), its pure protocol module and its unit tests.
pkglibexec_PROGRAMS += smtpd/smtpd
smtpd_smtpd_SOURCES = smtpd/smtpd.c smtpd/smtp_proto.c smtpd/smtp_proto.h \
	smtpd/smtpd_check.c smtpd/smtpd_check.h

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_mail_addr tests/unit/test_smtp_proto
TESTS += tests/unit/test_mail_addr tests/unit/test_smtp_proto
tests_unit_test_mail_addr_SOURCES = tests/unit/test_mail_addr.c
tests_unit_test_mail_addr_LDADD = $(CMOCKA_LIBS) $(LDADD)
tests_unit_test_mail_addr_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_smtp_proto_SOURCES = tests/unit/test_smtp_proto.c smtpd/smtp_proto.c \
	smtpd/smtpd_check.c
tests_unit_test_smtp_proto_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/smtpd
tests_unit_test_smtp_proto_LDADD = $(CMOCKA_LIBS) $(LDADD)
tests_unit_test_smtp_proto_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
endif
