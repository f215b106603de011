"""The CrossGuard policy pack (a regular package, not a namespace one: with the project
installed in editable mode a namespace package would also take its portion from the
checkout the venv was installed from, so tools that import the pack from another copy,
such as `make lint` on tests/test_architecture.py's scratch copies, could read either)."""
