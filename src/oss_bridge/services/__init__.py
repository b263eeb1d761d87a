"""Use cases of the bridge; pure decisions live in plain functions over domain models."""
