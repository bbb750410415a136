"""Public views, one module per area (pages, 请求精读, health)."""
