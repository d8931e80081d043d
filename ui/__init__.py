"""Widgets: the dock, its tabs and the settings page. No HTTP and no file work here."""
