"""trud."""
