import CoexCommands

NormalizeCommand.main()
