from hotpapers.cli.app import main

main()
