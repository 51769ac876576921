from accueil.cli import main

main()
