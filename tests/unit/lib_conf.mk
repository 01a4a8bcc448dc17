# unit tests (lib_conf)
