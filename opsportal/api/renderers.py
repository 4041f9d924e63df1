"""Renderers that cannot fail on stored text (issue #10), encoding JSON with orjson (issue #18).

The JSON renderer writes exactly the bytes DRF's renderer writes (compact, UTF-8, U+2028/U+2029
escaped, dates as DRF's encoder writes them) with orjson, 4 to 10 times faster than the `json` module; what
orjson cannot encode (an integer beyond 64 bits, a lone surrogate) and indented output take DRF's path.

Text with a lone UTF-16 surrogate has no UTF-8 form, so DRF's renderers raise `UnicodeEncodeError`
on it, and one such row written before the input limits (`opsportal.limits`) made every list that
showed it answer 500. These renderers draw it with U+FFFD instead; `manage.py check_integrity`
finds and repairs the rows themselves (invariant `text`).
"""

from __future__ import annotations

from typing import Any

import orjson
from rest_framework import renderers
from rest_framework.utils.encoders import JSONEncoder

from opsportal.limits import replace_bad_text, replace_lone_surrogates

# Whatever orjson does not know natively (lazy translations, Decimal, timedelta…) as DRF's encoder has it.
_default = JSONEncoder().default
# Aware datetimes in UTC end in `Z`, as DRF's encoder writes them; keys that are not strings become strings.
ORJSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS
_LINE_SEPARATOR, _PARAGRAPH_SEPARATOR = "\u2028".encode(), "\u2029".encode()


def dumps(data: Any) -> bytes:
    """`data` as compact JSON, byte for byte what DRF's JSON renderer writes (see the module)."""
    try:
        body = orjson.dumps(data, default=_default, option=ORJSON_OPTIONS)
    except orjson.JSONEncodeError:
        return JSONRenderer().stdlib_render(data)
    # DRF escapes these two (JSON allows them raw, JavaScript string literals did not).
    if _LINE_SEPARATOR in body:
        body = body.replace(_LINE_SEPARATOR, b"\\u2028")
    if _PARAGRAPH_SEPARATOR in body:
        body = body.replace(_PARAGRAPH_SEPARATOR, b"\\u2029")
    return body


class JSONRenderer(renderers.JSONRenderer):
    """JSON with orjson (DRF's bytes); data holding a lone surrogate is rendered with U+FFFD in its place."""

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if data is None:
            return b""
        if self.get_indent(accepted_media_type, renderer_context or {}) is None:
            return dumps(data)
        return self.stdlib_render(data, accepted_media_type, renderer_context)

    def stdlib_render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        """DRF's own rendering (the `json` module): indented output, and what orjson refuses."""
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            # Rare (only rows stored before the limits): the cost of a second pass is paid only then.
            return super().render(replace_bad_text(data, nul=False), accepted_media_type, renderer_context)


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's browsable API (HTML), drawing a lone surrogate anywhere on the page as U+FFFD."""

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        page = super().render(data, accepted_media_type, renderer_context)
        # Bytes, so that DRF does not encode the page again (strictly, which is what failed).
        return replace_lone_surrogates(page).encode(self.charset or "utf-8")
