"""The API's JSON parser: DRF's, with a nesting limit.

Python's JSON decoder recurses once per ``[``/``{``: a body of 100,000 ``[`` raised
RecursionError, a 500. Here any JSON nested deeper than ``MAX_DEPTH`` (no request of this
API comes near it) is a 400 ``parse_error`` saying so, before a view sees the data.
"""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError

#: The deepest nesting of arrays and objects a request body may have.
MAX_DEPTH = 32


def nesting_depth_exceeds(data, limit: int) -> bool:
    """True when ``data`` (parsed JSON) nests arrays/objects more than ``limit`` deep.
    Iterative, so any depth is measured without recursion."""
    stack = [(data, 1)] if isinstance(data, dict | list) else []
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class JSONParser(parsers.JSONParser):
    max_depth = MAX_DEPTH

    def parse(self, stream, media_type=None, parser_context=None):
        too_deep = f"JSON parse error - nested deeper than {self.max_depth} levels."
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(too_deep) from None
        if nesting_depth_exceeds(data, self.max_depth):
            raise ParseError(too_deep)
        return data
