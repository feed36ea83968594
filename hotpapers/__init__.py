"""hotpapers: which new arXiv papers people are actually talking about."""

__version__ = "0.1.0"
