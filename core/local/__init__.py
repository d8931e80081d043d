"""What is already on disk: downloads and holdings found from their manifests."""
