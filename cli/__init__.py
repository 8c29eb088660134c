"""Terminal output of the command-line entry points (`main.py`)."""
