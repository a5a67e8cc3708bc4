"""The sandbox behind ``make demo``: both stacks deployed into an in-process AWS (moto) and the
pipeline run end to end. See ``docs/sandbox.md``. Nothing in the program or the components
knows about it: it drives the real ``__main__.py`` through Pulumi mocks.
"""
