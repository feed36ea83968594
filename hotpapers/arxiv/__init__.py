"""The arXiv adapter: identifiers, taxonomy, calendar, pure parsers and the polite client."""
