"""The `email` policy the parser uses: the standard library's `default`, parsing each header
value once.

`policy.default` builds a structured header object on every access: the feed parser and
`get_content_type()` re-read a part's Content-Type half a dozen times, and those re-parses
were most of the time spent parsing a message. The header objects are immutable, so the same
value's object is reused (values of up to `_CACHED_LENGTH` characters; longer ones, such as
long recipient lists, are parsed each time as before).
"""

from __future__ import annotations

import re
from email.policy import EmailPolicy
from functools import lru_cache

_CACHED_LENGTH = 1000
_LINESEP = re.compile(r"\r\n|\r|\n")


class CachingPolicy(EmailPolicy):
    def header_fetch_parse(self, name, value):
        if hasattr(value, "name"):
            return value
        value = "".join(_LINESEP.split(value))  # as EmailPolicy.header_fetch_parse does
        if len(value) > _CACHED_LENGTH:
            return self.header_factory(name, value)
        return _parsed(self.header_factory, name, value)


@lru_cache(maxsize=4096)
def _parsed(factory, name: str, value: str):
    return factory(name, value)


POLICY = CachingPolicy()
