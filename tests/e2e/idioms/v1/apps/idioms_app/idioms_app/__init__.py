"""idioms_app: ordinary Python idioms that a hot upgrade must swap whole (issue 22).

Every module that version 2 changes (tests/e2e/idioms/v2/) defines code answering "v1" here
and "v2" there; the modules that hold that code (a from-import, a list, a server's state, ...)
are the same in both versions. tests/e2e/idioms/probe.py asks every idiom inside the node.
"""
