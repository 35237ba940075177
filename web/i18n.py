"""The translation hook: every user-facing string of the web layer passes through `gettext`.

Modules import it as `_` (`from web.i18n import gettext as _`), the usual gettext idiom; templates
get it as `_` too. It is a passthrough until a message catalog exists.
"""

from __future__ import annotations

from typing import Any


def gettext(text: str, **params: Any) -> str:
    """Return `text` translated (a passthrough until a catalog exists), `%(name)s` filled in."""
    return text % params if params else text
