# Configuration, master.cf, match lists and lookup tables.
lib_libposthorn_a_SOURCES += \
	lib/params.c lib/params.h lib/params_table.c lib/config_trust.c lib/master_cf.c lib/master_cf.h \
	lib/match_list.c lib/match_list.h lib/table.c lib/table.h
