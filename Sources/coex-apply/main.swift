import CoexCommands

ApplyCommand.main()
