# local build rules
