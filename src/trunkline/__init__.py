"""trunkline: a Luigi-compatible workflow engine."""
