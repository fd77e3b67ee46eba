"""Sub-commands that the api package contributes to ``somatrace``."""
