# unit tests (lib_server)
