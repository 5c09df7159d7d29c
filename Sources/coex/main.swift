import CoexCommands

CoexCommand.dispatch(Array(CommandLine.arguments.dropFirst()))
