from clinex.cli.app import main

main()
