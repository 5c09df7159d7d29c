import CoexCommands

ReportCommand.main()
