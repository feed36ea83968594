"""The static web archive: a page per day and per category, Atom and JSON feeds."""
