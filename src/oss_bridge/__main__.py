"""`python -m oss_bridge` is the same as the `oss-bridge` command."""

from oss_bridge.cli import main

main()
