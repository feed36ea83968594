"""Publishing: writing the post to disk (and, elsewhere, to other destinations)."""

from hotpapers.publish.files import write_post

__all__ = ["write_post"]
