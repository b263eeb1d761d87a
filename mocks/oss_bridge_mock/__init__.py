"""The national systems (OSS and SP4N-LAPOR!) in a box, for development and tests."""
