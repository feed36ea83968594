"""Render: the daily Markdown post (Jinja2), TeX in titles, and the charts as PNGs; pure
apart from reading templates. It may import ranking, arxiv, storage, plumbing and the
base modules.
"""

from hotpapers.render.markdown import post_filename, render_post, select_embeds

__all__ = ["post_filename", "render_post", "select_embeds"]
