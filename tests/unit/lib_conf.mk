# unit tests (lib_conf): main.cf parameters and expansion, master.cf,
# match lists and lookup tables (including a Berkeley DB round trip).
if HAVE_CMOCKA
lib_conf_tests = tests/unit/test_params tests/unit/test_master_cf \
	tests/unit/test_match_list tests/unit/test_table
check_PROGRAMS += $(lib_conf_tests)
TESTS += $(lib_conf_tests)
tests_unit_test_params_SOURCES = tests/unit/test_params.c
tests_unit_test_params_CPPFLAGS = $(AM_CPPFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_params_LDADD = $(CMOCKA_LIBS) $(LDADD)
tests_unit_test_master_cf_SOURCES = tests/unit/test_master_cf.c
tests_unit_test_master_cf_CPPFLAGS = $(AM_CPPFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_master_cf_LDADD = $(CMOCKA_LIBS) $(LDADD)
tests_unit_test_match_list_SOURCES = tests/unit/test_match_list.c
tests_unit_test_match_list_CPPFLAGS = $(AM_CPPFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_match_list_LDADD = $(CMOCKA_LIBS) $(LDADD)
tests_unit_test_table_SOURCES = tests/unit/test_table.c
tests_unit_test_table_CPPFLAGS = $(AM_CPPFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_table_LDADD = $(CMOCKA_LIBS) $(LDADD)
endif
