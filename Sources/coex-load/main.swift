import CoexCommands

LoadCommand.main()
