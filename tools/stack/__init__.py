"""The local multi-process stack (``python -m tools.stack``; see __main__.py for its commands)."""
