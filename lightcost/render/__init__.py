"""Rendering: every output format of every command, as strings (only ``cli`` prints)."""
