from servio.cli import main

main()
