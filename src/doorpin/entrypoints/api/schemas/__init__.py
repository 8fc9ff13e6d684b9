"""Request and response bodies of the public API (the OpenAPI document is built from these)."""
