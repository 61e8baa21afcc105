"""Command-line tools built on trunkline: range tasks and dependency views."""
