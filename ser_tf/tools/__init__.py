"""Command-line tools that wrap library functions (each one a thin ``argparse`` front)."""
