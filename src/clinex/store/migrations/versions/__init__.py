"""One module per schema revision; a released revision is never edited."""
