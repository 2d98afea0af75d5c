from profilage.cli import main

main()
