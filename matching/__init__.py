"""Orders, needs, ordering campaigns, recommendations and seat allocation."""
