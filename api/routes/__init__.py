"""HTTP routers, one per resource; each stays thin and leaves rules to services and SQL."""
