# qmgr build rules
