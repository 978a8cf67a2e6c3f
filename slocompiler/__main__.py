from slocompiler.cli import main

main()
