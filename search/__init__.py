"""Chinese full-text search over the catalog: one interface, database or Elasticsearch."""
