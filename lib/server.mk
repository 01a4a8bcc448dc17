# Event loop, privilege drop and the server skeletons.
lib_libposthorn_a_SOURCES += \
	lib/event.c lib/event.h lib/privs.c lib/privs.h lib/skeleton.c lib/skeleton.h
