import CoexCommands

DedupeCommand.main()
