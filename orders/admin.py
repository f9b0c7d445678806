"""Orders admin: registered with the app's models."""
