# smtp build rules: the SMTP/LMTP delivery agent and its unit tests.
pkglibexec_PROGRAMS += smtp/smtp
smtp_smtp_SOURCES = smtp/smtp.c smtp/smtp.h smtp/smtp_service.c smtp/smtp_nexthop.c \
	smtp/smtp_connect.c smtp/smtp_proto.c smtp/smtp_cache.c

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_smtp_reply tests/unit/test_dns tests/unit/test_smtp_nexthop
TESTS += tests/unit/test_smtp_reply tests/unit/test_dns tests/unit/test_smtp_nexthop
tests_unit_test_smtp_reply_SOURCES = tests/unit/test_smtp_reply.c
tests_unit_test_smtp_reply_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_smtp_reply_LDADD = $(CMOCKA_LIBS) $(LDADD)
tests_unit_test_dns_SOURCES = tests/unit/test_dns.c
tests_unit_test_dns_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_dns_LDADD = $(CMOCKA_LIBS) $(LDADD)
tests_unit_test_smtp_nexthop_SOURCES = tests/unit/test_smtp_nexthop.c smtp/smtp_nexthop.c smtp/smtp.h
tests_unit_test_smtp_nexthop_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/smtp $(CMOCKA_CFLAGS)
tests_unit_test_smtp_nexthop_LDADD = $(CMOCKA_LIBS) $(LDADD)
endif
