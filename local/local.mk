# local build rules
pkglibexec_PROGRAMS += local/local
local_local_SOURCES = local/local.c local/local.h local/local_service.c local/local_resolve.c \
	local/local_deliver.c local/local_util.c local/local_util.h local/local_parse.c \
	local/local_parse.h local/local_command.c local/local_forward.c

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_local_util
TESTS += tests/unit/test_local_util
tests_unit_test_local_util_SOURCES = tests/unit/test_local_util.c \
	local/local_util.c local/local_util.h
tests_unit_test_local_util_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/local $(CMOCKA_CFLAGS)
tests_unit_test_local_util_LDADD = $(CMOCKA_LIBS) $(LDADD)

check_PROGRAMS += tests/unit/test_local_parse
TESTS += tests/unit/test_local_parse
tests_unit_test_local_parse_SOURCES = tests/unit/test_local_parse.c \
	local/local_parse.c local/local_parse.h local/local_util.c local/local_util.h
tests_unit_test_local_parse_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/local $(CMOCKA_CFLAGS)
tests_unit_test_local_parse_LDADD = $(CMOCKA_LIBS) $(LDADD)
endif
