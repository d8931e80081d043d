"""The British National Grid and areas chosen on it (pure Python)."""
