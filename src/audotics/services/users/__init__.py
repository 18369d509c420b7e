"""User service: accounts, authentication, API keys, profile, personal-data export and deletion."""
