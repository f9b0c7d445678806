"""Returns admin: registered with the app's models."""
