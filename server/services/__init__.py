"""Application services: what handlers call. They compose sync/, storage and side effects."""
