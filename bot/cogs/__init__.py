"""Slash-command cogs: thin layers that parse arguments, call the core and render a view."""
