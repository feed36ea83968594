"""Request options for clients whose library reads a whole answer at once (tweepy, and our
own small oEmbed reads): ask for the answer uncompressed and never inflate it.

aiohttp inflates a gzip body while reading it, so a few hundred KB from a proxy or an impostor
can expand to gigabytes before the library gets to look at it. These APIs answer small JSON;
without compression such a body stays small and simply fails to decode as text.
"""

from __future__ import annotations

from typing import Any

IDENTITY = {"Accept-Encoding": "identity"}
UNCOMPRESSED: dict[str, Any] = {"auto_decompress": False, "headers": IDENTITY}
