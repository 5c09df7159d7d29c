import CoexCommands

ExportCommand.main()
