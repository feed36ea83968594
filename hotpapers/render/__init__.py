"""Rendering of the daily Hot Papers post."""

from hotpapers.render.markdown import post_filename, render_post, select_embeds

__all__ = ["post_filename", "render_post", "select_embeds"]
