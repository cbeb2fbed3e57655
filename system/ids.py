"""Identifiers for rows the app creates (TEXT primary keys)."""

import secrets


def new_id(prefix: str, hex_chars: int = 12) -> str:
    """``<prefix>-`` followed by random lowercase hex, e.g. ``att-3f2a9c01b7de``."""
    return f"{prefix}-{secrets.token_hex(hex_chars // 2)}"
