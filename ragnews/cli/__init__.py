"""The ``ask`` and ``ragnews`` commands, and how a result is shown."""
