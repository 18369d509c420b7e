"""Analytics service: listening history, statistics, interaction aggregates, follows."""
