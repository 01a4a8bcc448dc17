# master build rules: the supervisor daemon, installed in daemon_directory.
pkglibexec_PROGRAMS += master/master
master_master_SOURCES = master/master.c master/master.h master/master_listen.c \
	master/master_service.c master/master_spawn.c
master_master_LDADD = $(LDADD)
