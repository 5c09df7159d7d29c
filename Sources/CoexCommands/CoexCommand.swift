import ArgumentParser
import CoexIO
import CoexCLI
import CoexEngine

/// `coex`: `coex import ...`, or any stage by name (`coex dedupe ...` is `coex-dedupe ...`).
public struct CoexCommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "coex",
        abstract: "Coexistence webhook captures to per-business SQLite databases and archives.",
        discussion: """
            coex import CAPTURES... --out-dir DIR --rejects FILE   (see coex import --help)
            coex capture --dir CAPTURES ...   receive webhooks (see coex capture --help)
            coex STAGE ARGS...   runs a stage exactly as its executable coex-STAGE does;
            STAGE is one of: \(stages.map(\.name).joined(separator: ", ")).
            coex help STAGE      that stage's help.

            EXIT STATUS
              0   success; 1 the command failed; 64 usage error (each command's
              --help says more)
            """,
        version: coexVersion,
        subcommands: [ImportCommand.self])

    static let stages: [(name: String, command: any ParsableCommand.Type)] = [
        ("validate", ValidateCommand.self), ("normalize", NormalizeCommand.self),
        ("dedupe", DedupeCommand.self), ("order", OrderCommand.self), ("apply", ApplyCommand.self),
        ("load", LoadCommand.self), ("export", ExportCommand.self), ("report", ReportCommand.self),
    ]

    /// Runs the stage named by the first argument, else `coex` itself.
    public static func dispatch(_ arguments: [String]) {
        // ArgumentParser's own `help` knows only `import`: a stage's help is its executable's.
        if arguments.first == "help", arguments.count >= 2,
           let stage = stages.first(where: { $0.name == arguments[1] || "coex-\($0.name)" == arguments[1] }) {
            stage.command.main(["--help"])
        }
        if let first = arguments.first, let stage = stages.first(where: { $0.name == first || "coex-\($0.name)" == first }) {
            stage.command.main(Array(arguments.dropFirst()))
        } else {
            main(arguments)
        }
    }
}
