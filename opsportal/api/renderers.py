"""Renderers that cannot fail on stored text (issue #10).

Text with a lone UTF-16 surrogate has no UTF-8 form, so DRF's renderers raise `UnicodeEncodeError`
on it, and one such row written before the input limits (`opsportal.limits`) made every list that
showed it answer 500. These renderers draw it with U+FFFD instead; `manage.py check_integrity`
finds and repairs the rows themselves (invariant `text`).
"""

from __future__ import annotations

from typing import Any

from rest_framework import renderers

from opsportal.limits import replace_bad_text, replace_lone_surrogates


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON renderer; data holding a lone surrogate is rendered with U+FFFD in its place."""

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
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
