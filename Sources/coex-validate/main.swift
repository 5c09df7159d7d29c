import CoexCommands

ValidateCommand.main()
