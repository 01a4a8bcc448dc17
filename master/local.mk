# master build rules
