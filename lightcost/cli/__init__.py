"""The command-line interface: thin glue over the Python API."""
