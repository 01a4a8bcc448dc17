# postalias: builds, queries and dumps Berkeley DB alias tables.
sbin_PROGRAMS += postalias/postalias
postalias_postalias_SOURCES = postalias/postalias.c
