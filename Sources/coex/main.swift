import CoexCaptureCommand
import CoexCommands

// `coex capture` lives in its own module so that only `coex` links the HTTP server.
let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "capture" {
    await CaptureCommand.run(arguments: Array(arguments.dropFirst()))
} else if arguments.first == "help", arguments.dropFirst().first == "capture" {
    await CaptureCommand.run(arguments: ["--help"])
} else {
    CoexCommand.dispatch(arguments)
}
