# unit tests (lib_core)
