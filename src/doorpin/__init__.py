"""doorpin: door PINs for stays."""

__version__ = "0.1.0"
