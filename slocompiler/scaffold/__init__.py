"""Files `slocompiler init` writes into a new repository (package data)."""
