"""pydantic v2 models for every payload in and out, one module per feature."""
