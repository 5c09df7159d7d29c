import CoexCommands

OrderCommand.main()
